#include "daemon/service/request_checks.h"

#include <climits>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/service/pod_selector.h"

namespace gspy {
namespace {

// The canonical path of `path` (as /proc/PID/exe shows it), or `path`.
std::string CanonicalPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

bool HasPodPart(const gspy::v1::Selector& selector) {
  return !selector.pods().empty() || !selector.namespace_().empty() ||
         !selector.pod_label_selector().empty();
}

bool SelectsAll(const gspy::v1::Selector& selector) {
  return selector.pids().empty() && selector.exe_paths().empty() &&
         !HasPodPart(selector);
}

// The parts that can match processes not running yet: --exe and pods.
bool MatchesExeOrPod(const gspy::v1::Selector& selector,
                     const PodSelector& pods, const GoProcess& proc) {
  for (const std::string& exe : selector.exe_paths()) {
    if (proc.exe_path == exe || proc.exe_path == CanonicalPath(exe)) {
      return true;
    }
  }
  return !pods.empty() && pods.Matches(proc.metadata);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::StatusOr<absl::Duration> CheckDuration(int64_t seconds, int32_t nanos,
                                             absl::Duration max) {
  const absl::Duration d = absl::Seconds(seconds) + absl::Nanoseconds(nanos);
  if (d <= absl::ZeroDuration() || d > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration ", absl::FormatDuration(d), " is not in (0, ",
                     absl::FormatDuration(max), "]"));
  }
  return d;
}

absl::Status CheckSelector(const gspy::v1::Selector& selector) {
  for (int pid : selector.pids()) {
    if (pid <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("pid ", pid, " is not a valid pid"));
    }
  }
  return PodSelector::Parse(selector).status();
}

bool SelectsPidsOnly(const gspy::v1::Selector& selector) {
  return !selector.pids().empty() && selector.exe_paths().empty() &&
         !HasPodPart(selector);
}

absl::StatusOr<std::vector<GoProcess>> ResolveSelector(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    absl::string_view what) {
  std::vector<GoProcess> out;
  absl::flat_hash_set<int> seen;
  for (int pid : selector.pids()) {
    absl::StatusOr<GoProcess> proc = processes.Inspect(pid);
    if (!proc.ok()) return proc.status();
    if (seen.insert(pid).second) out.push_back(*std::move(proc));
  }
  const bool all = SelectsAll(selector);
  if (SelectsPidsOnly(selector)) return out;
  for (GoProcess& proc :
       NewSelectorMatches(processes, selector,
                          [&seen](int pid) { return seen.contains(pid); })) {
    seen.insert(proc.pid);
    out.push_back(std::move(proc));
  }
  if (out.empty()) {
    std::vector<std::string> what_runs(selector.exe_paths().begin(),
                                       selector.exe_paths().end());
    if (absl::StatusOr<PodSelector> pods = PodSelector::Parse(selector);
        pods.ok() && !pods->empty()) {
      what_runs.push_back(pods->Describe());
    }
    return absl::NotFoundError(
        all ? absl::StrCat("no Go process to ", what, " on this node")
            : absl::StrCat("no Go process runs ",
                           absl::StrJoin(what_runs, ", ")));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const SampleFilter>> ParseFilter(
    const std::string& text) {
  absl::StatusOr<SampleFilter> filter = SampleFilter::Parse(text);
  if (!filter.ok()) return filter.status();
  if (filter->empty()) return nullptr;
  return std::make_shared<const SampleFilter>(*std::move(filter));
}

absl::StatusOr<CheckedTargets> CheckTargetsRequest(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    int64_t duration_seconds, int32_t duration_nanos, absl::Duration max,
    absl::string_view what) {
  absl::StatusOr<absl::Duration> duration =
      CheckDuration(duration_seconds, duration_nanos, max);
  if (!duration.ok()) return duration.status();
  if (absl::Status s = CheckSelector(selector); !s.ok()) return s;
  absl::StatusOr<std::vector<GoProcess>> targets =
      ResolveSelector(processes, selector, what);
  if (!targets.ok()) return targets.status();
  return CheckedTargets{*duration, *std::move(targets)};
}

absl::StatusOr<CheckedPull> CheckPullRequest(
    const ProcessTable& processes, const gspy::v1::GetProfileRequest& request,
    absl::Duration max_duration) {
  absl::StatusOr<CheckedTargets> targets = CheckTargetsRequest(
      processes, request.selector(), request.duration_seconds(),
      request.duration_nanos(), max_duration, "profile");
  if (!targets.ok()) return targets.status();
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request.filter());
  if (!filter.ok()) return filter.status();
  return CheckedPull{*std::move(targets), *std::move(filter)};
}

std::vector<GoProcess> NewSelectorMatches(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    const std::function<bool(int pid)>& known) {
  std::vector<GoProcess> out;
  const bool all = SelectsAll(selector);
  absl::StatusOr<PodSelector> pods = PodSelector::Parse(selector);
  if (SelectsPidsOnly(selector) || !pods.ok()) return out;
  for (const GoProcess& proc : processes.ListGoProcesses()) {
    if (known(proc.pid)) continue;
    if (!all && !MatchesExeOrPod(selector, *pods, proc)) continue;
    // Listing checks the binary; Inspect adds the mappings and load bias.
    absl::StatusOr<GoProcess> full = processes.Inspect(proc.pid);
    if (full.ok()) out.push_back(*std::move(full));
  }
  return out;
}

}  // namespace gspy
