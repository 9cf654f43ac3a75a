// TrapWindows: the bookkeeping of the block probes' trap duty cycle.
//
// Each probe hit is a uprobe trap (about 10-13 us on a small VM), which the
// park budget of BlockTracker cannot avoid: it only gates what the BPF
// programs record. Past `max_parks_per_second`, the tracker detaches the
// probes and attaches them again for one window of `window` in every
// period T, so the traps fall by the same fraction. The probes are attached
// over a sequence of stretches: continuous ones (within budget) and windows.
//
// A wait (park at p, running again at r, D = r - p) is kept when both ends
// lie in one stretch. A window [s, s + W) stands for the time R around it
// (itself and half the off time on either side, so the stretches tile the
// timeline); a wait placed at random in R is kept with probability
// (W - D) / R, so a kept wait stands for R / (W - D) waits
// (Horvitz-Thompson) and the counts and delays stay unbiased, but for the
// ends of a pull: where in a period it ends makes an error of up to
// +-(T - W) / 2 / (pull length), zero on average. Waits
// longer than W / 2 are dropped and counted: their weight would be large
// and noisy, and those longer than W cannot be seen at all. The profile
// says so; a pull that must see every wait (wall) keeps the probes
// attached.
#ifndef GSPY_DAEMON_SOURCES_BLOCK_TRAP_WINDOWS_H_
#define GSPY_DAEMON_SOURCES_BLOCK_TRAP_WINDOWS_H_

#include <cstdint>
#include <deque>

#include "absl/time/time.h"

namespace gspy {

struct TrapWindowOptions {
  // Parks per second (of the watched processes, while attached) above which
  // the probes are cycled. 0: always attached.
  double max_parks_per_second = 0;
  absl::Duration window = absl::Seconds(1);
  // The smallest share of time attached (the longest period is window /
  // min_fraction).
  double min_fraction = 0.05;
};

struct TrapVerdict {
  bool keep = false;
  double weight = 1;  // the waits a kept one stands for
};

class TrapWindows {
 public:
  explicit TrapWindows(TrapWindowOptions options) : options_(options) {}

  // The share of time to keep the probes attached at this park rate
  // (measured while attached): 1 within the budget.
  double FractionFor(double parks_per_second) const;

  // The probes are attached from `start_ns` (CLOCK_MONOTONIC, as
  // bpf_ktime_get_ns) until End.
  void BeginContinuous(uint64_t start_ns);
  // The probes are attached from `start_ns` for one window, which stands
  // for itself and half the off time on either side. Only waits ending by
  // start_ns + window are kept. Closes an open continuous stretch.
  void BeginWindow(uint64_t start_ns);
  // Begins a continuous stretch at `start_ns` unless one is open: the
  // probes were attached afresh (a pull after none).
  void EnsureContinuous(uint64_t start_ns);
  // Whether the last stretch is a window.
  bool InWindow() const {
    return !stretches_.empty() && stretches_.back().represents_ns != 0;
  }
  // A continuous stretch ends (the probes are being detached).
  void EndContinuous(uint64_t end_ns);

  // Whether to keep the wait parked at `park_ns` that ran again at
  // `run_ns`, and its weight.
  TrapVerdict Judge(uint64_t park_ns, uint64_t run_ns);

  uint64_t windows() const { return windows_; }
  // Kept-in-a-window waits longer than half a window, dropped.
  uint64_t long_waits_dropped() const { return long_dropped_; }
  uint64_t window_ns() const {
    return static_cast<uint64_t>(absl::ToInt64Nanoseconds(options_.window));
  }
  const TrapWindowOptions& options() const { return options_; }

 private:
  struct Stretch {
    uint64_t start_ns = 0;
    uint64_t end_ns = UINT64_MAX;  // open while attached continuously
    uint64_t represents_ns = 0;    // 0: continuous
  };
  const TrapWindowOptions options_;
  std::deque<Stretch> stretches_;  // the most recent last, bounded
  uint64_t windows_ = 0;
  uint64_t long_dropped_ = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_BLOCK_TRAP_WINDOWS_H_
