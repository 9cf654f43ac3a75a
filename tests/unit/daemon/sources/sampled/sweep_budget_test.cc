// The sampled source's budget controller: the interval keeps a sweep's CPU
// time within the budget's share of a core, within [min, max].
#include "daemon/sources/sampled/sweep_budget.h"

#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(SweepBudget, IntervalIsCostOverBudgetWithinBounds) {
  SweepBudget b({.cpu_fraction = 0.01,
                 .min_interval = absl::Milliseconds(10),
                 .max_interval = absl::Seconds(1),
                 .smoothing = 1});  // no averaging: the last sweep
  EXPECT_EQ(b.interval(), absl::Milliseconds(10));  // nothing measured yet
  b.Record(absl::Microseconds(300));
  EXPECT_EQ(b.interval(), absl::Milliseconds(30));
  b.Record(absl::Microseconds(300));
  EXPECT_EQ(b.interval(), absl::Milliseconds(30));
  b.Record(absl::Microseconds(20));  // cheap: the floor
  EXPECT_EQ(b.interval(), absl::Milliseconds(10));
  b.Record(absl::Milliseconds(50));  // costly: the ceiling
  EXPECT_EQ(b.interval(), absl::Seconds(1));
}

TEST(SweepBudget, OneSlowSweepMovesTheAverageNotTheWholeRate) {
  SweepBudget b({.cpu_fraction = 0.01,
                 .min_interval = absl::Milliseconds(1),
                 .max_interval = absl::Seconds(10),
                 .smoothing = 0.2});
  for (int i = 0; i < 20; ++i) b.Record(absl::Microseconds(100));
  EXPECT_EQ(b.interval(), absl::Milliseconds(10));
  b.Record(absl::Microseconds(1100));  // 11x once
  // 0.8 * 100 + 0.2 * 1100 = 300 us: 30 ms, not 110 ms.
  EXPECT_EQ(b.interval(), absl::Milliseconds(30));
  for (int i = 0; i < 30; ++i) b.Record(absl::Microseconds(100));
  EXPECT_LT(b.interval(), absl::Microseconds(10100));
}

TEST(SweepBudget, SpentShareStaysWithinTheBudget) {
  // A process whose sweeps cost 0.5 ms: at 2% the interval is 25 ms, and
  // the CPU share over a run is cost / interval.
  SweepBudget b({.cpu_fraction = 0.02,
                 .min_interval = absl::Milliseconds(1),
                 .max_interval = absl::Seconds(1),
                 .smoothing = 0.2});
  absl::Duration cpu, wall;
  for (int i = 0; i < 100; ++i) {
    const absl::Duration cost = absl::Microseconds(i % 2 == 0 ? 400 : 600);
    b.Record(cost);
    cpu += cost;
    wall += b.interval();
  }
  EXPECT_LE(absl::FDivDuration(cpu, wall), 0.02 * 1.05);
  EXPECT_GE(absl::FDivDuration(cpu, wall), 0.02 * 0.95);
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

// gspyd's back-off divides the budget by its scale: intervals stretch by
// 1 / scale, the floor too, and past the ceiling when they must.
TEST(SweepBudget, BackOffScaleStretchesTheInterval) {
  SweepBudget b({.cpu_fraction = 0.01,
                 .min_interval = absl::Milliseconds(10),
                 .max_interval = absl::Seconds(1),
                 .smoothing = 1});
  EXPECT_EQ(b.interval(0.5), absl::Milliseconds(20));  // floor / scale
  b.Record(absl::Microseconds(300));
  EXPECT_EQ(b.interval(1), absl::Milliseconds(30));
  EXPECT_EQ(b.interval(0.5), absl::Milliseconds(60));
  b.Record(absl::Microseconds(20));
  EXPECT_EQ(b.interval(0.25), absl::Milliseconds(40));
  b.Record(absl::Milliseconds(50));
  EXPECT_EQ(b.interval(0.5), absl::Seconds(1));  // the ceiling holds
  // A floor above the ceiling wins: the budget is the promise.
  EXPECT_EQ(b.interval(0.005), absl::Seconds(2));
  EXPECT_EQ(b.interval(0), absl::Seconds(1));  // nonsense: no back-off
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

// The defaults keep the promise: up to the sampler's largest process (1M
// goroutines at ~0.3 us each, bench/sampled_sweep.sh), the interval grows
// with the cost and the share stays at the budget; a 1 s ceiling broke it
// past ~30k goroutines.
TEST(SweepBudget, DefaultsHoldTheBudgetUpToAMillionGoroutines) {
  const SweepBudgetOptions defaults;
  EXPECT_GE(defaults.max_interval * defaults.cpu_fraction,
            absl::Milliseconds(300));
  for (absl::Duration cost :
       {absl::Microseconds(330), absl::Milliseconds(4), absl::Milliseconds(39),
        absl::Milliseconds(57), absl::Milliseconds(300)}) {
    SweepBudget b(defaults);
    for (int i = 0; i < 10; ++i) b.Record(cost);
    const double share = absl::FDivDuration(cost, b.interval());
    EXPECT_NEAR(share, defaults.cpu_fraction, defaults.cpu_fraction * 1e-6)
        << cost;
  }
  // Past the ceiling the rate is the floor, and the share goes over: the
  // ceiling is still the last word.
  SweepBudget huge(defaults);
  huge.Record(absl::Seconds(1));
  EXPECT_EQ(huge.interval(), defaults.max_interval);
}

}  // namespace
}  // namespace gspy
