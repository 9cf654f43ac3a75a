// gspyd's continuous mode: the profiler, one sender per backend, their
// metrics, built from PushOptions (gspyd fills them from its --push-* flags,
// daemon/gspyd_flags.cc).
#ifndef GSPY_DAEMON_EXPORT_PUSH_PUSH_MODE_H_
#define GSPY_DAEMON_EXPORT_PUSH_PUSH_MODE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/metrics_registry.h"
#include "daemon/aggregation/cpu_sessions.h"
#include "daemon/export/push/capture_push.h"
#include "daemon/export/push/continuous_profiler.h"
#include "daemon/export/push/push_sender.h"
#include "golang/process/go_process.h"
#include "golang/process/process_labels.h"

namespace gspy {

// What the user asked of continuous mode, as given (Create checks it). The
// defaults are the flags' defaults. Error messages name the options by their
// flags (--push-interval), which is how users set them.
struct PushOptions {
  // Backends: https://HOST:PORT, http://HOST:PORT (plaintext) or HOST:PORT
  // (TLS). Empty: not that backend.
  std::string pyroscope_url;
  std::string parca_url;
  std::string otlp_url;  // an OTLP profiles receiver (gRPC)
  absl::Duration interval = absl::Seconds(15);
  // Which processes: executables' paths, a namespace, a pod label selector.
  std::vector<std::string> exe;
  std::string namespace_;
  std::string selector;
  std::string service_name;
  std::vector<std::string> labels;  // k=v
  std::string tls_ca_file;
  bool insecure_skip_verify = false;
  std::string bearer_token_file;
  absl::Duration timeout = absl::Seconds(10);
  int queue_max_profiles = 1000;
  int64_t queue_max_bytes = 64 << 20;
  int max_attempts = 8;  // 0: no limit
  absl::Duration retry_initial_backoff = absl::Seconds(1);
  absl::Duration retry_max_backoff = absl::Seconds(30);
  // --push-profiles: cpu, block, wall, heap, goroutine. The default is
  // every type: all but cpu cost the targets no trap (sampled sweeps, heap
  // buckets and goroutines read from outside), and cpu is what continuous
  // mode has always pushed.
  std::vector<std::string> profiles = {"cpu", "block", "wall", "heap",
                                       "goroutine"};
};

class PushMode {
 public:
  // Null when `options` names no backend; INVALID_ARGUMENT for options that
  // do not make sense. `labeler` may be null. Every profile and its series
  // labels go through `redactor` (not owned, outlives the PushMode).
  // `sampled` sweeps goroutines for block and wall (null: those types are
  // refused); `wait_totals`, when set, gets every sweep (for /metrics).
  static absl::StatusOr<std::unique_ptr<PushMode>> Create(
      const PushOptions& push, const ProcessTable* processes,
      SessionRegistry* sessions, const ProcessLabeler* labeler,
      int64_t period_ns, size_t max_stacks, const Redactor* redactor,
      SampledTracker* sampled = nullptr,
      SampledWaitTotals* wait_totals = nullptr);
  ~PushMode();

  void Start();
  // The last cut, then up to `drain` to send what is queued.
  void Stop(absl::Duration drain);
  // Adds the push metrics to `registry` (until Stop).
  void RegisterMetrics(MetricsRegistry* registry);
  // One line for the log: where to and how often.
  std::string Describe() const;

  std::vector<PushSenderStats> sender_stats() const;
  // For --capture-push: captures to the same backends, on the same series
  // labels.
  std::unique_ptr<CapturePusher> NewCapturePusher() const;
  ContinuousStats profiler_stats() const { return profiler_->stats(); }

 private:
  PushMode() = default;
  std::vector<std::unique_ptr<PushSender>> senders_;
  std::unique_ptr<ContinuousProfiler> profiler_;
  PushLabelOptions labels_;
  const Redactor* redactor_ = nullptr;
  MetricsRegistry* registry_ = nullptr;
  int metrics_id_ = 0;
  std::string description_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_PUSH_MODE_H_
