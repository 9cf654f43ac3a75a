// BackoffLoop: the thread that reads the back-off signals once an interval,
// asks the governor for a scale and hands a changed scale to the sources.
// What it decided last is kept for /metrics.
#ifndef GSPY_DAEMON_BACKOFF_BACKOFF_LOOP_H_
#define GSPY_DAEMON_BACKOFF_BACKOFF_LOOP_H_

#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/backoff/backoff_governor.h"
#include "daemon/backoff/backoff_signals.h"

namespace gspy {

struct BackoffState {
  double scale = 1;
  BackoffReason reason = BackoffReason::kNone;
  double pressure = 0;  // the worst signal over its limit, last tick
};

class BackoffLoop {
 public:
  // `apply` runs on the loop's thread with each new scale.
  using Apply = std::function<void(double scale)>;

  // Starts the thread (none when options.enabled is false).
  BackoffLoop(BackoffOptions options, SignalSources sources, Apply apply);
  ~BackoffLoop();  // stops the thread

  BackoffState state() const;
  const BackoffOptions& options() const { return options_; }

 private:
  void Run();

  const BackoffOptions options_;
  SignalReader reader_;
  BackoffGovernor governor_;
  const Apply apply_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  BackoffState state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_BACKOFF_BACKOFF_LOOP_H_
