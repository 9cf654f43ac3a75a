#include "daemon/sources/sampled/sweep_budget.h"

#include <algorithm>

namespace gspy {

void SweepBudget::Record(absl::Duration cpu) {
  if (!any_) {
    cost_ = cpu;
    any_ = true;
    return;
  }
  cost_ = cost_ * (1 - options_.smoothing) + cpu * options_.smoothing;
}

absl::Duration SweepBudget::interval(double scale) const {
  if (!(scale > 0) || scale > 1) scale = 1;
  const absl::Duration low = options_.min_interval / scale;
  if (!any_ || options_.cpu_fraction <= 0) return low;
  return std::clamp(cost_ / (options_.cpu_fraction * scale), low,
                    std::max(options_.max_interval, low));
}

}  // namespace gspy
