#include "daemon/export/push/push_queue.h"

#include <utility>

namespace gspy {

bool PushQueue::FitsLocked(size_t bytes) const {
  return entries_.size() + 1 <= limits_.max_profiles &&
         bytes_ + bytes <= limits_.max_bytes;
}

size_t PushQueue::Add(Item profile) {
  const size_t bytes = profile->bytes();
  absl::MutexLock lock(&mu_);
  ++enqueued_;
  size_t dropped = 0;
  // Evict the oldest profiles not being sent until the new one fits.
  while (!FitsLocked(bytes) && entries_.size() > in_flight_) {
    auto victim = entries_.begin() + static_cast<ptrdiff_t>(in_flight_);
    bytes_ -= victim->bytes;
    entries_.erase(victim);
    ++dropped;
  }
  if (FitsLocked(bytes)) {
    bytes_ += bytes;
    entries_.push_back({std::move(profile), bytes});
  } else {
    ++dropped;  // larger than the bound, or the batch in flight fills it
  }
  dropped_full_ += dropped;
  return dropped;
}

std::vector<PushQueue::Item> PushQueue::TakeBatch(size_t max_profiles,
                                                  size_t max_bytes,
                                                  absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || entries_.size() > in_flight_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
  std::vector<Item> batch;
  if (in_flight_ > 0) return batch;  // the previous batch was not finished
  size_t bytes = 0;
  for (const Entry& e : entries_) {
    if (!batch.empty() &&
        (batch.size() >= max_profiles || bytes + e.bytes > max_bytes)) {
      break;
    }
    batch.push_back(e.profile);
    bytes += e.bytes;
  }
  in_flight_ = batch.size();
  return batch;
}

void PushQueue::FinishBatch() {
  absl::MutexLock lock(&mu_);
  for (; in_flight_ > 0; --in_flight_) {
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
  }
}

void PushQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

PushQueueStats PushQueue::stats() const {
  absl::MutexLock lock(&mu_);
  return {.profiles = entries_.size(),
          .bytes = bytes_,
          .enqueued = enqueued_,
          .dropped_full = dropped_full_};
}

}  // namespace gspy
