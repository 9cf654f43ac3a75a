// PushSender: one backend's queue and the thread that empties it. It sends
// the head of the queue in batches; a batch that fails with a retryable error
// (backend down, overloaded, deadline) is tried again after a backoff, up to
// `max_attempts` in all, and stays in the queue meanwhile, so the queue's
// bound is what a long outage can keep. What is given up on is counted.
#ifndef GSPY_DAEMON_EXPORT_PUSH_PUSH_SENDER_H_
#define GSPY_DAEMON_EXPORT_PUSH_PUSH_SENDER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "daemon/export/push/backoff.h"
#include "daemon/export/push/exporter.h"
#include "daemon/export/push/push_queue.h"

namespace gspy {

struct PushSenderOptions {
  PushQueueLimits queue;
  BackoffPolicy backoff;
  // Tries of one batch, the first included; 0 for no limit (then a long
  // outage keeps the newest profiles the queue holds, and the batch being
  // tried, as the queue never evicts a batch being sent).
  int max_attempts = 8;
  absl::Duration timeout = absl::Seconds(10);  // of one request
  size_t batch_max_profiles = 64;
  size_t batch_max_bytes = 8 << 20;
  uint64_t seed = 0;  // of the jitter; 0: random
};

struct PushSenderStats {
  std::string backend;
  uint64_t pushed = 0;           // profiles the backend accepted
  uint64_t requests = 0;         // requests sent, tries included
  uint64_t request_errors = 0;   // of those, the failed ones
  uint64_t retries = 0;          // tries after the first
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_retries_exhausted = 0;  // retryable errors, out of tries
  uint64_t dropped_rejected = 0;  // errors not worth retrying
  uint64_t dropped_at_stop = 0;   // still queued when gspyd stopped
  size_t queue_profiles = 0;
  size_t queue_bytes = 0;
  std::string last_error;  // empty after a success
};

class PushSender {
 public:
  PushSender(std::unique_ptr<ProfileExporter> exporter,
             PushSenderOptions options);
  ~PushSender();  // Stop(absl::ZeroDuration()) if not stopped

  void Start();
  // Queues a profile (never blocks on the backend).
  void Enqueue(std::shared_ptr<const PushProfile> profile);
  // Sends what is queued for up to `drain` more, then stops the thread.
  void Stop(absl::Duration drain);

  PushSenderStats stats() const;
  // "pyroscope" or "parca" (the exporter's).
  std::string backend() const { return exporter_->backend(); }

 private:
  void Run();
  // Sends one batch with retries (or gives up on it, counted). False when
  // gspyd stops before it is done with it.
  bool SendWithRetries(const std::vector<PushQueue::Item>& batch);

  std::unique_ptr<ProfileExporter> exporter_;
  const PushSenderOptions options_;
  PushQueue queue_;
  Backoff backoff_;
  std::thread thread_;
  absl::Notification stop_;
  std::atomic<int64_t> drain_deadline_ns_{0};  // absl::ToUnixNanos, when stopping

  mutable absl::Mutex mu_;
  PushSenderStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_PUSH_SENDER_H_
