// ProfilerService::GetGoroutines: a goroutine dump of each selected process,
// read with process_vm_readv while it runs (golang/goroutines/).
#include <time.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/api/profiler_service.h"
#include "golang/goroutines/dump_proto.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/goroutines_stream.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {
namespace {

// Go's nanotime is CLOCK_MONOTONIC, the same in every process of the host.
int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

grpc::Status ProfilerService::GetGoroutines(
    grpc::ServerContext* context, const gspy::v1::GetGoroutinesRequest* request,
    grpc::ServerWriter<gspy::v1::GetGoroutinesResponse>* writer) {
  absl::StatusOr<Admission::PullSlot> slot =
      admission_->AdmitPull(ClientOf(*context));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request->filter(), *admission_);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  if (grpc::Status s = CheckFilter(filter->get()); !s.ok()) return s;
  absl::StatusOr<TargetSelector> selector =
      ParseSelector(request->selector(), *admission_);
  if (!selector.ok()) return ToGrpcStatus(selector.status());
  absl::StatusOr<std::vector<GoProcess>> procs =
      selector->Resolve(*processes_, "dump");
  if (!procs.ok()) return ToGrpcStatus(procs.status());

  const bool pprof = request->format() == gspy::v1::GOROUTINES_FORMAT_PPROF;
  auto emit = [writer](const gspy::v1::GetGoroutinesResponse& m) {
    return writer->Write(m);
  };
  DumpOptions options;
  options.include_system = request->include_system();
  absl::Status first_error;
  // Warnings about processes that could not be read wait for one that
  // could: when none could, the call fails with the first error instead.
  gspy::v1::GetGoroutinesResponse unread;
  bool any_dumped = false;
  // PPROF: the profile needs every process's goroutines; each is sent
  // without them.
  std::vector<gspy::v1::ProcessGoroutines> for_pprof;
  // What this call has built so far, against max_goroutine_dump_bytes.
  const int64_t max_bytes = admission_->limits().max_goroutine_dump_bytes;
  int64_t bytes = 0;
  for (const GoProcess& proc : *procs) {
    if (context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
    }
    ProcessMemory memory(proc.pid);
    options.now_monotonic_ns = MonotonicNanos();
    const absl::Time start = absl::Now();
    absl::StatusOr<GoroutineDump> dump =
        TakeGoroutineDump(*proc.binary, memory, proc.load_bias, options);
    const absl::Duration took = absl::Now() - start;
    if (!dump.ok()) {
      if (first_error.ok()) first_error = dump.status();
      unread.add_warnings(
          absl::StrCat("pid ", proc.pid, ": ", dump.status().message()));
      continue;
    }
    any_dumped = true;
    if (unread.warnings_size() > 0) {
      if (!writer->Write(unread)) break;
      unread.Clear();
    }
    gspy::v1::ProcessGoroutines out;
    out.set_pid(proc.pid);
    DumpProtoOptions to_proto;
    to_proto.filter = filter->get();
    // The profile is built here: nothing to repeat on the wire.
    to_proto.shared_label_sets = pprof || request->shared_label_sets();
    to_proto.max_bytes = max_bytes - bytes;
    if (!DumpToProto(*dump, *proc.binary, proc.load_bias, to_proto, &out)) {
      admission_->CountRefusal(Refusal::kGoroutineDumpBytes);
      return grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("the goroutine dump exceeds the limit of "
                       "--max-goroutine-dump-bytes=",
                       max_bytes, " at pid ", proc.pid, " (",
                       dump->goroutines.size(),
                       " goroutines): select fewer processes or goroutines "
                       "(--filter)"));
    }
    // Before anything is sent or goes into the PPROF format's profile.
    redactor_->RedactGoroutines(&out);
    bytes += static_cast<int64_t>(out.ByteSizeLong());
    out.set_dump_nanos(absl::ToInt64Nanoseconds(took));
    if (pprof) {
      // The goroutines stay for the profile; `out` keeps the rest, without
      // copying them.
      gspy::v1::ProcessGoroutines& kept =
          for_pprof.emplace_back(std::move(out));
      google::protobuf::RepeatedPtrField<gspy::v1::Goroutine> goroutines;
      google::protobuf::RepeatedPtrField<gspy::v1::LabelSet> sets;
      goroutines.Swap(kept.mutable_goroutines());
      sets.Swap(kept.mutable_label_sets());
      out = kept;
      goroutines.Swap(kept.mutable_goroutines());
      sets.Swap(kept.mutable_label_sets());
    }
    if (!EmitProcessParts(std::move(out), kGoroutinesPartBytes, emit)) break;
  }
  if (!any_dumped && !first_error.ok()) return ToGrpcStatus(first_error);
  if (unread.warnings_size() > 0) writer->Write(unread);
  if (pprof) {
    std::vector<const gspy::v1::ProcessGoroutines*> dumped;
    for (const gspy::v1::ProcessGoroutines& p : for_pprof) dumped.push_back(&p);
    EmitPprofPieces(GoroutinesPprof(dumped, absl::ToUnixNanos(absl::Now())),
                    kGoroutinesPartBytes, emit);
  }
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
  }
  return grpc::Status::OK;
}

}  // namespace gspy
