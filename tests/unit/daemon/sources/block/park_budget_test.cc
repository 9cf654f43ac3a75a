// ParkBudget: the duty cycle of recording new parks, and its credit logic.
#include "daemon/sources/block/park_budget.h"

#include <algorithm>
#include <cstdint>

#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr absl::Duration kSlot = absl::Milliseconds(10);

// Feeds `slots` slots of `rate` parks per second; returns the slots with
// recording on among the last `counted` of them.
struct SlotRun {
  int on = 0;
  int writes = 0;
  double last_fraction = 1;
  int longest_off_streak = 0;
};

SlotRun Feed(ParkBudget& b, uint64_t& parks, double rate, int slots,
             int counted) {
  SlotRun r;
  int off_streak = 0;
  for (int i = 0; i < slots; ++i) {
    parks += static_cast<uint64_t>(rate * absl::ToDoubleSeconds(kSlot));
    const ParkBudget::Decision d = b.EndSlot(parks);
    if (d.changed) ++r.writes;
    if (i < slots - counted) continue;
    if (d.recording) {
      ++r.on;
      off_streak = 0;
    } else {
      r.longest_off_streak = std::max(r.longest_off_streak, ++off_streak);
    }
    r.last_fraction = d.fraction;
  }
  return r;
}

TEST(ParkBudgetTest, WithinBudgetAlwaysRecordsAndWritesNothing) {
  uint64_t parks = 0;
  ParkBudget b(50'000, kSlot, parks);
  const SlotRun r = Feed(b, parks, 10'000, 500, 500);
  EXPECT_EQ(r.on, 500);
  EXPECT_EQ(r.writes, 0);  // the BPF side starts recording, weight 1
  EXPECT_EQ(r.last_fraction, 1);
}

TEST(ParkBudgetTest, NoLimitNeverThrottles) {
  uint64_t parks = 0;
  ParkBudget b(0, kSlot, parks);
  const SlotRun r = Feed(b, parks, 1e7, 200, 200);
  EXPECT_EQ(r.on, 200);
  EXPECT_EQ(r.writes, 0);
}

// Over budget, the share of slots that record follows budget / rate once
// the smoothed rate has settled (a few hundred ms), and the credit spreads
// them evenly: at a quarter, every fourth slot, never more than three off
// in a row (a random choice would leave long gaps); at 0.4 the remainder
// carries over, 2 of every 5.
struct OverBudgetCase {
  double rate;
  double fraction;
  int longest_off;
};

class ParkBudgetOverBudgetTest
    : public ::testing::TestWithParam<OverBudgetCase> {};

TEST_P(ParkBudgetOverBudgetTest, RecordsTheBudgetsShareEvenly) {
  const OverBudgetCase c = GetParam();
  uint64_t parks = 0;
  ParkBudget b(1000, kSlot, parks);
  const SlotRun r = Feed(b, parks, c.rate, 2000, 1000);
  EXPECT_NEAR(r.last_fraction, c.fraction, 0.001);
  EXPECT_NEAR(r.on, 1000 * c.fraction, 1);
  EXPECT_EQ(r.longest_off_streak, c.longest_off);
}

INSTANTIATE_TEST_SUITE_P(Rates, ParkBudgetOverBudgetTest,
                         ::testing::Values(OverBudgetCase{4000, 0.25, 3},
                                           OverBudgetCase{2500, 0.4, 2}));

TEST(ParkBudgetTest, WritesOnlyOnChange) {
  uint64_t parks = 0;
  ParkBudget b(1000, kSlot, parks);
  Feed(b, parks, 4000, 1000, 1);
  // Back within budget: the rate decays, then recording stays on with
  // weight 1 and nothing more is written.
  Feed(b, parks, 0, 1000, 1);
  const SlotRun quiet = Feed(b, parks, 0, 100, 100);
  EXPECT_EQ(quiet.on, 100);
  EXPECT_EQ(quiet.writes, 0);
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

// gspyd's back-off shrinks the budget: 20k parks/s within a 50k budget
// records everything; at scale 0.1 (a 5k budget) a quarter of the slots.
TEST(ParkBudgetTest, BackOffScaleShrinksTheBudget) {
  uint64_t parks = 0;
  ParkBudget b(50'000, kSlot, parks);
  EXPECT_EQ(Feed(b, parks, 20'000, 300, 100).on, 100);
  b.set_scale(0.1);
  const SlotRun r = Feed(b, parks, 20'000, 300, 200);
  EXPECT_NEAR(r.last_fraction, 0.25, 0.01);
  EXPECT_NEAR(r.on, 50, 2);
  // Back to full: everything again.
  b.set_scale(1);
  EXPECT_EQ(Feed(b, parks, 20'000, 300, 100).on, 100);
}

TEST(ParkBudgetTest, BackOffKeepsNoLimitUnlimited) {
  uint64_t parks = 0;
  ParkBudget b(0, kSlot, parks);
  b.set_scale(0.05);
  EXPECT_EQ(Feed(b, parks, 1e6, 200, 200).on, 200);
}

}  // namespace
}  // namespace gspy
