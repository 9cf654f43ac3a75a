// ProfilerService's block and sched-latency pulls: a BlockProfile fed by the
// BlockTracker for the pull's window.
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/aggregation/block_profile.h"
#include "daemon/api/block_profile_sink.h"
#include "daemon/api/profiler_service.h"
#include "daemon/api/pull_window.h"
#include "daemon/sources/kernel/subscription.h"

namespace gspy {

BlockProfileOptions BlockOptionsFor(const gspy::v1::GetProfileRequest& request,
                                    const CheckedPull& pull,
                                    size_t max_stacks) {
  BlockProfileOptions options;
  options.label_keys.assign(request.label_keys().begin(),
                            request.label_keys().end());
  options.goroutine_ids = request.goroutine_ids();
  options.max_stacks = max_stacks;
  options.filter = pull.filter;
  options.filter_text = request.filter();
  return options;
}

void WarnLostWaits(const BlockSinkStats& stats,
                   std::vector<std::string>* warnings) {
  // The maps and the ring buffer are shared by all pulls: a loss during this
  // one may be another's, so it is reported as an upper bound.
  if (stats.lost > 0) {
    warnings->push_back(absl::StrCat(
        "up to ", stats.lost,
        " waits were lost because the parked map or the ring buffer was full"));
  }
  if (stats.trap_windows > 0) {
    warnings->push_back(absl::StrCat(
        "past the daemon's trap budget the probes were attached only in ",
        stats.trap_windows,
        " windows (--block-detach-window) and detached in between; each wait "
        "kept is weighted by period / (window - its length)"));
  }
  if (stats.long_waits_dropped > 0) {
    warnings->push_back(absl::StrCat(
        stats.long_waits_dropped,
        " waits longer than half a window were left out: such waits cannot "
        "be sampled by windows (the profile lacks them)"));
  }
}

grpc::Status ProfilerService::PullBlock(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest& request,
    gspy::v1::GetProfileResponse* response) {
  if (request.kernel_stacks()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "kernel stacks are only for CPU profiles: a waiting "
                        "goroutine is parked in user space");
  }
  absl::StatusOr<CheckedPull> pull =
      CheckPullRequest(*processes_, request, options_.max_duration);
  if (!pull.ok()) return ToGrpcStatus(pull.status());

  BlockProfileOptions options =
      BlockOptionsFor(request, *pull, options_.max_stacks_per_profile);
  options.metric = request.type() == gspy::v1::PROFILE_TYPE_SCHED_LATENCY
                       ? BlockMetric::kSchedDelay
                       : BlockMetric::kBlockDelay;
  BlockProfile profile(options);
  BlockProfileSink sink({&profile});
  BlockSinkStats stats;
  Subscriptions subscriptions;  // end before `sink`
  std::vector<std::string> warnings;
  absl::StatusOr<PullWindowResult> window = RunPull(
      context, processes_, pull->targets.selector,
      std::move(pull->targets.processes), pull->targets.duration,
      options_.rescan_interval,
      {.attach =
           [&](const GoProcess& proc) {
             profile.AddProcess(proc);
             return subscriptions.Add(block_tracker_->Subscribe(proc, &sink));
           },
       .has_process = [&](int pid) { return profile.HasProcess(pid); },
       .detach =
           [&] {
             stats = block_tracker_->EndStats(&sink);
             subscriptions.Clear();
           }},
      &warnings);
  if (!window.ok()) return ToGrpcStatus(window.status());
  WarnLostWaits(stats, &warnings);
  response->set_pprof(profile.BuildPprof(
      window->start, window->end - window->start, &warnings));
  response->set_samples(profile.wait_count());
  response->set_lost_samples(profile.dropped_count() +
                             static_cast<int64_t>(stats.lost));
  response->set_sampling_ratio(profile.sampling_ratio());
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
