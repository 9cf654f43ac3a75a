// Mutex and block profiles from made-up buckets: the values as
// runtime/pprof writes them per Go release (checked against mprof.go and
// pprof.go of go1.18..1.27), hostile counts and cycles, the stacks as
// CallersFrames expands them, and block records read from a hostile list.
#include "golang/profiles/contention_profile.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "golang/profiles/bucket_list.h"
#include "gtest/gtest.h"
#include "profile/pprof/profile_builder.h"
#include "tests/unit/testing/fake_go_binary.h"
#include "tests/unit/testing/fake_go_memory.h"

namespace gspy {
namespace {

constexpr int64_t kTicks = 3'000'000'000;  // 3 GHz

TEST(ContentionValues, CyclesToNanosecondsAtTheTickRate) {
  // go1.20+: the runtime recorded the mutex profile scaled already.
  EXPECT_EQ(ContentionValues(ContentionKind::kMutex, 20, 7.9, 3'000'000'000,
                             kTicks, 5),
            std::make_pair(int64_t{7}, int64_t{1'000'000'000}));
  EXPECT_EQ(ContentionValues(ContentionKind::kBlock, 26, 2.0, 300, kTicks, 0),
            std::make_pair(int64_t{2}, int64_t{100}));
}

TEST(ContentionValues, Go119ScalesTheMutexProfileByTheFraction) {
  // scaleMutexProfile: cnt * period, ns * period.
  EXPECT_EQ(ContentionValues(ContentionKind::kMutex, 19, 3.0, 300, kTicks, 5),
            std::make_pair(int64_t{15}, int64_t{500}));
  // Not the block profile (scaleBlockProfile does nothing).
  EXPECT_EQ(ContentionValues(ContentionKind::kBlock, 19, 3.0, 300, kTicks, 5),
            std::make_pair(int64_t{3}, int64_t{100}));
}

TEST(ContentionValues, BlockCountIsAtLeastOne) {
  // blockProfileInternal: "Prevent callers from having to worry about
  // division by zero"; not mutexProfileInternal.
  EXPECT_EQ(
      ContentionValues(ContentionKind::kBlock, 26, 0.4, 3, kTicks, 1).first, 1);
  EXPECT_EQ(
      ContentionValues(ContentionKind::kMutex, 26, 0.4, 3, kTicks, 1).first, 0);
}

TEST(ContentionValues, HostileValuesSaturate) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(
      ContentionValues(ContentionKind::kMutex, 26, 1e300, INT64_MAX, 1, 1),
      std::make_pair(INT64_MAX, INT64_MAX));
  EXPECT_EQ(ContentionValues(ContentionKind::kMutex, 26, nan, INT64_MIN, 1, 1),
            std::make_pair(int64_t{0}, INT64_MIN));
  // Overflowing count * fraction wraps as Go's int64 multiply does.
  EXPECT_EQ(ContentionValues(ContentionKind::kMutex, 19, 4.611686018427388e18,
                             0, kTicks, 4)
                .first,
            0);
}

struct Decoded {
  std::vector<std::vector<std::string>> stacks;  // per sample, per location
  std::vector<std::vector<int64_t>> values;
};

Decoded Decode(const std::string& gz) {
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(gz);
  EXPECT_TRUE(p.ok()) << p.status();
  Decoded d;
  if (!p.ok()) return d;
  auto str = [&](int64_t i) { return p->string_table(static_cast<int>(i)); };
  auto fn = [&](uint64_t id) {
    for (const auto& f : p->function()) {
      if (f.id() == id) return str(f.name());
    }
    return std::string("?");
  };
  EXPECT_EQ(str(p->sample_type(0).type()), "contentions");
  EXPECT_EQ(str(p->sample_type(1).type()), "delay");
  EXPECT_EQ(str(p->sample_type(1).unit()), "nanoseconds");
  EXPECT_EQ(str(p->period_type().type()), "contentions");
  EXPECT_EQ(p->period(), 1);
  for (const auto& s : p->sample()) {
    std::vector<std::string> stack;
    for (uint64_t id : s.location_id()) {
      for (const auto& l : p->location()) {
        if (l.id() != id) continue;
        std::string loc;
        for (const auto& line : l.line()) {
          if (!loc.empty()) loc += "<";
          loc += fn(line.function_id());
        }
        stack.push_back(loc.empty() ? "?" : loc);
      }
    }
    d.stacks.push_back(stack);
    d.values.emplace_back(s.value().begin(), s.value().end());
  }
  return d;
}

ContentionSnapshot Snap(ContentionKind kind, int minor,
                        std::vector<ContentionRecord> records) {
  ContentionSnapshot s;
  s.kind = kind;
  s.go_minor = minor;
  s.ticks_per_second = kTicks;
  s.rate = 1;
  s.records = std::move(records);
  return s;
}

TEST(ContentionPprof, Go123PhysicalFramesAreExpandedAndTheSentinelDropped) {
  const GoProcess proc = testing::FakeProcess(1);
  // A return address in main.work (main.hash inlined there), then main.main;
  // the first word is the runtime's logicalStackSentinel (^uintptr(0)).
  const std::vector<uint64_t> stk = {~uint64_t{0}, 0x1011, 0x2021};
  Decoded d = Decode(ContentionPprof(
      proc, Snap(ContentionKind::kBlock, 23, {{stk, 2.0, 600}})));
  ASSERT_EQ(d.stacks.size(), 1u);
  EXPECT_EQ(d.stacks[0],
            (std::vector<std::string>{"main.hash<main.work", "main.main"}));
  EXPECT_EQ(d.values[0], (std::vector<int64_t>{2, 200}));
}

TEST(ContentionPprof, Go122KeepsAPcOutsideGoAsAnAddress) {
  const GoProcess proc = testing::FakeProcess(1);
  const std::vector<uint64_t> stk = {0x9999, 0x2021};
  Decoded d = Decode(
      ContentionPprof(proc, Snap(ContentionKind::kMutex, 22, {{stk, 1.0, 3}})));
  ASSERT_EQ(d.stacks.size(), 1u);
  EXPECT_EQ(d.stacks[0], (std::vector<std::string>{"?", "main.main"}));
}

TEST(ContentionPprof, EmptyProfileIsValid) {
  const GoProcess proc = testing::FakeProcess(1);
  Decoded d =
      Decode(ContentionPprof(proc, Snap(ContentionKind::kMutex, 26, {})));
  EXPECT_TRUE(d.stacks.empty());
}

// A block bucket: header, stack, blockRecord {count float64, cycles int64}.
void PutBlockBucket(testing::FakeMemory* m, uint64_t addr, uint64_t allnext,
                    uint64_t typ, const std::vector<uint64_t>& stack,
                    double count, int64_t cycles, uint64_t nstk) {
  m->PutU64(addr, 0);
  m->PutU64(addr + 8, allnext);
  m->PutU64(addr + 16, typ);
  m->PutU64(addr + 24, 0xabc);
  m->PutU64(addr + 32, 0);
  m->PutU64(addr + 40, nstk);
  uint64_t a = addr + 48;
  for (uint64_t pc : stack) {
    m->PutU64(a, pc);
    a += 8;
  }
  uint64_t bits;
  memcpy(&bits, &count, 8);
  m->PutU64(a, bits);
  m->PutU64(a + 8, static_cast<uint64_t>(cycles));
}

TEST(ContentionBuckets, HostileBlockListIsBounded) {
  testing::FakeMemory m;
  constexpr uint64_t kHead = 0x1000;
  m.PutU64(kHead, 0x10000);
  // A good record, a mutex bucket in the block list, a huge nstk, then a
  // record with hostile values that is still read as it is.
  PutBlockBucket(&m, 0x10000, 0x20000, 2, {0x1011, 0x2021}, 2.5, 600, 2);
  PutBlockBucket(&m, 0x20000, 0x30000, 3, {0x1011}, 1, 1, 1);
  PutBlockBucket(&m, 0x30000, 0x40000, 2, {}, 1, 1, uint64_t{1} << 40);
  PutBlockBucket(&m, 0x40000, 0, 2, {0x2021}, -1e308, INT64_MIN, 1);
  absl::StatusOr<BucketList> l = ReadBucketList(m, kHead, BucketType::kBlock);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->buckets.size(), 2u);
  EXPECT_EQ(l->bad_headers, 2u);
  EXPECT_EQ(l->buckets[0].count, 2.5);
  EXPECT_EQ(l->buckets[0].cycles, 600);
  EXPECT_EQ(l->buckets[1].cycles, INT64_MIN);
  // And the pprof of what came out is valid.
  const GoProcess proc = testing::FakeProcess(1);
  std::vector<ContentionRecord> records;
  for (const RawBucket& b : l->buckets) {
    records.push_back({b.stack, b.count, b.cycles});
  }
  Decoded d =
      Decode(ContentionPprof(proc, Snap(ContentionKind::kBlock, 26, records)));
  EXPECT_EQ(d.stacks.size(), 2u);
  // A cycle through the block list is DATA_LOSS, not a loop.
  m.PutU64(0x40000 + 8, 0x10000);
  EXPECT_EQ(ReadBucketList(m, kHead, BucketType::kBlock).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace gspy
