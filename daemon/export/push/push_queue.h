// PushQueue: the profiles waiting to be sent to one backend, bounded by
// count and by bytes. The profiler adds at the tail; the sender takes a
// batch from the head, keeps it there while it tries, and removes it when it
// is done. When a new profile does not fit, the oldest ones that are not
// being sent make room (fresh profiles matter more than old ones); when that
// is not enough (the batch being sent fills the bound), the new one is
// dropped. Every profile that leaves without being sent is counted.
#ifndef GSPY_DAEMON_EXPORT_PUSH_PUSH_QUEUE_H_
#define GSPY_DAEMON_EXPORT_PUSH_PUSH_QUEUE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/export/push/push_profile.h"

namespace gspy {

struct PushQueueLimits {
  size_t max_profiles = 1000;
  size_t max_bytes = 64 << 20;
};

struct PushQueueStats {
  size_t profiles = 0;  // waiting now (the batch being sent included)
  size_t bytes = 0;
  uint64_t enqueued = 0;  // ever added
  uint64_t dropped_full = 0;  // pushed out, or not let in, by the bound
};

class PushQueue {
 public:
  using Item = std::shared_ptr<const PushProfile>;
  explicit PushQueue(PushQueueLimits limits) : limits_(limits) {}

  // Adds `profile` at the tail, making room as said above. Returns how many
  // profiles were dropped (0, or more when the queue was full).
  size_t Add(Item profile);

  // Waits up to `wait` for profiles (or Close), then marks up to
  // `max_profiles` / `max_bytes` (at least one) from the head as being sent
  // and returns them; empty after the wait or once closed and empty. One
  // batch at a time: call Finish before the next.
  std::vector<Item> TakeBatch(size_t max_profiles, size_t max_bytes,
                              absl::Duration wait);
  // The batch is done with (sent, or given up on): removes it.
  void FinishBatch();

  // Wakes TakeBatch; Add still works (the sender may drain what is left).
  void Close();

  PushQueueStats stats() const;

 private:
  struct Entry {
    Item profile;
    size_t bytes;
  };
  bool FitsLocked(size_t bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PushQueueLimits limits_;
  mutable absl::Mutex mu_;
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // head entries being sent
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_full_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_PUSH_QUEUE_H_
