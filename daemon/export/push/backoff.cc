#include "daemon/export/push/backoff.h"

#include <algorithm>
#include <cmath>

namespace gspy {

Backoff::Backoff(BackoffPolicy policy, uint64_t seed)
    : policy_(policy), rng_(seed) {
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  policy_.multiplier = std::max(policy_.multiplier, 1.0);
  if (policy_.max < policy_.initial) policy_.max = policy_.initial;
}

absl::Duration Backoff::Base(int attempt) const {
  const double scale = std::pow(policy_.multiplier, attempt);
  const double max_scale = absl::FDivDuration(policy_.max, policy_.initial);
  if (!(scale < max_scale)) return policy_.max;  // also when inf or nan
  return policy_.initial * scale;
}

absl::Duration Backoff::Next() {
  const absl::Duration base = Base(attempt_);
  ++attempt_;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  return base * (1.0 - policy_.jitter * u(rng_));
}

}  // namespace gspy
