#include "daemon/service/pull_window.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/service/request_checks.h"

namespace gspy {

PullWindowResult RunPullWindow(grpc::ServerContext* context,
                               PullWindowSpec spec,
                               std::vector<std::string>* warnings) {
  PullWindowResult result;
  result.start = absl::Now();
  const absl::Time deadline = result.start + spec.duration;
  const bool pids_only = SelectsPidsOnly(*spec.selector);
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
      for (GoProcess& proc : NewSelectorMatches(*spec.processes, *spec.selector,
                                                spec.has_process)) {
        spec.pids.push_back(proc.pid);
        if (absl::Status s = spec.attach(std::move(proc)); !s.ok()) {
          warnings->push_back(std::string(s.message()));
        }
      }
    }
  }
  result.end = absl::Now();
  result.cancelled = context->IsCancelled();
  return result;
}

}  // namespace gspy
