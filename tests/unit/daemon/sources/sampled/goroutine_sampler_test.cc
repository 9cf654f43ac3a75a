// The sampled wait source over a made-up process: which goroutines are
// charged with a sweep's interval, when a wait counts as new, when stacks
// are unwound and when they come from the cache, and that the g heads are
// read in one batch.
#include "daemon/sources/sampled/goroutine_sampler.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_memory.h"

namespace gspy {
namespace {

using testing::Image;
using testing::kBgsweep;
using testing::kBlock;
using testing::kGoexit;
using testing::kGopark;
using testing::PutSliceLabels;

constexpr int64_t kMs = 1'000'000;
constexpr uint8_t kReason = 0x0e;  // what Image::AddG parks with

struct Process {
  Image im;
  std::unique_ptr<GoroutineSampler> sampler;

  // Goroutines 1..n at g = 0x10000 + 0x1000 * (goid - 1), each with its own
  // stack, all parked in main.block.
  explicit Process(int n, GoroutineSamplerOptions options = {}) {
    std::vector<uint64_t> gs;
    for (int i = 0; i < n; ++i) {
      gs.push_back(G(i + 1));
      im.AddG(G(i + 1), i + 1, kGWaiting, 0x7000000 + 0x10000 * i);
    }
    im.SetAllgs(gs);
    absl::StatusOr<std::unique_ptr<GoroutineSampler>> s =
        GoroutineSampler::Create(im.bin, im.mem, 0, options);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) sampler = *std::move(s);
  }
  static uint64_t G(uint64_t goid) { return 0x10000 + 0x1000 * (goid - 1); }
  void SetStatus(uint64_t goid, uint32_t status) {
    im.mem.PutU32(G(goid) + im.l().g_atomicstatus, status);
  }
  // Parks the goroutine somewhere else in gopark (same frame size): a new
  // wait, as far as the sampler can tell.
  void SetPc(uint64_t goid, uint64_t pc) {
    im.mem.PutU64(G(goid) + im.l().g_sched + im.l().gobuf_pc, pc);
  }
  void SetWaitsince(uint64_t goid, int64_t ns) {
    im.mem.PutU64(G(goid) + im.l().g_waitsince, static_cast<uint64_t>(ns));
  }
  GoroutineSweep Sweep(int64_t now) {
    absl::StatusOr<GoroutineSweep> s = sampler->Sweep(now);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : GoroutineSweep{};
  }
};

const GoroutineCharge* ChargeOf(const GoroutineSweep& s, uint64_t goid) {
  for (const GoroutineCharge& c : s.charges) {
    if (c.goid == goid) return &c;
  }
  return nullptr;
}

TEST(GoroutineSampler, FirstSweepIsABaselineThenEachChargesItsInterval) {
  Process p(3);
  p.SetStatus(2, kGRunnable);
  p.SetStatus(3, kGRunning);
  GoroutineSweep first = p.Sweep(100 * kMs);
  EXPECT_TRUE(first.charges.empty());
  EXPECT_EQ(first.counts.goroutines, 3);

  GoroutineSweep s = p.Sweep(112 * kMs);
  EXPECT_EQ(s.from_ns, 100 * kMs);
  EXPECT_EQ(s.to_ns, 112 * kMs);
  ASSERT_EQ(s.charges.size(), 2u);  // the running one has no stack to charge
  const GoroutineCharge* waiting = ChargeOf(s, 1);
  ASSERT_NE(waiting, nullptr);
  EXPECT_EQ(waiting->state, SampledState::kWaiting);
  EXPECT_EQ(waiting->wait_reason, kReason);
  // Seen at the baseline already: the same wait.
  EXPECT_FALSE(waiting->new_episode);
  // gopark's entry as the leaf (as the probes report it), then return
  // addresses.
  EXPECT_EQ(waiting->wait->stack,
            (std::vector<uint64_t>{kGopark, kBlock + 0x20, kGoexit + 1}));
  EXPECT_TRUE(waiting->wait->stack_complete);
  const GoroutineCharge* runnable = ChargeOf(s, 2);
  ASSERT_NE(runnable, nullptr);
  EXPECT_EQ(runnable->state, SampledState::kRunnable);
  EXPECT_EQ(runnable->wait_reason, 0);  // never seen waiting
  EXPECT_EQ(s.counts.running, 1);
  EXPECT_EQ(s.counts.waiting, 1);
  EXPECT_EQ(s.counts.runnable, 1);
}

TEST(GoroutineSampler, StacksAreUnwoundOnlyForNewWaits) {
  Process p(4);
  EXPECT_EQ(p.Sweep(0).counts.unwound, 4);
  GoroutineSweep s = p.Sweep(10 * kMs);
  EXPECT_EQ(s.counts.unwound, 0);
  EXPECT_EQ(s.counts.cached, 4);

  // Goroutine 2 ran and parked elsewhere: a new wait, unwound again.
  p.SetPc(2, kGopark + 0x60);
  s = p.Sweep(20 * kMs);
  EXPECT_EQ(s.counts.unwound, 1);
  EXPECT_TRUE(ChargeOf(s, 2)->new_episode);
  EXPECT_FALSE(ChargeOf(s, 1)->new_episode);

  // The GC stamps waitsince during a wait: still the same wait.
  p.SetWaitsince(3, 5 * kMs);
  s = p.Sweep(30 * kMs);
  EXPECT_EQ(s.counts.unwound, 0);
  EXPECT_FALSE(ChargeOf(s, 3)->new_episode);
  // Another stamp means it ran (execute clears it) and waits again.
  p.SetWaitsince(3, 25 * kMs);
  s = p.Sweep(40 * kMs);
  EXPECT_EQ(s.counts.unwound, 1);
  EXPECT_TRUE(ChargeOf(s, 3)->new_episode);
}

TEST(GoroutineSampler, AWaitAfterRunningIsNewButItsStackIsCached) {
  Process p(1);
  p.Sweep(0);
  p.SetStatus(1, kGRunning);
  GoroutineSweep s = p.Sweep(10 * kMs);
  EXPECT_TRUE(s.charges.empty());
  // Parked again at the very same pc and sp: the cached stack serves, and
  // the wait counts as a new one (it was seen running in between).
  p.SetStatus(1, kGWaiting);
  s = p.Sweep(20 * kMs);
  EXPECT_EQ(s.counts.unwound, 0);
  ASSERT_EQ(s.charges.size(), 1u);
  EXPECT_TRUE(s.charges[0].new_episode);
  // Woken: runnable, still at the stack where it waited, a new spell; the
  // runtime clears the wait reason, the charge keeps the one it waited
  // with.
  p.SetStatus(1, kGRunnable);
  p.im.mem.Put(Process::G(1) + p.im.l().g_waitreason, std::string(1, '\0'));
  s = p.Sweep(30 * kMs);
  EXPECT_EQ(s.counts.unwound, 0);
  ASSERT_EQ(s.charges.size(), 1u);
  EXPECT_EQ(s.charges[0].state, SampledState::kRunnable);
  EXPECT_EQ(s.charges[0].wait_reason, kReason);
  EXPECT_TRUE(s.charges[0].new_episode);
  EXPECT_EQ(s.charges[0].wait->stack.size(), 3u);
}

TEST(GoroutineSampler, DeadGoroutinesLeaveTheCacheAndReusedGsAreNew) {
  Process p(2);
  p.Sweep(0);
  EXPECT_EQ(p.sampler->cached_goroutines(), 2u);
  p.SetStatus(2, kGDead);
  GoroutineSweep s = p.Sweep(10 * kMs);
  EXPECT_EQ(s.charges.size(), 1u);
  EXPECT_EQ(p.sampler->cached_goroutines(), 1u);
  // The same g struct, a new goroutine (new goid) parked at the same pc.
  p.im.AddG(Process::G(2), 99, kGWaiting, 0x7010000);
  s = p.Sweep(20 * kMs);
  EXPECT_EQ(s.counts.unwound, 1);
  ASSERT_NE(ChargeOf(s, 99), nullptr);
  EXPECT_TRUE(ChargeOf(s, 99)->new_episode);
}

TEST(GoroutineSampler, FewGHeadsAreReadInOneBatch) {
  Process p(50);
  p.Sweep(0);
  const int before = p.im.mem.read_many_calls;
  GoroutineSweep s = p.Sweep(10 * kMs);
  EXPECT_EQ(s.charges.size(), 50u);
  EXPECT_EQ(p.im.mem.read_many_calls - before, 1);
}

// Many heads are read a chunk at a time (so that they are decoded while in
// the cache), in address order: every goroutine is still charged once, and
// a batch is a chunk, not a head.
TEST(GoroutineSampler, ManyHeadsAreReadInChunksAndAllCharged) {
  constexpr int kN = 1000;  // 0x180 bytes apart: 375 KiB of heads
  Process p(1);             // its goroutine is replaced
  std::vector<uint64_t> gs;
  for (int i = 0; i < kN; ++i) {
    const uint64_t g = 0x20000000 + 0x180 * (kN - 1 - i);  // reversed
    gs.push_back(g);
    p.im.AddG(g, i + 1, kGWaiting, 0x30000000 + 0x4000 * i);
  }
  p.im.SetAllgs(gs);
  absl::StatusOr<std::unique_ptr<GoroutineSampler>> sampler =
      GoroutineSampler::Create(p.im.bin, p.im.mem, 0);
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  p.sampler = *std::move(sampler);
  p.Sweep(0);
  const int before = p.im.mem.read_many_calls;
  GoroutineSweep s = p.Sweep(10 * kMs);
  const int batches = p.im.mem.read_many_calls - before;
  EXPECT_EQ(batches, 2);  // 256 KiB chunks
  ASSERT_EQ(s.charges.size(), static_cast<size_t>(kN));
  std::vector<bool> seen(kN + 1);
  for (const GoroutineCharge& c : s.charges) {
    ASSERT_GE(c.goid, 1u);
    ASSERT_LE(c.goid, static_cast<uint64_t>(kN));
    EXPECT_FALSE(seen[c.goid]) << c.goid;
    seen[c.goid] = true;
    EXPECT_EQ(c.slot, c.goid - 1);  // its allgs index
    EXPECT_EQ(c.wait_id, c.wait->id);
  }
  EXPECT_EQ(s.counts.cached, kN);
  EXPECT_EQ(s.counts.unreadable, 0);
}

TEST(GoroutineSampler, NearbyHeadsAreReadAsOneRange) {
  // Goroutines 0x1000 apart: one range each. Heads next to each other (g's
  // of one span): one range for all.
  Process apart(8);
  apart.Sweep(0);
  EXPECT_EQ(apart.sampler->read_ranges(), 8u);
  Process p(1);
  std::vector<uint64_t> gs;
  for (int i = 0; i < 8; ++i) {
    const uint64_t g = 0x20000 + 0x180 * (7 - i);  // allgs order != address
    gs.push_back(g);
    p.im.AddG(g, 10 + i, kGWaiting, 0x7100000 + 0x10000 * i);
  }
  p.im.SetAllgs(gs);
  p.Sweep(0);
  EXPECT_EQ(p.sampler->read_ranges(), 1u);
  GoroutineSweep s = p.Sweep(10 * kMs);
  ASSERT_EQ(s.charges.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    ASSERT_NE(ChargeOf(s, 10 + i), nullptr) << i;
    EXPECT_EQ(ChargeOf(s, 10 + i)->wait->stack.size(), 3u);
  }
  // A range that fails as a whole (here: a head that is not mapped) falls
  // back to reading each head alone.
  gs.push_back(0x20000 + 0x180 * 8);
  p.im.SetAllgs(gs);
  s = p.Sweep(20 * kMs);
  EXPECT_EQ(s.charges.size(), 8u);
  EXPECT_EQ(s.counts.unreadable, 1);
}

TEST(GoroutineSampler, RuntimeGoroutinesAreLeftOutUnlessAsked) {
  for (bool include : {false, true}) {
    Process p(2, {.include_system = include});
    p.im.AddG(Process::G(2), 2, kGWaiting, 0x7010000, kBgsweep);
    p.Sweep(0);
    GoroutineSweep s = p.Sweep(10 * kMs);
    EXPECT_EQ(s.charges.size(), include ? 2u : 1u);
    EXPECT_EQ(s.counts.system_skipped, include ? 0 : 1);
  }
}

TEST(GoroutineSampler, AFirstSweepOfManyGoroutinesLeavesItsBuffersSmall) {
  // More goroutines than one group of unwinding: the whole heads alone
  // fill more than the buffers may keep. Placed above Process's range,
  // clear of the image's code and allgs.
  constexpr int kN = 1100;
  Image im;
  std::vector<uint64_t> gs;
  for (int i = 0; i < kN; ++i) {
    gs.push_back(0x10000000 + 0x1000 * i);
    im.AddG(gs.back(), i + 1, kGWaiting, 0x20000000 + 0x10000 * i);
  }
  im.SetAllgs(gs);
  absl::StatusOr<std::unique_ptr<GoroutineSampler>> sampler =
      GoroutineSampler::Create(im.bin, im.mem, 0);
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  absl::StatusOr<GoroutineSweep> first = (*sampler)->Sweep(0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->counts.unwound, kN);
  EXPECT_LE((*sampler)->unwind_buffer_bytes(), size_t{3 * 64} << 10);
  // What the groups unwound is what the next sweep charges.
  absl::StatusOr<GoroutineSweep> s = (*sampler)->Sweep(10 * kMs);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->counts.cached, kN);
  ASSERT_EQ(s->charges.size(), size_t{kN});
  for (const GoroutineCharge& c : s->charges) {
    ASSERT_EQ(c.wait->stack,
              (std::vector<uint64_t>{kGopark, kBlock + 0x20, kGoexit + 1}))
        << "goroutine " << c.goid;
  }
}

TEST(GoroutineSampler, AGoroutineThatRunsWhileItsStackIsReadIsTorn) {
  Process p(1);
  p.Sweep(0);
  p.SetPc(1, kGopark + 0x60);  // a new wait: its stack is read ...
  int reads = 0;
  p.im.mem.mutate = [&](uint64_t addr) {
    // ... and the re-read of its head after the unwinding (the third read
    // there: the sweep's, the whole head's, this one) finds it running.
    if (addr == Process::G(1) && ++reads == 3) {
      p.SetStatus(1, kGRunning);
    }
  };
  GoroutineSweep s = p.Sweep(10 * kMs);
  EXPECT_EQ(s.counts.torn, 1);
  // The walk reached goexit: the charge stands (the state was read whole),
  // but the stack is not cached.
  EXPECT_EQ(s.counts.torn_dropped, 0);
  EXPECT_EQ(s.charges.size(), 1u);
  p.im.mem.mutate = nullptr;
  p.SetStatus(1, kGWaiting);
  s = p.Sweep(20 * kMs);
  EXPECT_EQ(s.counts.unwound, 1);
}

// The labels of cached waits come from the target: they are held up to a
// byte budget, and a wait beyond it is charged without them, counted.
TEST(GoroutineSampler, LabelsAreHeldWithinABudget) {
  const std::string value(100, 'v');  // 101 bytes with the key "k"
  GoroutineSamplerOptions options;
  options.max_label_bytes = 250;  // two label sets
  Process p(3, options);
  for (uint64_t goid = 1; goid <= 3; ++goid) {
    const uint64_t at = 0x8000000 + 0x10000 * goid;
    PutSliceLabels(p.im.mem, at, {{"k", value}});
    p.im.mem.PutU64(Process::G(goid) + p.im.l().g_labels, at);
  }
  GoroutineSweep s = p.Sweep(0);
  EXPECT_EQ(s.counts.labels_over_budget, 1);
  EXPECT_EQ(p.sampler->label_bytes(), 202u);
  s = p.Sweep(10 * kMs);
  int with_labels = 0;
  for (const GoroutineCharge& c : s.charges) {
    if (!c.wait->labels.empty()) {
      ++with_labels;
      EXPECT_EQ(c.wait->labels, (LabelList{{"k", value}}));
    } else {
      EXPECT_TRUE(c.wait->labels_error);
    }
  }
  EXPECT_EQ(with_labels, 2);
  EXPECT_EQ(s.counts.labels_over_budget, 0);  // cached: not counted again

  // A goroutine that ends gives its bytes back; the next new wait that
  // fits keeps its labels.
  const uint64_t dropped = ChargeOf(s, 1)->wait->labels.empty()   ? 1
                           : ChargeOf(s, 2)->wait->labels.empty() ? 2
                                                                  : 3;
  const uint64_t kept = dropped == 1 ? 2 : 1;
  p.SetStatus(kept, kGDead);
  p.SetPc(dropped, kGopark + 0x60);
  s = p.Sweep(20 * kMs);
  EXPECT_EQ(s.counts.labels_over_budget, 0);
  EXPECT_EQ(ChargeOf(s, dropped)->wait->labels, (LabelList{{"k", value}}));
  EXPECT_EQ(p.sampler->label_bytes(), 202u);
}

TEST(GoroutineSampler, AGoneProcessIsNotFound) {
  Process p(1);
  class Gone : public MemorySource {
   public:
    absl::Status Read(uint64_t, absl::Span<char>) const override {
      return absl::NotFoundError("gone");
    }
    std::string Describe() const override { return "gone"; }
  } gone;
  EXPECT_EQ(GoroutineSampler::Create(p.im.bin, gone, 0).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gspy
