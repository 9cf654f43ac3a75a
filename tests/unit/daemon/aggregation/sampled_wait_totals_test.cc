#include "daemon/aggregation/sampled_wait_totals.h"

#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

// Go 1.26 numbers (as block_profile_test.cc).
constexpr uint8_t kChanReceive = 19;
constexpr uint8_t kSleep = 14;

GoroutineCharge Charge(SampledState state, uint8_t reason, bool fresh,
                       const SampledWait* w) {
  GoroutineCharge c;
  c.state = state;
  c.wait_reason = reason;
  c.new_episode = fresh;
  c.wait = w;
  return c;
}

TEST(SampledWaitTotalsTest, ChargesWaitingTimeByReasonAndCountsWaitsOnce) {
  SampledWaitTotals totals;
  totals.AddProcess(7, 26);
  SampledWait w{.id = 1};
  GoroutineSweep sweep;
  sweep.charges = {Charge(SampledState::kWaiting, kChanReceive, false, &w),
                   Charge(SampledState::kWaiting, kSleep, true, &w),
                   Charge(SampledState::kRunnable, kChanReceive, true, &w)};
  // The first sweep of the sink: every wait is new to it.
  totals.AddSweep(7, sweep, {.from_ns = 0, .to_ns = 10'000'000, .first = true});
  sweep.charges = {Charge(SampledState::kWaiting, kChanReceive, false, &w),
                   Charge(SampledState::kWaiting, kChanReceive, true, &w)};
  totals.AddSweep(7, sweep, {.from_ns = 10'000'000, .to_ns = 30'000'000});
  totals.AddSweep(8, sweep, {.from_ns = 0, .to_ns = 1'000'000'000});  // unknown
  std::vector<SampledWaitTotal> got = totals.Totals();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].pid, 7);
  EXPECT_EQ(got[0].reason, "chan receive");
  EXPECT_DOUBLE_EQ(got[0].seconds, 0.010 + 2 * 0.020);
  EXPECT_EQ(got[0].waits, 2);  // the one under way, and the new one
  EXPECT_EQ(got[1].reason, "sleep");
  EXPECT_DOUBLE_EQ(got[1].seconds, 0.010);
  EXPECT_EQ(got[1].waits, 1);

  totals.RemoveProcess(7);
  EXPECT_TRUE(totals.Totals().empty());
}

TEST(SampledWaitTotalsTest, UnknownGoVersionNamesReasonsByNumber) {
  SampledWaitTotals totals;
  totals.AddProcess(7, 0);
  SampledWait w{.id = 1};
  GoroutineSweep sweep;
  sweep.charges = {Charge(SampledState::kWaiting, kChanReceive, true, &w)};
  totals.AddSweep(7, sweep, {.from_ns = 0, .to_ns = 5});
  std::vector<SampledWaitTotal> got = totals.Totals();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].reason, "waitReason(19)");
}

}  // namespace
}  // namespace gspy
