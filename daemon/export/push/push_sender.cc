#include "daemon/export/push/push_sender.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace gspy {

PushSender::PushSender(std::unique_ptr<ProfileExporter> exporter,
                       PushSenderOptions options)
    : exporter_(std::move(exporter)),
      options_(options),
      queue_(options.queue),
      backoff_(options.backoff,
               options.seed != 0 ? options.seed : std::random_device{}()) {
  stats_.backend = exporter_->backend();
}

PushSender::~PushSender() { Stop(absl::ZeroDuration()); }

void PushSender::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PushSender::Enqueue(std::shared_ptr<const PushProfile> profile) {
  queue_.Add(std::move(profile));
}

void PushSender::Stop(absl::Duration drain) {
  if (!thread_.joinable()) return;
  drain_deadline_ns_ = absl::ToUnixNanos(absl::Now() + drain);
  stop_.Notify();
  queue_.Close();
  thread_.join();
}

void PushSender::Run() {
  while (true) {
    const bool stopping = stop_.HasBeenNotified();
    if (stopping && absl::Now() >= absl::FromUnixNanos(drain_deadline_ns_)) {
      break;
    }
    std::vector<PushQueue::Item> batch =
        queue_.TakeBatch(options_.batch_max_profiles, options_.batch_max_bytes,
                         absl::Milliseconds(500));
    if (batch.empty()) {
      if (stopping) break;  // drained
      continue;
    }
    if (!SendWithRetries(batch)) break;
    queue_.FinishBatch();
  }
  const size_t left = queue_.stats().profiles;
  absl::MutexLock lock(&mu_);
  stats_.dropped_at_stop += left;
}

bool PushSender::SendWithRetries(const std::vector<PushQueue::Item>& batch) {
  for (int attempt = 1;; ++attempt) {
    absl::Duration timeout = options_.timeout;
    if (stop_.HasBeenNotified()) {
      const absl::Duration left =
          absl::FromUnixNanos(drain_deadline_ns_) - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      timeout = std::min(timeout, left);
    }
    const absl::Status s = exporter_->Export(batch, timeout);
    {
      absl::MutexLock lock(&mu_);
      ++stats_.requests;
      if (attempt > 1) ++stats_.retries;
      if (s.ok()) {
        stats_.pushed += batch.size();
        stats_.last_error.clear();
      } else {
        ++stats_.request_errors;
        stats_.last_error = s.ToString();
      }
    }
    if (s.ok()) {
      backoff_.Reset();
      return true;
    }
    const bool retryable = RetryableExportError(s);
    const bool out_of_tries =
        options_.max_attempts > 0 && attempt >= options_.max_attempts;
    if (!retryable || out_of_tries) {
      GSPY_LOG(WARNING) << "push to " << exporter_->backend() << ": dropping "
                        << batch.size() << " profiles after " << attempt
                        << (attempt == 1 ? " try: " : " tries: ") << s;
      absl::MutexLock lock(&mu_);
      (retryable ? stats_.dropped_retries_exhausted
                 : stats_.dropped_rejected) += batch.size();
      return true;
    }
    if (attempt == 1) {
      GSPY_LOG(WARNING) << "push to " << exporter_->backend()
                        << " failed, retrying: " << s;
    }
    const absl::Duration wait = backoff_.Next();
    // Wake early to stop; when stopping, keep trying until the drain ends.
    if (!stop_.HasBeenNotified()) {
      stop_.WaitForNotificationWithTimeout(wait);
    } else {
      const absl::Duration left =
          absl::FromUnixNanos(drain_deadline_ns_) - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      absl::SleepFor(std::min(wait, left));
    }
  }
}

PushSenderStats PushSender::stats() const {
  const PushQueueStats q = queue_.stats();
  absl::MutexLock lock(&mu_);
  PushSenderStats out = stats_;
  out.dropped_queue_full = q.dropped_full;
  out.queue_profiles = q.profiles;
  out.queue_bytes = q.bytes;
  return out;
}

}  // namespace gspy
