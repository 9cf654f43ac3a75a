#include "daemon/sources/block/park_budget.h"

namespace gspy {

ParkBudget::Decision ParkBudget::EndSlot(uint64_t parks_now) {
  const double slot_rate = (parks_now - last_parks_) / slot_seconds_;
  last_parks_ = parks_now;
  // Smoothed over about 100 ms of 10 ms slots.
  rate_ = 0.9 * rate_ + 0.1 * slot_rate;
  double fraction = 1;
  const double budget = max_parks_per_second_ * scale_;
  if (budget > 0 && rate_ > budget) fraction = budget / rate_;
  credit_ += fraction;
  const bool on = credit_ >= 1;
  if (on) credit_ -= 1;
  Decision d;
  d.recording = on;
  d.fraction = fraction;
  d.changed = on != last_.recording || fraction != last_.fraction;
  if (d.changed) {
    last_.recording = on;
    last_.fraction = fraction;
  }
  return d;
}

}  // namespace gspy
