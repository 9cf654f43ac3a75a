// The time window of a profile pull, shared by every profile type: waits for
// the duration while the client stays, stops early when every selected pid
// has exited, and attaches processes of a selected executable that start
// meanwhile.
#ifndef GSPY_DAEMON_API_PULL_WINDOW_H_
#define GSPY_DAEMON_API_PULL_WINDOW_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/targets/target_selector.h"
#include "golang/process/go_process.h"
#include "grpcpp/server_context.h"

namespace gspy {

struct PullWindowSpec {
  const ProcessTable* processes = nullptr;
  const TargetSelector* selector = nullptr;
  absl::Duration duration;
  absl::Duration rescan_interval;
  std::vector<int> pids;  // attached before the window opened
  std::function<bool(int pid)> has_process;
  std::function<absl::Status(GoProcess)> attach;
  // Called on every rescan with the time since the window opened; may be
  // null.
  std::function<void(absl::Duration elapsed)> tick;
};

struct PullWindowResult {
  absl::Time start;
  absl::Time end;
  bool cancelled = false;
};

// Runs the window; appends what the user should know to `warnings`.
PullWindowResult RunPullWindow(grpc::ServerContext* context,
                               PullWindowSpec spec,
                               std::vector<std::string>* warnings);

// A whole pull around its profile: attaches every target with `attach` (the
// first failure detaches what was attached and is the error), runs the
// window (attaching processes that start meanwhile), then `detach`es.
// CANCELLED when the client went away.
// What a pull reports while its window runs (a PullProfile stream's
// messages): the time since the window opened and what was recorded so far.
using PullProgressFn =
    std::function<void(absl::Duration elapsed, int64_t samples)>;

struct PullHooks {
  std::function<absl::Status(const GoProcess&)> attach;
  std::function<bool(int pid)> has_process;
  std::function<void()> detach;
  // Both or neither: `progress` gets `samples()` on every rescan.
  std::function<int64_t()> samples;
  PullProgressFn progress;
};
absl::StatusOr<PullWindowResult> RunPull(
    grpc::ServerContext* context, const ProcessTable* processes,
    const TargetSelector& selector, std::vector<GoProcess> targets,
    absl::Duration duration, absl::Duration rescan_interval,
    const PullHooks& hooks, std::vector<std::string>* warnings);

}  // namespace gspy

#endif  // GSPY_DAEMON_API_PULL_WINDOW_H_
