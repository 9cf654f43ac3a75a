// ProfilerService's wall-clock pull: a CPU profile (running goroutines, with
// the stacks the perf samples give) and the waiting and runnable time of the
// others over the same window, from sweeps of their states (sampled, the
// default) or the block probes (exact), turned into one profile of where
// every goroutine spent its time, by state.
#include <time.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/aggregation/block_profile.h"
#include "daemon/aggregation/cpu_profile.h"
#include "daemon/aggregation/wall_parts.h"
#include "daemon/api/block_profile_sink.h"
#include "daemon/api/profiler_service.h"
#include "daemon/api/pull_window.h"
#include "daemon/sources/kernel/subscription.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns's clock
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

grpc::Status ProfilerService::PullWall(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest& request,
    gspy::v1::GetProfileResponse* response, const PullProgressFn& progress) {
  if (request.kernel_stacks()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "kernel stacks are only for CPU profiles");
  }
  absl::StatusOr<CheckedPull> pull = CheckPullRequest(
      *processes_, request, options_.max_duration, *admission_);
  if (!pull.ok()) return ToGrpcStatus(pull.status());
  if (grpc::Status s = CheckFilter(pull->filter.get()); !s.ok()) return s;

  BlockProfileOptions block_options =
      BlockOptionsFor(request, *pull, options_.max_stacks_per_profile);
  block_options.window_start_ns = MonotonicNs();
  BlockProfile waiting(block_options);
  block_options.metric = BlockMetric::kSchedDelay;
  BlockProfile runnable(block_options);
  // Exact: wall pulls add up each goroutine's time, so the probes stay
  // attached (no trap duty cycle) while they run.
  PullWaits waits(block_tracker_, request.exact() ? nullptr : sampled_tracker_,
                  {&waiting, &runnable}, /*every_wait=*/true);

  CpuProfileOptions cpu_options;
  cpu_options.label_keys = block_options.label_keys;
  cpu_options.goroutine_ids = block_options.goroutine_ids;
  cpu_options.period_ns = options_.period_ns;
  cpu_options.max_stacks = block_options.max_stacks;
  cpu_options.filter = pull->filter;
  cpu_options.filter_text = request.filter();
  auto cpu = std::make_shared<CpuProfile>(cpu_options);

  Subscriptions subscriptions;  // end before `cpu`
  std::vector<std::string> warnings;
  absl::StatusOr<PullWindowResult> window = RunPull(
      context, processes_, pull->targets.selector,
      std::move(pull->targets.processes), pull->targets.duration,
      options_.rescan_interval,
      {.attach = [&](const GoProcess& proc) -> absl::Status {
         cpu->AddProcess(proc);
         if (absl::Status s =
                 subscriptions.Add(sessions_->Subscribe(proc, cpu, false));
             !s.ok()) {
           return s;
         }
         return waits.Attach(proc);
       },
       .has_process = [&](int pid) { return cpu->HasProcess(pid); },
       .detach =
           [&] {
             waits.Detach();
             subscriptions.Clear();
           },
       .samples = [&] { return cpu->sample_count() + waiting.wait_count(); },
       .progress = progress},
      &warnings);
  if (!window.ok()) return ToGrpcStatus(window.status());
  waits.Finish(&warnings);
  const absl::Duration length = window->end - window->start;
  // In this order, for the order of the warnings.
  const std::string running_part =
      cpu->BuildPprof(window->start, length, nullptr, &warnings);
  const std::string waiting_part =
      waiting.BuildPprof(window->start, length, &warnings);
  absl::StatusOr<perftools::profiles::Profile> wall =
      MergeWallParts(running_part, waiting_part,
                     runnable.BuildPprof(window->start, length, nullptr));
  if (!wall.ok()) return ToGrpcStatus(wall.status());
  redactor_->RedactProfile(&*wall);
  response->set_pprof(GzipCompress(wall->SerializeAsString()));
  response->set_samples(cpu->sample_count() + waiting.wait_count());
  response->set_lost_samples(cpu->dropped_count() + waiting.dropped_count() +
                             waits.lost());
  response->set_sampling_ratio(waiting.sampling_ratio());
  response->set_sample_interval_nanos(waits.interval_ns());
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
