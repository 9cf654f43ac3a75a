#include "daemon/aggregation/block_profile.h"

#include <string>
#include <vector>

#include "golang/runtime/wait_reasons.h"
#include "profile/pprof/profile_builder.h"
#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy {
namespace {

// Go 1.26 numbers (the fake binary says go1.26.8).
constexpr uint8_t kChanReceive = 19;
constexpr uint8_t kSleep = 14;

gspy_block_event Wait(
    uint64_t goid, uint8_t reason, uint64_t park, uint64_t ready, uint64_t run,
    const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  gspy_block_event e{};
  e.tgid = 7;
  e.goid = goid;
  e.reason = reason;
  e.park_ns = park;
  e.ready_ns = ready;
  e.run_ns = run;
  testing::FillLabels(labels, e.labels, &e.label_count);
  return e;
}

struct Row {
  int64_t count = 0, delay = 0;
  std::string reason, handler;
};

std::vector<Row> Rows(const std::string& gz, std::string* count_type) {
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(gz);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return {};
  auto str = [&](int64_t i) { return p->string_table(static_cast<int>(i)); };
  *count_type = str(p->sample_type(0).type());
  EXPECT_EQ(str(p->sample_type(1).type()), "delay");
  EXPECT_EQ(str(p->sample_type(1).unit()), "nanoseconds");
  std::vector<Row> rows;
  for (const auto& s : p->sample()) {
    Row r{s.value(0), s.value(1), "", ""};
    for (const auto& l : s.label()) {
      if (str(l.key()) == "wait_reason") r.reason = str(l.str());
      if (str(l.key()) == "handler") r.handler = str(l.str());
    }
    rows.push_back(r);
  }
  return rows;
}

const std::vector<uint64_t> kStack = {0x1010, 0x2021};

TEST(BlockProfileTest, DelayRunsFromParkToReadyOrToExecuteWithoutReady) {
  BlockProfile profile(BlockProfileOptions{});
  profile.AddProcess(testing::FakeProcess(7));
  profile.Add(Wait(1, kChanReceive, 1000, 5000, 9000, {{"handler", "a"}}),
              kStack);
  profile.Add(Wait(2, kChanReceive, 2000, 3000, 4000, {{"handler", "a"}}),
              kStack);
  // Woken by netpoll: no ready; the wait ends when it runs.
  profile.Add(Wait(3, kSleep, 1000, 0, 1500), kStack);
  EXPECT_EQ(profile.wait_count(), 3);
  std::string type;
  std::vector<Row> rows =
      Rows(profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr), &type);
  EXPECT_EQ(type, "contentions");
  ASSERT_EQ(rows.size(), 2u);
  for (const Row& r : rows) {
    if (r.reason == "chan receive") {
      EXPECT_EQ(r.count, 2);
      EXPECT_EQ(r.delay, 4000 + 1000);
      EXPECT_EQ(r.handler, "a");
    } else {
      EXPECT_EQ(r.reason, "sleep");
      EXPECT_EQ(r.count, 1);
      EXPECT_EQ(r.delay, 500);
    }
  }
}

TEST(BlockProfileTest, SchedLatencyIsReadyToRunAndSkipsWaitsWithoutReady) {
  BlockProfileOptions opts;
  opts.metric = BlockMetric::kSchedDelay;
  BlockProfile profile(opts);
  profile.AddProcess(testing::FakeProcess(7));
  profile.Add(Wait(1, kChanReceive, 1000, 5000, 9000), kStack);
  profile.Add(Wait(3, kSleep, 1000, 0, 1500), kStack);
  std::string type;
  std::vector<Row> rows =
      Rows(profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr), &type);
  EXPECT_EQ(type, "wakeups");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 1);
  EXPECT_EQ(rows[0].delay, 4000);
}

TEST(BlockProfileTest, ScalesEachWaitByItsWeightAndSaysSo) {
  BlockProfile profile(BlockProfileOptions{});
  profile.AddProcess(testing::FakeProcess(7));
  // Two waits recorded while 1 in 4 slots recorded, two at full rate.
  for (int i = 0; i < 4; ++i) {
    gspy_block_event e = Wait(i, kSleep, 0, 1000, 1100);
    e.weight_milli = i < 2 ? 4000 : 1000;
    profile.Add(e, kStack);
  }
  EXPECT_DOUBLE_EQ(profile.sampling_ratio(), 4.0 / 10.0);
  std::vector<std::string> warnings;
  std::string type;
  std::vector<Row> rows =
      Rows(profile.BuildPprof(absl::Now(), absl::Seconds(1), &warnings), &type);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 10);
  EXPECT_EQ(rows[0].delay, 10000);
  ASSERT_FALSE(warnings.empty());
  EXPECT_NE(warnings[0].find("4 waits were recorded and stand for 10"),
            std::string::npos)
      << warnings[0];
}

TEST(BlockProfileTest, IgnoresOtherPidsAndBoundsDistinctStacks) {
  BlockProfileOptions opts;
  opts.max_stacks = 1;
  BlockProfile profile(opts);
  profile.AddProcess(testing::FakeProcess(7));
  gspy_block_event other = Wait(1, kSleep, 0, 10, 20);
  other.tgid = 8;
  profile.Add(other, kStack);
  profile.Add(Wait(1, kSleep, 0, 10, 20), kStack);
  profile.Add(Wait(1, kChanReceive, 0, 10, 20), kStack);
  EXPECT_EQ(profile.wait_count(), 2);
  EXPECT_EQ(profile.dropped_count(), 1);
}

// Sampled input: sweeps of goroutine states (daemon/sources/sampled).
TEST(BlockProfileTest, SweepsChargeTheirSpanAndCountEachWaitOnce) {
  SampledWait chan{.id = 1,
                   .stack = kStack,
                   .labels = {{"handler", "a"}},
                   .stack_complete = true};
  SampledWait other{.id = 2, .stack = {0x1010}};
  auto charge = [](uint64_t goid, SampledState st, uint8_t reason, bool fresh,
                   const SampledWait *w) {
    GoroutineCharge c;
    c.goid = goid;
    c.state = st;
    c.wait_reason = reason;
    c.new_episode = fresh;
    c.slot = static_cast<uint32_t>(goid);  // the sampler's: one per goroutine
    c.wait_id = w->id;
    c.wait = w;
    return c;
  };
  for (BlockMetric metric :
       {BlockMetric::kBlockDelay, BlockMetric::kSchedDelay}) {
    BlockProfileOptions opts;
    opts.metric = metric;
    BlockProfile profile(opts);
    profile.AddProcess(testing::FakeProcess(7));
    profile.SetMode("mode: sampled (test)", 10'000'000);
    GoroutineSweep sweep;
    // The profile's first sweep: a wait under way counts, whenever the
    // sampler first saw it.
    sweep.charges = {
        charge(1, SampledState::kWaiting, kChanReceive, false, &chan),
        charge(2, SampledState::kRunnable, 0, true, &other)};
    profile.AddSweep(7, sweep,
                     {.from_ns = 0, .to_ns = 10'000'000, .first = true});
    // Later sweeps: the same wait adds time, not a count; a new one counts.
    sweep.charges = {
        charge(1, SampledState::kWaiting, kChanReceive, false, &chan),
        charge(2, SampledState::kRunnable, 0, false, &other),
        charge(3, SampledState::kWaiting, kChanReceive, true, &chan)};
    profile.AddSweep(7, sweep, {.from_ns = 10'000'000, .to_ns = 22'000'000});
    profile.AddSweep(8, sweep, {.from_ns = 10'000'000, .to_ns = 22'000'000});
    std::string type;
    const std::string gz =
        profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr);
    std::vector<Row> rows = Rows(gz, &type);
    ASSERT_EQ(rows.size(), 1u);
    if (metric == BlockMetric::kBlockDelay) {
      EXPECT_EQ(rows[0].reason, "chan receive");
      EXPECT_EQ(rows[0].handler, "a");
      EXPECT_EQ(rows[0].count, 2); // goroutines 1 and 3
      EXPECT_EQ(rows[0].delay, 10'000'000 + 2 * 12'000'000);
    } else {
      EXPECT_EQ(rows[0].count, 1);
      EXPECT_EQ(rows[0].delay, 22'000'000);
      EXPECT_EQ(rows[0].reason, "");  // never seen waiting: no label
    }
    absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(gz);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->period(), 10'000'000);
    EXPECT_EQ(p->string_table(static_cast<int>(p->period_type().type())),
              "wall");
    ASSERT_GE(p->comment_size(), 1);
    EXPECT_EQ(p->string_table(static_cast<int>(p->comment(0))),
              "mode: sampled (test)");
  }
}

// The profile remembers what it made of a wait by the goroutine's slot: a
// slot whose goroutine waits elsewhere (a new wait id), or a slot of another
// process, must not add to the old wait's stack.
TEST(BlockProfileTest, ASlotsNewWaitGoesToItsOwnStack) {
  SampledWait a{.id = 10,
                .stack = kStack,
                .labels = {{"handler", "a"}},
                .stack_complete = true};
  SampledWait b{.id = 11,
                .stack = {0x1010},
                .labels = {{"handler", "b"}},
                .stack_complete = true};
  BlockProfile profile(BlockProfileOptions{});
  profile.AddProcess(testing::FakeProcess(7));
  profile.AddProcess(testing::FakeProcess(9));
  auto sweep_of = [](const SampledWait& w, bool fresh) {
    GoroutineSweep sweep;
    GoroutineCharge c;
    c.goid = 1;
    c.wait_reason = kChanReceive;
    c.new_episode = fresh;
    c.slot = 3;
    c.wait_id = w.id;
    c.wait = &w;
    sweep.charges = {c};
    return sweep;
  };
  profile.AddSweep(7, sweep_of(a, true), {.from_ns = 0, .to_ns = 10});
  profile.AddSweep(7, sweep_of(a, false), {.from_ns = 10, .to_ns = 20});
  profile.AddSweep(7, sweep_of(b, true), {.from_ns = 20, .to_ns = 50});
  profile.AddSweep(9, sweep_of(b, true), {.from_ns = 0, .to_ns = 100});
  std::string type;
  std::vector<Row> rows =
      Rows(profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr), &type);
  int64_t a_delay = 0, b_delay = 0, b_count = 0;
  for (const Row& r : rows) {
    if (r.handler == "a") {
      a_delay += r.delay;
    } else {
      b_delay += r.delay;
      b_count += r.count;
    }
  }
  EXPECT_EQ(a_delay, 20);
  EXPECT_EQ(b_delay, 30 + 100);
  EXPECT_EQ(b_count, 2);
}

TEST(BlockProfileTest, SweepsAreClippedToTheWindow) {
  SampledWait w{.id = 1, .stack = kStack, .stack_complete = true};
  BlockProfileOptions opts;
  opts.window_start_ns = 15;
  BlockProfile profile(opts);
  profile.AddProcess(testing::FakeProcess(7));
  GoroutineSweep sweep;
  GoroutineCharge c;
  c.goid = 1;
  c.wait_reason = kSleep;
  c.wait_id = w.id;
  c.wait = &w;
  sweep.charges = {c};
  profile.AddSweep(7, sweep, {.from_ns = 10, .to_ns = 40, .first = true});
  profile.AddSweep(7, sweep, {.from_ns = 0, .to_ns = 12}); // before it
  std::string type;
  std::vector<Row> rows =
      Rows(profile.BuildPprof(absl::Now(), absl::Seconds(1), nullptr), &type);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].delay, 25);
  EXPECT_EQ(rows[0].count, 1);
}
TEST(WaitReasonsTest, NamesFollowTheVersionsRenumbering) {
  absl::StatusOr<WaitReasons> go118 = WaitReasons::ForGoMinor(18);
  absl::StatusOr<WaitReasons> go126 = WaitReasons::ForGoMinor(26);
  ASSERT_TRUE(go118.ok() && go126.ok());
  EXPECT_EQ(go126->Name(kChanReceive), "chan receive");
  EXPECT_EQ(go118->Name(14), "chan receive");
  EXPECT_EQ(go126->Name(kSleep), "sleep");
  EXPECT_EQ(go126->Name(250), "waitReason(250)");
  for (int minor = 18; minor <= 27; ++minor) {
    EXPECT_TRUE(WaitReasons::ForGoMinor(minor).ok()) << minor;
  }
  absl::StatusOr<WaitReasons> future = WaitReasons::ForGoMinor(99);
  EXPECT_EQ(future.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(future.status().message().find("1.18 to 1.27"), std::string::npos);
}

}  // namespace
}  // namespace gspy
