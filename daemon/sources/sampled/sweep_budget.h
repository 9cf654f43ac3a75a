// SweepBudget: how often to sweep a process so that gspyd's own CPU time for
// it stays within a fraction of one core. Each sweep's cost (thread CPU
// time) feeds a moving average; the interval is that cost divided by the
// budget, within [min, max].
#ifndef GSPY_DAEMON_SOURCES_SAMPLED_SWEEP_BUDGET_H_
#define GSPY_DAEMON_SOURCES_SAMPLED_SWEEP_BUDGET_H_

#include "absl/time/time.h"

namespace gspy {

struct SweepBudgetOptions {
  double cpu_fraction = 0.01;  // of one core, per watched process
  absl::Duration min_interval = absl::Milliseconds(10);
  // Long enough that the budget holds for any process gspyd sweeps: a sweep
  // costs ~0.2-0.35 us of CPU per goroutine (bench/sampled_sweep.sh), so
  // GoroutineSamplerOptions::max_goroutines (1M) costs up to ~0.3 s, which
  // at 1% needs 30 s. A ceiling of 1 s broke the budget past ~30k
  // goroutines (160k: 5-8% of a core). A pull shorter than the interval
  // still gets its window charged (its first and last sweep); its comment
  // and the CLI say how many sweeps it got.
  absl::Duration max_interval = absl::Seconds(30);
  // Weight of the newest sweep in the moving average of the cost: a few
  // sweeps follow a change of the process, one slow sweep (a page fault, a
  // new goroutine's stack) does not halve the rate.
  double smoothing = 0.2;
};

class SweepBudget {
 public:
  explicit SweepBudget(SweepBudgetOptions options) : options_(options) {}

  // The CPU time one sweep took.
  void Record(absl::Duration cpu);
  // The interval to the next sweep: cost / fraction, within [min, max];
  // min before any sweep. `scale` in (0, 1] (gspyd's back-off) shrinks the
  // budget: the interval is cost / (fraction x scale), within
  // [min / scale, max(max, min / scale)].
  absl::Duration interval(double scale = 1) const;
  absl::Duration average_cost() const { return cost_; }

 private:
  const SweepBudgetOptions options_;
  absl::Duration cost_ = absl::ZeroDuration();
  bool any_ = false;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_SAMPLED_SWEEP_BUDGET_H_
