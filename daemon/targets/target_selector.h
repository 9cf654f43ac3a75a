// TargetSelector: which processes a request (or continuous mode) selects,
// parsed and checked once where the request enters: pids (each once),
// executables, and a Kubernetes part. Resolving it against the process table
// is a separate step, repeated while a pull runs, to pick up processes that
// start meanwhile.
#ifndef GSPY_DAEMON_TARGETS_TARGET_SELECTOR_H_
#define GSPY_DAEMON_TARGETS_TARGET_SELECTOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/targets/pod_selector.h"
#include "golang/process/go_process.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

class TargetSelector {
 public:
  // INVALID_ARGUMENT for a pid that cannot exist (<= 0) or a Kubernetes part
  // that does not parse (see PodSelector). Repeated pids are kept once.
  static absl::StatusOr<TargetSelector> Parse(
      const gspy::v1::Selector& selector);

  // Names pids and nothing else: a pull then ends when they have all exited,
  // and no new process can join it.
  bool pids_only() const;
  // Names nothing: every Go process.
  bool all() const;
  const std::vector<int>& pids() const { return pids_; }
  bool has_exe_or_pod() const { return !exes_.empty() || !pods_.empty(); }

  // The processes selected now, each once: every pid (the first bad one is
  // the error: NOT_FOUND, FAILED_PRECONDITION, ..., with a message that says
  // nothing about the process, logged in full instead), every Go process of an
  // executable or of a selected pod, or every Go process when all(); NOT_FOUND
  // when that finds none. `what` names the action in messages ("profile").
  absl::StatusOr<std::vector<GoProcess>> Resolve(const ProcessTable& processes,
                                                 absl::string_view what) const;

  // Processes of the executable and pod parts (or all Go processes for all())
  // for which `known` is false: those started since the request began. Empty
  // for pids_only().
  std::vector<GoProcess> NewMatches(
      const ProcessTable& processes,
      const std::function<bool(int pid)>& known) const;

 private:
  struct Exe {
    std::string path;       // as given
    std::string canonical;  // as /proc/PID/exe shows it
  };
  bool MatchesExeOrPod(const GoProcess& proc) const;

  std::vector<int> pids_;
  std::vector<Exe> exes_;
  PodSelector pods_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_TARGETS_TARGET_SELECTOR_H_
