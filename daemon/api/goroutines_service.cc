// ProfilerService::GetGoroutines: a goroutine dump of each selected process,
// read with process_vm_readv while it runs (golang/goroutines/).
#include <time.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "golang/goroutines/dump_proto.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/memory_source.h"
#include "daemon/api/profiler_service.h"

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
    grpc::ServerContext*, const gspy::v1::GetGoroutinesRequest* request,
    gspy::v1::GetGoroutinesResponse* response) {
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request->filter());
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  absl::StatusOr<TargetSelector> selector =
      TargetSelector::Parse(request->selector());
  if (!selector.ok()) return ToGrpcStatus(selector.status());
  absl::StatusOr<std::vector<GoProcess>> procs =
      selector->Resolve(*processes_, "dump");
  if (!procs.ok()) return ToGrpcStatus(procs.status());

  DumpOptions options;
  options.include_system = request->include_system();
  absl::Status first_error;
  std::vector<const gspy::v1::ProcessGoroutines*> dumped;
  for (const GoProcess& proc : *procs) {
    ProcessMemory memory(proc.pid);
    options.now_monotonic_ns = MonotonicNanos();
    const absl::Time start = absl::Now();
    absl::StatusOr<GoroutineDump> dump =
        TakeGoroutineDump(*proc.binary, memory, proc.load_bias, options);
    const absl::Duration took = absl::Now() - start;
    if (!dump.ok()) {
      if (first_error.ok()) first_error = dump.status();
      response->add_warnings(
          absl::StrCat("pid ", proc.pid, ": ", dump.status().message()));
      continue;
    }
    gspy::v1::ProcessGoroutines* out = response->add_processes();
    out->set_pid(proc.pid);
    DumpToProto(*dump, *proc.binary, proc.load_bias, filter->get(), out);
    out->set_dump_nanos(absl::ToInt64Nanoseconds(took));
    dumped.push_back(out);
  }
  if (dumped.empty() && !first_error.ok()) return ToGrpcStatus(first_error);
  if (request->format() == gspy::v1::GOROUTINES_FORMAT_PPROF) {
    response->set_pprof(
        GoroutinesPprof(dumped, absl::ToUnixNanos(absl::Now())));
    for (gspy::v1::ProcessGoroutines& p : *response->mutable_processes()) {
      p.clear_goroutines();
    }
  }
  return grpc::Status::OK;
}

}  // namespace gspy
