// ParkBudget: the block probes' first throttle. Every slot it decides
// whether new parks are recorded: the share of time with recording on
// follows budget / measured park rate, spread evenly by carrying the
// remainder ("credit") from slot to slot. A park recorded while the fraction
// is f stands for 1/f parks: recording is gated at the park only (a wait
// parked while on is completed whenever it ends, one parked while off is
// never seen), so a wait is recorded with chance f whatever its length, and
// the estimate is unbiased for waits that straddle an on/off boundary too.
// The credit is kept in time, not in slots: the slots are the sleeps of a
// thread that a busy machine wakes late (10 ms slots lasting 10-30 ms), and
// counting slots would let the share of time on wander from f, a noise (and,
// with periodic lateness, a bias) the weights do not know of. Spreading is
// deterministic, which keeps the estimate's noise low; its error is the
// credit not yet spent at the ends of a pull, at most 1/f slots, so slots
// are short. Pure policy: the tracker feeds it the park counter and the
// slot's length, and writes what it decides to the BPF config.
#ifndef GSPY_DAEMON_SOURCES_BLOCK_PARK_BUDGET_H_
#define GSPY_DAEMON_SOURCES_BLOCK_PARK_BUDGET_H_

#include <cstdint>

#include "absl/time/time.h"

namespace gspy {

class ParkBudget {
 public:
  struct Decision {
    bool recording = true;
    double fraction = 1;   // of parks recorded: each stands for 1 / fraction
    bool changed = false;  // differs from the previous decision: write it
  };

  // `max_parks_per_second` 0: no limit. `parks_now`: the park counter at
  // the start.
  ParkBudget(double max_parks_per_second, absl::Duration slot,
             uint64_t parks_now)
      : max_parks_per_second_(max_parks_per_second),
        slot_seconds_(absl::ToDoubleSeconds(slot)),
        last_parks_(parks_now) {}

  // At the end of each slot, with the park counter then and how long the
  // slot lasted (the nominal slot when not positive).
  Decision EndSlot(uint64_t parks_now, absl::Duration elapsed);

  double rate() const { return rate_; }
  // gspyd's back-off: the budget times `scale` in (0, 1] from the next
  // slot on (no limit stays no limit).
  void set_scale(double scale) { scale_ = scale > 0 && scale <= 1 ? scale : 1; }

 private:
  const double max_parks_per_second_;
  double scale_ = 1;
  const double slot_seconds_;  // nominal: the credit's unit
  uint64_t last_parks_;
  double rate_ = 0;    // parks per second, smoothed over about 100 ms
  double credit_ = 0;  // in nominal slots of recording time
  Decision last_;      // what the BPF side holds now (recording, all weighed 1)
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_BLOCK_PARK_BUDGET_H_
