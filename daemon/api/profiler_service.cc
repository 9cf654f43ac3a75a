#include "daemon/api/profiler_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/version.h"
#include "daemon/api/pull_window.h"
#include "daemon/sources/kernel/subscription.h"
#include "golang/goroutines/memory_source.h"
#include "golang/profiles/heap_profile.h"

namespace gspy {

ProfilerService::ProfilerService(ProfilerServiceOptions options,
                                 ProcessTable* processes,
                                 SessionRegistry* sessions,
                                 BlockTracker* block_tracker,
                                 Admission* admission)
    : options_(options),
      processes_(processes),
      sessions_(sessions),
      block_tracker_(block_tracker),
      admission_(admission) {}

grpc::Status ProfilerService::GetVersion(
    grpc::ServerContext*, const gspy::v1::GetVersionRequest*,
    gspy::v1::GetVersionResponse* response) {
  response->set_version(kGspyVersion);
  // The API version is the proto package: the .proto file is its one place.
  response->set_api_version(
      gspy::v1::GetVersionResponse::descriptor()->file()->package());
  return grpc::Status::OK;
}

grpc::Status ProfilerService::ListTargets(
    grpc::ServerContext*, const gspy::v1::ListTargetsRequest*,
    gspy::v1::ListTargetsResponse* response) {
  std::vector<ProcessProblem> problems;
  for (const GoProcess& proc : processes_->ListGoProcesses(&problems)) {
    gspy::v1::Target* t = response->add_targets();
    t->set_pid(proc.pid);
    t->set_exe(proc.exe_path);
    t->set_comm(proc.comm);
    t->set_go_version(proc.binary->build_info().go_version);
    t->set_module_path(proc.binary->build_info().module_path);
    if (gc_tracker_ != nullptr && gc_tracker_->Watching(proc.pid)) {
      t->add_probes(gspy::v1::PROBES_GC);
    }
    if (block_tracker_->Attached(proc.pid)) {
      t->add_probes(gspy::v1::PROBES_BLOCK);
    }
    // Not a probe: a sampled pull reads its goroutines now.
    if (sampled_tracker_ != nullptr && sampled_tracker_->Attached(proc.pid)) {
      t->add_probes(gspy::v1::PROBES_SAMPLED);
    }
    std::vector<std::pair<std::string, std::string>> metadata(
        proc.metadata.labels.begin(), proc.metadata.labels.end());
    redactor_->RedactLabelPairs(&metadata);
    for (auto& [k, v] : metadata) (*t->mutable_metadata())[k] = std::move(v);
    // Reads a few words of the process (and decodes a few runtime
    // functions when the binary is stripped); never writes.
    if (absl::Status heap = HeapProfileAvailable(
            *proc.binary, ProcessMemory(proc.pid), proc.load_bias);
        !heap.ok()) {
      t->set_heap_profile_unavailable(std::string(heap.message()));
    }
  }
  for (const ProcessProblem& p : problems) {
    gspy::v1::Target* t = response->add_targets();
    t->set_pid(p.pid);
    t->set_exe(p.exe_path);
    t->set_unsupported_reason(std::string(p.status.message()));
  }
  return grpc::Status::OK;
}

const KernelSymbols& ProfilerService::kernel_symbols() {
  absl::call_once(kernel_once_, [this] {
    kernel_ = std::make_unique<KernelSymbols>(KernelSymbols::Load());
  });
  return *kernel_;
}

grpc::Status ProfilerService::CheckFilter(const SampleFilter* filter) const {
  return ToGrpcStatus(redactor_->CheckFilter(filter));
}

grpc::Status ProfilerService::SetPprof(
    std::string pprof, gspy::v1::GetProfileResponse* response) const {
  absl::StatusOr<std::string> redacted =
      redactor_->RedactPprof(std::move(pprof));
  if (!redacted.ok())
    return ToGrpcStatus(absl::InternalError(redacted.status().message()));
  response->set_pprof(*std::move(redacted));
  return grpc::Status::OK;
}

grpc::Status ProfilerService::GetProfile(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest* request,
    gspy::v1::GetProfileResponse* response) {
  return Pull(context, *request, response, nullptr);
}

grpc::Status ProfilerService::PullProfile(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest* request,
    grpc::ServerWriter<gspy::v1::PullProfileMessage>* writer) {
  gspy::v1::PullProfileMessage message;
  // A failed write means the client left; the window sees the cancellation.
  grpc::Status s = Pull(
      context, *request, message.mutable_result(),
      [writer](absl::Duration elapsed, int64_t samples) {
        gspy::v1::PullProfileMessage progress;
        gspy::v1::PullProgress* p = progress.mutable_progress();
        const absl::Duration whole = absl::Trunc(elapsed, absl::Seconds(1));
        p->mutable_elapsed()->set_seconds(absl::ToInt64Seconds(whole));
        p->mutable_elapsed()->set_nanos(
            static_cast<int32_t>(absl::ToInt64Nanoseconds(elapsed - whole)));
        p->set_samples(samples);
        writer->Write(progress);
      });
  if (!s.ok()) return s;
  writer->Write(message);
  return grpc::Status::OK;
}

grpc::Status ProfilerService::Pull(grpc::ServerContext* context,
                                   const gspy::v1::GetProfileRequest& request,
                                   gspy::v1::GetProfileResponse* response,
                                   const PullProgressFn& progress) {
  absl::StatusOr<Admission::PullSlot> slot =
      admission_->AdmitPull(ClientOf(*context));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  switch (request.type()) {
    case gspy::v1::PROFILE_TYPE_CPU:
      return PullCpu(context, request, response, progress);
    case gspy::v1::PROFILE_TYPE_BLOCK:
    case gspy::v1::PROFILE_TYPE_SCHED_LATENCY:
      return PullBlock(context, request, response, progress);
    case gspy::v1::PROFILE_TYPE_WALL:
      return PullWall(context, request, response, progress);
    case gspy::v1::PROFILE_TYPE_HEAP:
    case gspy::v1::PROFILE_TYPE_MUTEX:
    case gspy::v1::PROFILE_TYPE_RUNTIME_BLOCK:
      return PullBuckets(context, request, response);
    default:
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "profile type must be PROFILE_TYPE_CPU, PROFILE_TYPE_BLOCK, "
          "PROFILE_TYPE_SCHED_LATENCY, PROFILE_TYPE_WALL, PROFILE_TYPE_HEAP, "
          "PROFILE_TYPE_MUTEX or PROFILE_TYPE_RUNTIME_BLOCK");
  }
}

grpc::Status ProfilerService::PullCpu(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest& request,
    gspy::v1::GetProfileResponse* response, const PullProgressFn& progress) {
  absl::StatusOr<CheckedPull> pull = CheckPullRequest(
      *processes_, request, options_.max_duration, *admission_);
  if (!pull.ok()) return ToGrpcStatus(pull.status());
  if (grpc::Status s = CheckFilter(pull->filter.get()); !s.ok()) return s;

  CpuProfileOptions options;
  options.label_keys.assign(request.label_keys().begin(),
                            request.label_keys().end());
  options.goroutine_ids = request.goroutine_ids();
  options.kernel_stacks = request.kernel_stacks();
  options.period_ns = options_.period_ns;
  options.max_stacks = options_.max_stacks_per_profile;
  options.filter = pull->filter;
  options.filter_text = request.filter();
  auto profile = std::make_shared<CpuProfile>(options);

  const SamplerCounters counters_before = sessions_->counters();
  Subscriptions subscriptions;  // end before `profile`
  std::vector<std::string> warnings;
  absl::StatusOr<PullWindowResult> window =
      RunPull(context, processes_, pull->targets.selector,
              std::move(pull->targets.processes), pull->targets.duration,
              options_.rescan_interval,
              {.attach =
                   [&](const GoProcess& proc) {
                     profile->AddProcess(proc);
                     return subscriptions.Add(sessions_->Subscribe(
                         proc, profile, options.kernel_stacks));
                   },
               .has_process = [&](int pid) { return profile->HasProcess(pid); },
               .detach = [&] { subscriptions.Clear(); },
               .samples = [&] { return profile->sample_count(); },
               .progress = progress},
              &warnings);
  if (!window.ok()) return ToGrpcStatus(window.status());

  // The ring buffer is shared by all pulls: a loss during this pull may be
  // another pull's sample, so it is reported as an upper bound.
  const SamplerCounters counters_after = sessions_->counters();
  const uint64_t ring_lost =
      counters_after.ringbuf_full - counters_before.ringbuf_full;
  if (ring_lost > 0) {
    warnings.push_back(
        absl::StrCat("up to ", ring_lost,
                     " samples were lost because the ring buffer was full"));
  }
  const KernelSymbols* kernel =
      options.kernel_stacks ? &kernel_symbols() : nullptr;
  if (grpc::Status s = SetPprof(
          profile->BuildPprof(window->start, window->end - window->start,
                              kernel, &warnings),
          response);
      !s.ok()) {
    return s;
  }
  response->set_samples(profile->sample_count());
  response->set_lost_samples(profile->dropped_count() +
                             static_cast<int64_t>(ring_lost));
  response->set_sampling_ratio(1);
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
