#include "daemon/api/pull_window.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {

PullWindowResult RunPullWindow(grpc::ServerContext* context,
                               PullWindowSpec spec,
                               std::vector<std::string>* warnings) {
  PullWindowResult result;
  result.start = absl::Now();
  const absl::Time deadline = result.start + spec.duration;
  const bool pids_only = spec.selector->pids_only();
  while (absl::Now() < deadline && !context->IsCancelled()) {
    absl::SleepFor(std::min(spec.rescan_interval, deadline - absl::Now()));
    if (pids_only) {
      bool any_alive = false;
      for (int pid : spec.pids) any_alive |= ProcessRunning(pid);
      if (!any_alive) {
        warnings->push_back(
            absl::StrCat("every selected process exited after ",
                         absl::FormatDuration(absl::Now() - result.start),
                         "; the profile holds what was recorded until then"));
        break;
      }
    } else {
      for (GoProcess& proc :
           spec.selector->NewMatches(*spec.processes, spec.has_process)) {
        spec.pids.push_back(proc.pid);
        if (absl::Status s = spec.attach(std::move(proc)); !s.ok()) {
          warnings->push_back(std::string(s.message()));
        }
      }
    }
    if (spec.tick) spec.tick(absl::Now() - result.start);
  }
  result.end = absl::Now();
  result.cancelled = context->IsCancelled();
  return result;
}

absl::StatusOr<PullWindowResult> RunPull(
    grpc::ServerContext* context, const ProcessTable* processes,
    const TargetSelector& selector, std::vector<GoProcess> targets,
    absl::Duration duration, absl::Duration rescan_interval,
    const PullHooks& hooks, std::vector<std::string>* warnings) {
  std::vector<int> pids;
  for (const GoProcess& proc : targets) {
    pids.push_back(proc.pid);
    if (absl::Status s = hooks.attach(proc); !s.ok()) {
      hooks.detach();
      return s;
    }
  }
  const PullWindowResult window = RunPullWindow(
      context,
      {.processes = processes,
       .selector = &selector,
       .duration = duration,
       .rescan_interval = rescan_interval,
       .pids = std::move(pids),
       .has_process = hooks.has_process,
       .attach = [&](GoProcess proc) { return hooks.attach(proc); },
       .tick = hooks.progress && hooks.samples
                   ? std::function<void(absl::Duration)>(
                         [&](absl::Duration elapsed) {
                           hooks.progress(elapsed, hooks.samples());
                         })
                   : nullptr},
      warnings);
  hooks.detach();
  if (window.cancelled) return absl::CancelledError("the client cancelled");
  return window;
}

}  // namespace gspy
