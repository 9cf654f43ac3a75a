#include "daemon/targets/target_selector.h"

#include <climits>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/log.h"

namespace gspy {
namespace {

// The canonical path of `path` (as /proc/PID/exe shows it), or `path`.
std::string CanonicalPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

// What a client learns about a pid it named that gspyd cannot profile: the
// kind of failure, never the executable, command line or binary details of
// a process it may not be allowed to see. The detail goes to gspyd's log.
absl::Status Opaque(int pid, const absl::Status& detail) {
  GSPY_LOG(INFO) << "refused pid " << pid << ": " << detail.message();
  switch (detail.code()) {
    case absl::StatusCode::kNotFound:
      return absl::NotFoundError(
          absl::StrCat("pid ", pid, ": no such process (or it has exited)"));
    case absl::StatusCode::kPermissionDenied:
      return absl::PermissionDeniedError(
          absl::StrCat("pid ", pid, ": gspyd may not read this process"));
    default:
      return absl::Status(
          detail.code(),
          absl::StrCat("pid ", pid,
                       " is not a Go process gspyd can profile (gspyd's log "
                       "says why)"));
  }
}

}  // namespace

absl::StatusOr<TargetSelector> TargetSelector::Parse(
    const gspy::v1::Selector& selector) {
  TargetSelector out;
  absl::flat_hash_set<int> seen;
  for (int pid : selector.pids()) {
    if (pid <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("pid ", pid, " is not a valid pid"));
    }
    if (seen.insert(pid).second) out.pids_.push_back(pid);
  }
  for (const std::string& exe : selector.exe_paths()) {
    out.exes_.push_back({exe, CanonicalPath(exe)});
  }
  absl::StatusOr<PodSelector> pods = PodSelector::Parse(selector);
  if (!pods.ok()) return pods.status();
  out.pods_ = *std::move(pods);
  return out;
}

bool TargetSelector::pids_only() const {
  return !pids_.empty() && !has_exe_or_pod();
}

bool TargetSelector::all() const { return pids_.empty() && !has_exe_or_pod(); }

bool TargetSelector::MatchesExeOrPod(const GoProcess& proc) const {
  for (const Exe& exe : exes_) {
    if (proc.exe_path == exe.path || proc.exe_path == exe.canonical) {
      return true;
    }
  }
  return !pods_.empty() && pods_.Matches(proc.metadata);
}

absl::StatusOr<std::vector<GoProcess>> TargetSelector::Resolve(
    const ProcessTable& processes, absl::string_view what) const {
  std::vector<GoProcess> out;
  absl::flat_hash_set<int> seen;
  for (int pid : pids_) {
    absl::StatusOr<GoProcess> proc = processes.Inspect(pid);
    if (!proc.ok()) return Opaque(pid, proc.status());
    seen.insert(pid);
    out.push_back(*std::move(proc));
  }
  if (pids_only()) return out;
  for (GoProcess& proc :
       NewMatches(processes, [&seen](int pid) { return seen.contains(pid); })) {
    seen.insert(proc.pid);
    out.push_back(std::move(proc));
  }
  if (out.empty()) {
    std::vector<std::string> what_runs;
    for (const Exe& exe : exes_) what_runs.push_back(exe.path);
    if (!pods_.empty()) what_runs.push_back(pods_.Describe());
    return absl::NotFoundError(
        all() ? absl::StrCat("no Go process to ", what, " on this node")
              : absl::StrCat("no Go process runs ",
                             absl::StrJoin(what_runs, ", ")));
  }
  return out;
}

std::vector<GoProcess> TargetSelector::NewMatches(
    const ProcessTable& processes,
    const std::function<bool(int pid)>& known) const {
  std::vector<GoProcess> out;
  if (pids_only()) return out;
  for (const GoProcess& proc : processes.ListGoProcesses()) {
    if (known(proc.pid)) continue;
    if (!all() && !MatchesExeOrPod(proc)) continue;
    // Listing checks the binary; Inspect adds the mappings and load bias.
    absl::StatusOr<GoProcess> full = processes.Inspect(proc.pid);
    if (full.ok()) out.push_back(*std::move(full));
  }
  return out;
}

}  // namespace gspy
