// The back-off policy with a made-up clock and made-up readings: it drops
// at once when a signal is over its limit, holds between the thresholds,
// and climbs back a step a tick only after a quiet spell.
#include "daemon/backoff/backoff_governor.h"

#include "gtest/gtest.h"

namespace gspy {
namespace {

BackoffOptions Options() {
  BackoffOptions o;
  o.cpu_budget_cores = 0.5;
  o.cpu_smoothing = 1;  // the last tick's reading, for exact figures
  o.memory_budget_bytes = 100 << 20;
  o.psi_cpu_percent = 80;
  o.psi_memory_percent = 20;
  o.min_scale = 0.05;
  o.recover_below = 0.8;
  o.recover_after = absl::Seconds(30);
  o.recover_step = 0.05;
  return o;
}

BackoffSignals Calm() {
  BackoffSignals s;
  s.cpu_cores = 0.1;
  s.rss_bytes = 10 << 20;
  s.psi_cpu_some_avg10 = 1;
  s.psi_memory_some_avg10 = 0;
  return s;
}

TEST(BackoffGovernor, CalmStaysAtFullRate) {
  BackoffGovernor g(Options());
  absl::Time t = absl::UnixEpoch();
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(g.Tick(t += absl::Seconds(1), Calm()), 1);
  }
  EXPECT_EQ(g.reason(), BackoffReason::kNone);
}

TEST(BackoffGovernor, CpuOverBudgetDropsByTheOverrunAtMostHalfATick) {
  BackoffGovernor g(Options());
  absl::Time t = absl::UnixEpoch();
  BackoffSignals s = Calm();
  s.cpu_cores = 0.625;  // 1.25 x the budget: x0.8
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.8);
  EXPECT_EQ(g.reason(), BackoffReason::kCpu);
  EXPECT_DOUBLE_EQ(g.pressure(), 1.25);
  s.cpu_cores = 5;  // 10x: halved, not divided by 10 in one tick
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.4);
  s.cpu_cores = 0.51;  // just over: at least a tenth off
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.36);
}

TEST(BackoffGovernor, NeverBelowTheMinimum) {
  BackoffGovernor g(Options());
  absl::Time t = absl::UnixEpoch();
  BackoffSignals s = Calm();
  s.psi_cpu_some_avg10 = 100;
  for (int i = 0; i < 50; ++i) g.Tick(t += absl::Seconds(1), s);
  EXPECT_DOUBLE_EQ(g.scale(), 0.05);
  EXPECT_EQ(g.reason(), BackoffReason::kPsiCpu);
}

TEST(BackoffGovernor, HoldsBetweenThresholdsAndRecoversSlowlyAfterQuiet) {
  BackoffGovernor g(Options());
  absl::Time t = absl::UnixEpoch();
  BackoffSignals s = Calm();
  s.psi_memory_some_avg10 = 40;  // 2x: halved
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.5);
  EXPECT_EQ(g.reason(), BackoffReason::kPsiMemory);
  // Under the limit but above 0.8 of it: holds, however long.
  s.psi_memory_some_avg10 = 18;
  for (int i = 0; i < 60; ++i) {
    EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.5);
  }
  // Quiet: nothing for 30 s, then a step a tick.
  s.psi_memory_some_avg10 = 1;
  for (int i = 0; i < 29; ++i) {
    EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.5) << i;
  }
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.55);
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.6);
  EXPECT_EQ(g.reason(), BackoffReason::kPsiMemory);  // still backed off
  for (int i = 0; i < 20; ++i) g.Tick(t += absl::Seconds(1), s);
  EXPECT_EQ(g.scale(), 1);
  EXPECT_EQ(g.reason(), BackoffReason::kNone);
}

TEST(BackoffGovernor, ALoudTickRestartsTheQuietSpell) {
  BackoffGovernor g(Options());
  absl::Time t = absl::UnixEpoch();
  BackoffSignals loud = Calm();
  loud.rss_bytes = 200 << 20;  // 2x the memory budget
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), loud), 0.5);
  EXPECT_EQ(g.reason(), BackoffReason::kMemory);
  for (int i = 0; i < 20; ++i) g.Tick(t += absl::Seconds(1), Calm());
  BackoffSignals warm = Calm();
  warm.rss_bytes = 90 << 20;  // 0.9 x: no drop, but not quiet either
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), warm), 0.5);
  for (int i = 0; i < 29; ++i) {
    EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), Calm()), 0.5);
  }
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), Calm()), 0.55);
}

TEST(BackoffGovernor, RingLossesBackOffAndTheWorstSignalIsTheReason) {
  BackoffGovernor g(Options());
  absl::Time t = absl::UnixEpoch();
  BackoffSignals s = Calm();
  s.ring_losses = 3;
  s.cpu_cores = 0.6;  // 1.2x, less than the losses' 2x
  EXPECT_DOUBLE_EQ(g.Tick(t += absl::Seconds(1), s), 0.5);
  EXPECT_EQ(g.reason(), BackoffReason::kRingLosses);
}

TEST(BackoffGovernor, MissingReadingsAndZeroLimitsAreNoSignal) {
  BackoffOptions o = Options();
  o.memory_budget_bytes = 0;  // no limit
  BackoffGovernor g(o);
  absl::Time t = absl::UnixEpoch();
  BackoffSignals s;  // all unknown
  s.rss_bytes = int64_t{1} << 40;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(g.Tick(t += absl::Seconds(1), s), 1);
  }
  EXPECT_EQ(g.pressure(), 0);
}

TEST(BackoffGovernor, CpuIsAveragedSoOneSpikeDoesNotBackOff) {
  BackoffOptions o = Options();
  o.cpu_smoothing = 0.3;
  BackoffGovernor g(o);
  absl::Time t = absl::UnixEpoch();
  BackoffSignals s = Calm();
  s.cpu_cores = 1.5;  // 3x the budget for one second: average 0.45
  EXPECT_EQ(g.Tick(t += absl::Seconds(1), s), 1);
  s.cpu_cores = 0.05;
  EXPECT_EQ(g.Tick(t += absl::Seconds(1), s), 1);
  // Sustained, it does.
  s.cpu_cores = 1.5;
  double scale = 1;
  for (int i = 0; i < 3; ++i) scale = g.Tick(t += absl::Seconds(1), s);
  EXPECT_LT(scale, 1);
  EXPECT_EQ(g.reason(), BackoffReason::kCpu);
}

TEST(BackoffGovernor, DisabledNeverMoves) {
  BackoffOptions o = Options();
  o.enabled = false;
  BackoffGovernor g(o);
  BackoffSignals s = Calm();
  s.psi_cpu_some_avg10 = 100;
  EXPECT_EQ(g.Tick(absl::UnixEpoch(), s), 1);
}

}  // namespace
}  // namespace gspy
