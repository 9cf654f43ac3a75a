#include "daemon/aggregation/period_timeline.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStart = 5'000 * kSecond;  // a monotonic clock's origin
constexpr int64_t k100Hz = 10'000'000;
constexpr int64_t k20Hz = 50'000'000;

// Samples at `period` from `from` to `to` seconds after kStart.
void AddStretch(PeriodTimeline& t, double from, double to, int64_t period) {
  for (uint64_t ns = kStart + static_cast<uint64_t>(from * kSecond);
       ns < kStart + static_cast<uint64_t>(to * kSecond); ns += period) {
    t.Add(ns, period);
  }
}

TEST(PeriodTimelineTest, OnePeriodIsNoChange) {
  PeriodTimeline t;
  AddStretch(t, 0, 2, k100Hz);
  EXPECT_FALSE(t.changed());
  EXPECT_EQ(t.Describe(), "0.0-2.0 s every 10.0 ms (100.0 Hz, 200 samples)");
}

TEST(PeriodTimelineTest, SaysWhenTheRateWasLowered) {
  PeriodTimeline t;
  AddStretch(t, 0, 3, k100Hz);
  AddStretch(t, 3, 9, k20Hz);
  AddStretch(t, 9, 10, k100Hz);
  EXPECT_TRUE(t.changed());
  EXPECT_EQ(t.Describe(),
            "0.0-3.0 s every 10.0 ms (100.0 Hz, 300 samples); "
            "3.0-8.9 s every 50.0 ms (20.0 Hz, 120 samples); "
            "9.0-10.0 s every 10.0 ms (100.0 Hz, 100 samples)");
}

// Per-CPU rings deliver out of order around a change: a sample taken at
// the old period just before it is not a change back and forth.
TEST(PeriodTimelineTest, AStragglerStaysInItsStretch) {
  PeriodTimeline t;
  AddStretch(t, 0, 1, k100Hz);
  t.Add(kStart + 1 * kSecond, k20Hz);
  t.Add(kStart + 1 * kSecond - 1, k100Hz);  // taken before, read after
  AddStretch(t, 1.05, 2, k20Hz);
  EXPECT_EQ(t.Describe(),
            "0.0-1.0 s every 10.0 ms (100.0 Hz, 101 samples); "
            "1.0-1.9 s every 50.0 ms (20.0 Hz, 20 samples)");
}

// A rate that keeps changing cannot grow the timeline without bound.
TEST(PeriodTimelineTest, KeepsAtMostItsRunsAndCountsTheRest) {
  PeriodTimeline t(/*max_runs=*/3);
  for (int i = 0; i < 40; ++i) {
    AddStretch(t, i, i + 1, i % 2 == 0 ? k100Hz : k20Hz);
  }
  EXPECT_TRUE(t.changed());
  // Three stretches, then seconds 3 to 40: 18 at 100 Hz, 19 at 20 Hz.
  EXPECT_EQ(t.Describe(),
            "0.0-1.0 s every 10.0 ms (100.0 Hz, 100 samples); "
            "1.0-1.9 s every 50.0 ms (20.0 Hz, 20 samples); "
            "2.0-3.0 s every 10.0 ms (100.0 Hz, 100 samples); "
            "then 2180 samples at periods not listed (at most 3 stretches "
            "are)");
}

TEST(PeriodTimelineTest, NothingSeenDescribesNothing) {
  PeriodTimeline t;
  EXPECT_FALSE(t.changed());
  EXPECT_EQ(t.Describe(), "");
}

}  // namespace
}  // namespace gspy
