// Exponential backoff with jitter for retrying pushes: the n-th wait is
// initial * multiplier^n, capped at max, less a random part of up to
// `jitter` of it, so that many daemons whose backend came back do not all
// retry in the same instant.
#ifndef GSPY_DAEMON_EXPORT_PUSH_BACKOFF_H_
#define GSPY_DAEMON_EXPORT_PUSH_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace gspy {

struct BackoffPolicy {
  absl::Duration initial = absl::Seconds(1);
  absl::Duration max = absl::Seconds(30);
  double multiplier = 2;
  double jitter = 0.5;  // in [0, 1]: the wait is in [(1 - jitter) d, d]
};

class Backoff {
 public:
  Backoff(BackoffPolicy policy, uint64_t seed);

  // The wait before the next retry; each call doubles the base (to max).
  absl::Duration Next();
  // After a success: the next failure waits `initial` again.
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

  // The un-jittered wait of retry `attempt` (0-based).
  absl::Duration Base(int attempt) const;

 private:
  BackoffPolicy policy_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_BACKOFF_H_
