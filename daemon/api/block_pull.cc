// ProfilerService's block and sched-latency pulls: a BlockProfile fed for
// the pull's window by the SampledTracker (sampled, the default) or by the
// BlockTracker (exact).
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

std::string ExactModeComment() {
  return "mode: exact: block uprobes on every park, wake-up and run (each "
         "park traps into the kernel); count is the number of waits";
}

std::string SampledModeComment(const SampledSinkStats& stats,
                               const SampledTrackerOptions& options) {
  const absl::Duration mean = stats.mean_interval();
  const double hz =
      mean > absl::ZeroDuration() ? 1 / absl::ToDoubleSeconds(mean) : 0;
  const double cpu_share =
      stats.covered_ns > 0
          ? static_cast<double>(stats.cpu_ns) / stats.covered_ns
          : 0;
  return absl::StrFormat(
      "mode: sampled: goroutine states read from outside every %s on "
      "average (%.1f Hz, %d sweeps; no probes), within a CPU budget of "
      "%.2f%% of a core per process (interval %s..%s, +-%.0f%% jitter; "
      "used %.3f%%). delay: each sweep charges every goroutine seen in the "
      "state with the time since the previous sweep. count: distinct waits "
      "observed, not all waits: a wait seen by several sweeps counts once, "
      "one that began and ended between two sweeps is not seen, and "
      "back-to-back waits at the same place with no sweep in between count "
      "once",
      absl::FormatDuration(absl::Trunc(mean, absl::Microseconds(10))), hz,
      stats.sweeps, options.budget.cpu_fraction * 100,
      absl::FormatDuration(options.budget.min_interval),
      absl::FormatDuration(options.budget.max_interval), options.jitter * 100,
      cpu_share * 100);
}

PullWaits::PullWaits(BlockTracker* exact, SampledTracker* sampled,
                     std::vector<BlockProfile*> profiles, bool every_wait)
    : exact_(exact),
      sampled_(sampled),
      profiles_(profiles),
      exact_sink_(profiles, every_wait),
      sampled_sink_(profiles) {}

absl::Status PullWaits::Attach(const GoProcess& proc) {
  for (BlockProfile* p : profiles_) p->AddProcess(proc);
  if (sampled_ != nullptr) {
    absl::Status s =
        subscriptions_.Add(sampled_->Subscribe(proc, &sampled_sink_));
    if (s.ok()) ++attached_;
    return s;
  }
  return subscriptions_.Add(exact_->Subscribe(proc, &exact_sink_));
}

void PullWaits::Detach() {
  if (sampled_ != nullptr) {
    sampled_stats_ = sampled_->EndStats(&sampled_sink_);
  } else {
    exact_stats_ = exact_->EndStats(&exact_sink_);
  }
  subscriptions_.Clear();
}

void PullWaits::Finish(std::vector<std::string>* warnings) {
  if (sampled_ == nullptr) {
    WarnLostWaits(exact_stats_, warnings);
    for (BlockProfile* p : profiles_) p->SetMode(ExactModeComment());
    return;
  }
  const std::string mode =
      SampledModeComment(sampled_stats_, sampled_->options());
  for (BlockProfile* p : profiles_) p->SetMode(mode, interval_ns());
  // The budget spaces the sweeps of a process with many goroutines by
  // seconds: a short pull of it gets few, and the user should know.
  constexpr int64_t kFewSweeps = 10;
  if (attached_ > 0 && sampled_stats_.sweeps < kFewSweeps * attached_) {
    warnings->push_back(absl::StrFormat(
        "only %d sweeps of the goroutines%s, one every %s on average, as "
        "the CPU budget of %.2f%% of a core per process allows: waits "
        "shorter than that are mostly missed and counts are low; pull for "
        "longer, or raise gspyd's --sampled-cpu-budget",
        sampled_stats_.sweeps,
        attached_ > 1 ? absl::StrCat(" of ", attached_, " processes") : "",
        absl::FormatDuration(
            absl::Trunc(sampled_stats_.mean_interval(), absl::Milliseconds(1))),
        sampled_->options().budget.cpu_fraction * 100));
  }
  if (sampled_stats_.torn_dropped > 0) {
    warnings->push_back(absl::StrCat(
        sampled_stats_.torn_dropped,
        " goroutines ran while their new stack was read and were left out "
        "of that sweep"));
  }
  if (sampled_stats_.labels_over_budget > 0) {
    warnings->push_back(absl::StrCat(
        sampled_stats_.labels_over_budget,
        " new waits did not fit the sampler's label budget and are charged "
        "without their labels"));
  }
}

int64_t PullWaits::lost() const {
  return sampled_ != nullptr ? sampled_stats_.torn_dropped
                             : static_cast<int64_t>(exact_stats_.lost);
}

int64_t PullWaits::interval_ns() const {
  return sampled_ != nullptr
             ? absl::ToInt64Nanoseconds(sampled_stats_.mean_interval())
             : 0;
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
    gspy::v1::GetProfileResponse* response, const PullProgressFn& progress) {
  if (request.kernel_stacks()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "kernel stacks are only for CPU profiles: a waiting "
                        "goroutine is parked in user space");
  }
  absl::StatusOr<CheckedPull> pull = CheckPullRequest(
      *processes_, request, options_.max_duration, *admission_);
  if (!pull.ok()) return ToGrpcStatus(pull.status());
  if (grpc::Status s = CheckFilter(pull->filter.get()); !s.ok()) return s;

  BlockProfileOptions options =
      BlockOptionsFor(request, *pull, options_.max_stacks_per_profile);
  options.metric = request.type() == gspy::v1::PROFILE_TYPE_SCHED_LATENCY
                       ? BlockMetric::kSchedDelay
                       : BlockMetric::kBlockDelay;
  BlockProfile profile(options);
  PullWaits waits(block_tracker_, request.exact() ? nullptr : sampled_tracker_,
                  {&profile}, /*every_wait=*/false);
  std::vector<std::string> warnings;
  absl::StatusOr<PullWindowResult> window = RunPull(
      context, processes_, pull->targets.selector,
      std::move(pull->targets.processes), pull->targets.duration,
      options_.rescan_interval,
      {.attach = [&](const GoProcess& proc) { return waits.Attach(proc); },
       .has_process = [&](int pid) { return profile.HasProcess(pid); },
       .detach = [&] { waits.Detach(); },
       .samples = [&] { return profile.wait_count(); },
       .progress = progress},
      &warnings);
  if (!window.ok()) return ToGrpcStatus(window.status());
  waits.Finish(&warnings);
  if (grpc::Status s =
          SetPprof(profile.BuildPprof(window->start,
                                      window->end - window->start, &warnings),
                   response);
      !s.ok()) {
    return s;
  }
  response->set_samples(profile.wait_count());
  response->set_lost_samples(profile.dropped_count() + waits.lost());
  response->set_sampling_ratio(profile.sampling_ratio());
  response->set_sample_interval_nanos(waits.interval_ns());
  for (std::string& w : warnings) response->add_warnings(std::move(w));
  return grpc::Status::OK;
}

}  // namespace gspy
