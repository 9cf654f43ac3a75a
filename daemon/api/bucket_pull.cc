// Heap, mutex and runtime block pulls: the profiles the Go runtime keeps
// itself in its buckets (golang/profiles), read from each selected process
// with process_vm_readv, no probe attached. A duration turns a snapshot
// into the difference between two reads, one at each end of the window.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/api/profiler_service.h"
#include "golang/goroutines/memory_source.h"
#include "golang/profiles/contention_profile.h"
#include "golang/profiles/heap_profile.h"
#include "profile/pprof/profile_builder.h"
#include "profile/pprof/profile_merge.h"

namespace gspy {
namespace {

// One process's reader and its first read.
struct BucketTarget {
  GoProcess proc;
  std::unique_ptr<HeapReader> heap;
  std::unique_ptr<ContentionReader> contention;
  absl::StatusOr<HeapSnapshot> heap_before = absl::UnknownError("unread");
  absl::StatusOr<ContentionSnapshot> contention_before =
      absl::UnknownError("unread");
};

absl::Status Open(BucketTarget* t, gspy::v1::ProfileType type) {
  ProcessMemory memory(t->proc.pid);
  if (type == gspy::v1::PROFILE_TYPE_HEAP) {
    absl::StatusOr<std::unique_ptr<HeapReader>> r =
        HeapReader::Open(*t->proc.binary, memory, t->proc.load_bias);
    if (!r.ok()) return r.status();
    t->heap = *std::move(r);
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<ContentionReader>> r = ContentionReader::Open(
      *t->proc.binary, memory, t->proc.load_bias,
      type == gspy::v1::PROFILE_TYPE_MUTEX ? ContentionKind::kMutex
                                           : ContentionKind::kBlock);
  if (!r.ok()) return r.status();
  t->contention = *std::move(r);
  return absl::OkStatus();
}

// The process's pprof: the snapshot now, or the window's difference.
absl::StatusOr<std::string> ReadPprof(BucketTarget& t, absl::Duration window,
                                      const BucketPprofOptions& options) {
  ProcessMemory memory(t.proc.pid);
  if (t.heap != nullptr) {
    absl::StatusOr<HeapSnapshot> now = t.heap->Read(memory);
    if (!now.ok()) return now.status();
    if (window <= absl::ZeroDuration()) {
      return HeapPprof(t.proc, *now, absl::ZeroDuration(), options);
    }
    if (!t.heap_before.ok()) return t.heap_before.status();
    return HeapPprof(t.proc, HeapDelta(*t.heap_before, *now), window, options);
  }
  absl::StatusOr<ContentionSnapshot> now = t.contention->Read(memory);
  if (!now.ok()) return now.status();
  if (window <= absl::ZeroDuration()) {
    return ContentionPprof(t.proc, *now, absl::ZeroDuration(), options);
  }
  if (!t.contention_before.ok()) return t.contention_before.status();
  return ContentionPprof(t.proc, ContentionDelta(*t.contention_before, *now),
                         window, options);
}

}  // namespace

grpc::Status ProfilerService::PullBuckets(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest& request,
    gspy::v1::GetProfileResponse* response) {
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request.filter(), *admission_);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  if (grpc::Status s = CheckFilter(filter->get()); !s.ok()) return s;
  if (request.kernel_stacks() || request.goroutine_ids() || request.exact()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "kernel_stacks, goroutine_ids and exact do not apply "
                        "to a profile read from the runtime's buckets");
  }
  // The window is optional here: none is the profile since the start.
  absl::Duration window = absl::ZeroDuration();
  if (request.has_duration()) {
    absl::StatusOr<absl::Duration> d =
        CheckDuration(request.duration(), options_.max_duration);
    if (!d.ok()) return ToGrpcStatus(d.status());
    window = *d;
  }
  absl::StatusOr<TargetSelector> selector =
      ParseSelector(request.selector(), *admission_);
  if (!selector.ok()) return ToGrpcStatus(selector.status());
  absl::StatusOr<std::vector<GoProcess>> procs =
      selector->Resolve(*processes_, "profile");
  if (!procs.ok()) return ToGrpcStatus(procs.status());

  std::vector<BucketTarget> targets;
  std::vector<std::string> warnings;
  absl::Status first_error;
  for (GoProcess& p : *procs) {
    BucketTarget t;
    t.proc = std::move(p);
    if (absl::Status s = Open(&t, request.type()); !s.ok()) {
      warnings.push_back(absl::StrCat("pid ", t.proc.pid, ": ", s.message()));
      if (first_error.ok()) first_error = s;
      continue;
    }
    if (window > absl::ZeroDuration()) {
      ProcessMemory memory(t.proc.pid);
      if (t.heap != nullptr) {
        t.heap_before = t.heap->Read(memory);
      } else {
        t.contention_before = t.contention->Read(memory);
      }
    }
    targets.push_back(std::move(t));
  }
  if (targets.empty()) return ToGrpcStatus(first_error);
  const absl::Time deadline = absl::Now() + window;
  while (absl::Now() < deadline) {
    if (context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "the client cancelled the pull");
    }
    absl::SleepFor(std::min(absl::Milliseconds(100), deadline - absl::Now()));
  }
  std::vector<perftools::profiles::Profile> profiles;
  std::string out;  // the one process's pprof as built
  int64_t samples = 0;
  for (BucketTarget& t : targets) {
    BucketPprofOptions options;
    options.filter = filter->get();
    options.filter_text = request.filter();
    options.labels.assign(t.proc.metadata.labels.begin(),
                          t.proc.metadata.labels.end());
    options.pid_label = true;
    absl::StatusOr<std::string> pprof = ReadPprof(t, window, options);
    if (!pprof.ok()) {
      warnings.push_back(
          absl::StrCat("pid ", t.proc.pid, ": ", pprof.status().message()));
      if (first_error.ok()) first_error = pprof.status();
      continue;
    }
    absl::StatusOr<perftools::profiles::Profile> decoded =
        DecodeProfile(*pprof);
    if (!decoded.ok()) return ToGrpcStatus(decoded.status());
    samples += decoded->sample_size();
    profiles.push_back(*std::move(decoded));
    out = *std::move(pprof);
  }
  if (profiles.empty()) return ToGrpcStatus(first_error);
  if (profiles.size() > 1) {
    // Samples stay apart by their "pid" label.
    absl::StatusOr<perftools::profiles::Profile> merged =
        MergeProfiles(profiles);
    if (!merged.ok()) return ToGrpcStatus(merged.status());
    out = GzipCompress(merged->SerializeAsString());
  }
  if (grpc::Status s = SetPprof(std::move(out), response); !s.ok()) return s;
  response->set_samples(samples);
  response->set_sampling_ratio(1);
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
