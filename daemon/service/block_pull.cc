// ProfilerService's block and sched-latency pulls: a BlockProfile fed by the
// BlockTracker for the pull's window.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/aggregator/block_profile.h"
#include "daemon/service/block_profile_sink.h"
#include "daemon/service/profiler_service.h"
#include "daemon/service/pull_window.h"

namespace gspy {

grpc::Status ProfilerService::PullBlock(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest& request,
    gspy::v1::GetProfileResponse* response) {
  if (request.kernel_stacks()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "kernel stacks are only for CPU profiles: a waiting "
                        "goroutine is parked in user space");
  }
  absl::StatusOr<CheckedTargets> targets = CheckTargetsRequest(
      *processes_, request.selector(), request.duration_seconds(),
      request.duration_nanos(), options_.max_duration, "profile");
  if (!targets.ok()) return ToGrpcStatus(targets.status());
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request.filter());
  if (!filter.ok()) return ToGrpcStatus(filter.status());

  BlockProfileOptions options;
  options.metric = request.type() == gspy::v1::PROFILE_TYPE_SCHED_LATENCY
                       ? BlockMetric::kSchedDelay
                       : BlockMetric::kBlockDelay;
  options.label_keys.assign(request.label_keys().begin(),
                            request.label_keys().end());
  options.goroutine_ids = request.goroutine_ids();
  options.max_stacks = options_.max_stacks_per_profile;
  options.filter = *std::move(filter);
  options.filter_text = request.filter();
  BlockProfile profile(options);
  BlockProfileSink sink({&profile});

  auto attach = [&](GoProcess proc) {
    GoProcess copy = proc;
    profile.AddProcess(std::move(proc));
    return block_tracker_->Attach(&sink, copy);
  };
  std::vector<int> pids;
  for (GoProcess& proc : targets->processes) {
    pids.push_back(proc.pid);
    if (absl::Status s = attach(std::move(proc)); !s.ok()) {
      block_tracker_->Detach(&sink);
      return ToGrpcStatus(s);
    }
  }

  std::vector<std::string> warnings;
  const PullWindowResult window = RunPullWindow(
      context,
      {.processes = processes_,
       .selector = &request.selector(),
       .duration = targets->duration,
       .rescan_interval = options_.rescan_interval,
       .pids = std::move(pids),
       .has_process = [&](int pid) { return profile.HasProcess(pid); },
       .attach = attach},
      &warnings);
  const BlockSinkStats stats = block_tracker_->Detach(&sink);
  if (window.cancelled) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
  }
  // The maps and the ring buffer are shared by all pulls: a loss during this
  // one may be another's, so it is reported as an upper bound.
  if (stats.lost > 0) {
    warnings.push_back(absl::StrCat(
        "up to ", stats.lost,
        " waits were lost because the parked map or the ring buffer was full"));
  }
  response->set_pprof(
      profile.BuildPprof(window.start, window.end - window.start, &warnings));
  response->set_samples(profile.wait_count());
  response->set_lost_samples(profile.dropped_count() +
                             static_cast<int64_t>(stats.lost));
  response->set_sampling_ratio(profile.sampling_ratio());
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
