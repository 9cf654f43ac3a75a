// ParkBudget: the duty cycle of recording new parks, and its credit logic.
#include "daemon/sources/block/park_budget.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

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
    const ParkBudget::Decision d = b.EndSlot(parks, kSlot);
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

namespace gspy {
namespace {

// The decision made at a slot's end holds during the next slot (the BPF
// config), as in BlockTracker::DutyCycleLoop.
struct Held {
  bool recording = true;
  double fraction = 1;
};

// A duty thread that wakes late every fourth slot (40 ms instead of 10,
// say a periodic job on a busy machine), at a quarter of the parks
// recorded: counting slots, every fourth slot records, and whichever phase
// it locks onto, the late one records 4/7 of the time or none of it, while
// each recorded park weighs 1 / fraction. The parks scaled by their weights
// must add up to the parks made, whatever the phase, and the budget must be
// measured over the slots' real length.
TEST(ParkBudgetTest, LateSlotsKeepTheShareOfTime) {
  constexpr double kRate = 4000;
  for (int phase = 0; phase < 4; ++phase) {
    uint64_t parks = 0;
    ParkBudget b(1000, kSlot, parks);
    Held held;
    double made = 0, scaled = 0;
    for (int i = 0; i < 4000; ++i) {
      const absl::Duration len =
          (i + phase) % 4 == 0 ? absl::Milliseconds(40) : kSlot;
      const double in_slot = kRate * absl::ToDoubleSeconds(len);
      parks += static_cast<uint64_t>(in_slot);
      if (i >= 1000) {  // settled
        made += in_slot;
        if (held.recording) scaled += in_slot / held.fraction;
      }
      const ParkBudget::Decision d = b.EndSlot(parks, len);
      held = {d.recording, d.fraction};
    }
    EXPECT_NEAR(held.fraction, 0.25, 0.01) << "phase " << phase;
    // The credit left at the end is at most one long slot: 40 ms of 52 s.
    EXPECT_NEAR(scaled / made, 1, 0.005) << "phase " << phase;
  }
}

// The estimate a duty-cycled pull makes, simulated over a fake clock:
// `goroutines` goroutines wait back to back for about `wait` each (+-5%,
// 20 us running between), from 0.5 s on for `run`, at four times the budget.
// A wait is recorded when its park falls while recording is on, with the
// weight then, and counted whole however long after the slot it ends (the
// BPF side completes every recorded park). The duty thread's slots last
// 10-18 ms, as on a busy machine. Returns the scaled total delay / the true
// total - 1.
double SimulatedDelayError(absl::Duration wait, int goroutines,
                           absl::Duration run, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  const double wait_s = absl::ToDoubleSeconds(wait);
  const double start_s = 0.5, end_s = start_s + absl::ToDoubleSeconds(run);
  const double rate = goroutines / (wait_s + 20e-6);
  uint64_t parks = 0;
  ParkBudget b(rate / 4, kSlot, parks);
  Held held;
  std::vector<double> next_park(goroutines);
  for (double& t : next_park) t = start_s + unit(rng) * wait_s;
  double truth = 0, scaled = 0;
  for (double now = 0; now < end_s + 0.1;) {
    const double len = 0.010 + 0.008 * unit(rng);
    const double slot_end = now + len;
    for (double& t : next_park) {
      for (; t < slot_end && t < end_s;) {
        const double d = wait_s * (0.95 + 0.1 * unit(rng));
        ++parks;
        truth += d;
        if (held.recording) scaled += d / held.fraction;
        t += d + 20e-6;
      }
    }
    now = slot_end;
    const ParkBudget::Decision d = b.EndSlot(parks, absl::Seconds(len));
    held = {d.recording, d.fraction};
  }
  return scaled / truth - 1;
}

// Waits from a tenth of a slot to 2.5 slots (25 ms: most of them straddle
// an on/off boundary): recording gated at the park keeps every length at
// the same chance, so the scaled delay has no bias (mean over 20 runs
// within 1%), and each run is close. The per-run bound grows with the
// wait: fewer parks per recorded slot (25 ms waits: 5 goroutines park
// about twice per slot) over the same 200-odd recorded slots.
struct EstimateCase {
  absl::Duration wait;
  absl::Duration run;
  double per_run;  // bound on one run's error
};

class ParkBudgetEstimateTest : public ::testing::TestWithParam<EstimateCase> {};

TEST_P(ParkBudgetEstimateTest, ScaledDelayIsUnbiasedForAnyWaitLength) {
  const EstimateCase c = GetParam();
  constexpr int kRuns = 20;
  double sum = 0, worst = 0;
  for (int seed = 1; seed <= kRuns; ++seed) {
    const double err = SimulatedDelayError(c.wait, 5, c.run, seed);
    sum += err;
    worst = std::max(worst, std::abs(err));
  }
  EXPECT_NEAR(sum / kRuns, 0, 0.01) << "wait " << c.wait;
  EXPECT_LE(worst, c.per_run) << "wait " << c.wait;
}

INSTANTIATE_TEST_SUITE_P(
    Waits, ParkBudgetEstimateTest,
    ::testing::Values(
        EstimateCase{absl::Milliseconds(1), absl::Seconds(2.4), 0.03},
        EstimateCase{absl::Microseconds(1460), absl::Seconds(2.4), 0.03},
        EstimateCase{absl::Milliseconds(10), absl::Seconds(10), 0.05},
        EstimateCase{absl::Milliseconds(25), absl::Seconds(20), 0.08}));

}  // namespace
}  // namespace gspy
