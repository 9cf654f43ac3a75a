#include "daemon/sources/block/park_budget.h"

namespace gspy {

ParkBudget::Decision ParkBudget::EndSlot(uint64_t parks_now,
                                         absl::Duration elapsed) {
  double seconds = absl::ToDoubleSeconds(elapsed);
  if (!(seconds > 0)) seconds = slot_seconds_;
  const double slot_rate = (parks_now - last_parks_) / seconds;
  last_parks_ = parks_now;
  // Smoothed over about 100 ms of 10 ms slots.
  rate_ = 0.9 * rate_ + 0.1 * slot_rate;
  double fraction = 1;
  const double budget = max_parks_per_second_ * scale_;
  if (budget > 0 && rate_ > budget) fraction = budget / rate_;
  // The slot that ended earned its fraction of its length, and spent its
  // length if it recorded: a late slot counts for what it lasted.
  const double slots = seconds / slot_seconds_;
  credit_ += slots * (last_.fraction - (last_.recording ? 1 : 0));
  // Record the next slot when the credit and what that slot earns cover
  // it (the epsilon keeps 0.6 + 0.4 from falling short of 1).
  constexpr double kEpsilon = 1e-9;
  bool on = true;
  if (fraction < 1) {
    on = credit_ + fraction >= 1 - kEpsilon;
  } else {
    credit_ = 0;  // within budget: everything, nothing owed
  }
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
