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

absl::Duration SweepBudget::interval() const {
  if (!any_ || options_.cpu_fraction <= 0) return options_.min_interval;
  return std::clamp(cost_ / options_.cpu_fraction, options_.min_interval,
                    options_.max_interval);
}

}  // namespace gspy
