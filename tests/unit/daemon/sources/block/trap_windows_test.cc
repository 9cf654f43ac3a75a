// TrapWindows: which waits a trap duty cycle keeps, their weights, and that
// the weighted counts and delays estimate the true ones.
#include "daemon/sources/block/trap_windows.h"

#include <cstdint>
#include <random>

#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kS = 1000 * kMs;

TrapWindowOptions Options() {
  TrapWindowOptions o;
  o.max_parks_per_second = 1000;
  o.window = absl::Seconds(1);
  o.min_fraction = 0.05;
  return o;
}

TEST(TrapWindows, FractionFollowsTheBudget) {
  TrapWindows t(Options());
  EXPECT_EQ(t.FractionFor(500), 1);
  EXPECT_EQ(t.FractionFor(1000), 1);
  EXPECT_DOUBLE_EQ(t.FractionFor(4000), 0.25);
  EXPECT_DOUBLE_EQ(t.FractionFor(1e6), 0.05);  // the floor
  TrapWindowOptions off = Options();
  off.max_parks_per_second = 0;
  EXPECT_EQ(TrapWindows(off).FractionFor(1e9), 1);
}

TEST(TrapWindows, ContinuousStretchesKeepWaitsThatEndInThem) {
  TrapWindows t(Options());
  t.BeginContinuous(0);
  TrapVerdict v = t.Judge(10 * kS, 40 * kS);  // long, but attached all along
  EXPECT_TRUE(v.keep);
  EXPECT_EQ(v.weight, 1);
  t.EndContinuous(50 * kS);
  EXPECT_FALSE(t.Judge(49 * kS, 51 * kS).keep);  // ended while detached
  EXPECT_FALSE(t.Judge(52 * kS, 53 * kS).keep);  // parked while detached
  EXPECT_TRUE(t.Judge(49 * kS, 49 * kS + kMs).keep);
  EXPECT_FALSE(t.Judge(5 * kS, 4 * kS).keep);  // ends before it began
}

TEST(TrapWindows, WindowsWeighAndDropLongWaits) {
  TrapWindows t(Options());
  t.BeginContinuous(0);
  t.EndContinuous(17 * kS);
  // [20 s, 21 s) stands for the 3 s before and, the off time after it taken
  // as long, half of that after it: 5.5 s.
  t.BeginWindow(20 * kS);
  EXPECT_EQ(t.windows(), 1u);
  // 100 ms: chance (1 - 0.1) / 5.5, weight 5.5 / 0.9.
  TrapVerdict v = t.Judge(20 * kS + 100 * kMs, 20 * kS + 200 * kMs);
  ASSERT_TRUE(v.keep);
  EXPECT_NEAR(v.weight, 5.5 / 0.9, 1e-9);
  // The next window, 4 s after this one ended, stands for 4 s + 1 s.
  t.BeginWindow(25 * kS);
  EXPECT_NEAR(t.Judge(25 * kS, 25 * kS + 100 * kMs).weight, 5.0 / 0.9, 1e-9);
  // Ends after the window closed (during the detach): not kept.
  EXPECT_FALSE(t.Judge(20 * kS + 900 * kMs, 21 * kS + 10 * kMs).keep);
  // Half a window or more: dropped, counted.
  EXPECT_FALSE(t.Judge(20 * kS, 20 * kS + 500 * kMs).keep);
  EXPECT_EQ(t.long_waits_dropped(), 1u);
  // Parked in the earlier continuous stretch, ended in the window: the
  // probes were off in between, the park entry may be stale.
  EXPECT_FALSE(t.Judge(16 * kS, 20 * kS + kMs).keep);
}

TEST(TrapWindows, APullAfterNoneIsSeenContinuouslyAgain) {
  TrapWindows t(Options());
  t.BeginContinuous(0);
  t.EndContinuous(2 * kS);
  t.BeginWindow(5 * kS);
  EXPECT_TRUE(t.InWindow());
  // The last pull ended; the next attaches the probes at 100 s.
  t.EnsureContinuous(100 * kS);
  EXPECT_FALSE(t.InWindow());
  TrapVerdict v = t.Judge(101 * kS, 101 * kS + 800 * kMs);
  EXPECT_TRUE(v.keep);
  EXPECT_EQ(v.weight, 1);
  t.EnsureContinuous(103 * kS);  // already continuous: no new stretch
  EXPECT_TRUE(t.Judge(101 * kS, 104 * kS).keep);
  // A window closes the open continuous stretch where it begins.
  t.BeginWindow(110 * kS);
  EXPECT_FALSE(t.Judge(109 * kS, 110 * kS + kMs).keep);
  EXPECT_TRUE(t.Judge(109 * kS, 109 * kS + kMs).keep);
}

// Waits of three lengths at random times over 400 s, windows of 1 s every
// 5 s: the weighted count and delay of each length estimate the truth.
TEST(TrapWindows, WeightedCountsAndDelaysAreUnbiased) {
  TrapWindows t(Options());
  t.BeginContinuous(0);
  t.EndContinuous(kS);
  const uint64_t period = 5 * kS;
  for (uint64_t s = 2 * kS; s < 402 * kS; s += period) t.BeginWindow(s);
  std::mt19937_64 rng(7);
  const uint64_t lengths[] = {2 * kMs, 100 * kMs, 400 * kMs};
  for (uint64_t d : lengths) {
    std::uniform_int_distribution<uint64_t> at(2 * kS, 397 * kS);
    const int n = 200'000;
    double count = 0, delay = 0;
    for (int i = 0; i < n; ++i) {
      const uint64_t park = at(rng);
      const TrapVerdict v = t.Judge(park, park + d);
      if (!v.keep) continue;
      count += v.weight;
      delay += v.weight * static_cast<double>(d);
    }
    EXPECT_NEAR(count / n, 1, 0.03) << "wait of " << d / kMs << " ms";
    EXPECT_NEAR(delay / (static_cast<double>(n) * d), 1, 0.03)
        << "wait of " << d / kMs << " ms";
  }
  EXPECT_EQ(t.long_waits_dropped(), 0u);
}

}  // namespace
}  // namespace gspy
