// gspyd's continuous mode from its --push-* flags: the profiler, one sender
// per backend, their metrics. The flags are defined in push_mode.cc.
#ifndef GSPY_DAEMON_EXPORT_PUSH_PUSH_MODE_H_
#define GSPY_DAEMON_EXPORT_PUSH_PUSH_MODE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/metrics_registry.h"
#include "golang/process/go_process.h"
#include "golang/process/process_labels.h"
#include "daemon/export/push/continuous_profiler.h"
#include "daemon/export/push/push_sender.h"
#include "daemon/aggregation/cpu_sessions.h"

namespace gspy {

class PushMode {
 public:
  // Null when no --push-pyroscope-url or --push-parca-url is given;
  // INVALID_ARGUMENT for flags that do not make sense. `labeler` may be null.
  static absl::StatusOr<std::unique_ptr<PushMode>> FromFlags(
      const ProcessTable* processes, SessionRegistry* sessions,
      const ProcessLabeler* labeler, int64_t period_ns, size_t max_stacks);
  ~PushMode();

  void Start();
  // The last cut, then up to `drain` to send what is queued.
  void Stop(absl::Duration drain);
  // Adds the push metrics to `registry` (until Stop).
  void RegisterMetrics(MetricsRegistry* registry);
  // One line for the log: where to and how often.
  std::string Describe() const;

  std::vector<PushSenderStats> sender_stats() const;
  ContinuousStats profiler_stats() const { return profiler_->stats(); }

 private:
  PushMode() = default;
  std::vector<std::unique_ptr<PushSender>> senders_;
  std::unique_ptr<ContinuousProfiler> profiler_;
  MetricsRegistry* registry_ = nullptr;
  int metrics_id_ = 0;
  std::string description_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_PUSH_MODE_H_
