// The heap profile's bucket list read from made-up memory: the memRecord
// publication cycles as memProfileInternal applies them, and hostile lists
// (a cycle, a huge nstk, a torn record, an unreadable link, a process that
// exits mid-read). Also the read time for 10k and 100k buckets.
#include "golang/profiles/bucket_list.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "golang/profiles/heap_profile.h"
#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_memory.h"

namespace gspy {
namespace {

using testing::FakeMemory;

constexpr uint64_t kHead = 0x1000;  // &runtime.mbuckets

// Writes a memory bucket at `addr`: header, stack, memRecord.
struct BucketSpec {
  uint64_t allnext = 0;
  uint64_t typ = 1;
  uint64_t size = 64;
  std::vector<uint64_t> stack = {0x401234, 0x405678};
  MemCycle active;
  std::array<MemCycle, 3> future{};
};

void PutBucket(FakeMemory* m, uint64_t addr, const BucketSpec& b,
               uint64_t nstk_override = ~uint64_t{0}) {
  m->PutU64(addr, 0);
  m->PutU64(addr + 8, b.allnext);
  m->PutU64(addr + 16, b.typ);
  m->PutU64(addr + 24, 0xabc);
  m->PutU64(addr + 32, b.size);
  m->PutU64(addr + 40,
            nstk_override != ~uint64_t{0} ? nstk_override : b.stack.size());
  uint64_t a = addr + 48;
  for (uint64_t pc : b.stack) {
    m->PutU64(a, pc);
    a += 8;
  }
  for (const MemCycle* c :
       {&b.active, &b.future[0], &b.future[1], &b.future[2]}) {
    for (uint64_t v : {c->allocs, c->frees, c->alloc_bytes, c->free_bytes}) {
      m->PutU64(a, v);
      a += 8;
    }
  }
}

MemCycle Cycle(uint64_t allocs, uint64_t frees, uint64_t size = 64) {
  return {allocs, frees, allocs * size, frees * size};
}

TEST(BucketList, ReadsTheListInOrder) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  BucketSpec a{.allnext = 0x20000, .active = Cycle(5, 2)};
  BucketSpec b{.allnext = 0,
               .size = 1 << 20,
               .stack = {0x401000},
               .active = Cycle(3, 0, 1 << 20)};
  PutBucket(&m, 0x10000, a);
  PutBucket(&m, 0x20000, b);
  absl::StatusOr<BucketList> l = ReadBucketList(m, kHead, BucketType::kMemory);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->buckets.size(), 2u);
  EXPECT_EQ(l->buckets[0].stack, a.stack);
  EXPECT_EQ(l->buckets[0].active, a.active);
  EXPECT_EQ(l->buckets[1].size, uint64_t{1} << 20);
  EXPECT_EQ(l->buckets[1].stack, b.stack);
  EXPECT_EQ(l->bad_headers + l->torn_records, 0u);
}

TEST(BucketList, EmptyListIsNoBucket) {
  FakeMemory m;
  m.PutU64(kHead, 0);
  absl::StatusOr<BucketList> l = ReadBucketList(m, kHead, BucketType::kMemory);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->buckets.empty());
}

TEST(BucketList, CycleIsDataLoss) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  PutBucket(&m, 0x10000, {.allnext = 0x20000});
  PutBucket(&m, 0x20000, {.allnext = 0x10000});
  absl::StatusOr<BucketList> l = ReadBucketList(m, kHead, BucketType::kMemory);
  EXPECT_EQ(l.status().code(), absl::StatusCode::kDataLoss) << l.status();
  EXPECT_NE(l.status().message().find("cyclic"), std::string::npos);
}

TEST(BucketList, TooLongIsDataLoss) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  for (uint64_t i = 0; i < 10; ++i) {
    PutBucket(&m, 0x10000 + i * 0x1000,
              {.allnext = 0x10000 + (i + 1) * 0x1000});
  }
  PutBucket(&m, 0x10000 + 10 * 0x1000, {.allnext = 0});
  BucketListLimits limits;
  limits.max_buckets = 5;
  EXPECT_EQ(
      ReadBucketList(m, kHead, BucketType::kMemory, limits).status().code(),
      absl::StatusCode::kDataLoss);
  limits.max_buckets = 11;
  absl::StatusOr<BucketList> l =
      ReadBucketList(m, kHead, BucketType::kMemory, limits);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->buckets.size(), 11u);
}

TEST(BucketList, HugeNstkOrWrongTypeIsDroppedAndCounted) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  PutBucket(&m, 0x10000, {.allnext = 0x20000}, /*nstk=*/uint64_t{1} << 40);
  PutBucket(&m, 0x20000, {.allnext = 0x30000, .typ = 2});
  PutBucket(&m, 0x30000, {.allnext = 0, .active = Cycle(1, 0)});
  absl::StatusOr<BucketList> l = ReadBucketList(m, kHead, BucketType::kMemory);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->bad_headers, 2u);
  ASSERT_EQ(l->buckets.size(), 1u);
  EXPECT_EQ(l->buckets[0].active, Cycle(1, 0));
}

TEST(BucketList, UnreadableLinkIsDataLoss) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  PutBucket(&m, 0x10000, {.allnext = 0xdead0000});
  EXPECT_EQ(ReadBucketList(m, kHead, BucketType::kMemory).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(BucketList, TornRecordIsDroppedAndCounted) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  PutBucket(&m, 0x10000, {.allnext = 0x20000});
  PutBucket(&m, 0x20000, {.allnext = 0, .active = Cycle(7, 1)});
  // The first bucket's active.allocs changes before every read of it.
  uint64_t n = 0;
  m.mutate = [&](uint64_t addr) {
    if (addr >= 0x10000 && addr < 0x11000) m.PutU64(0x10000 + 48 + 16, ++n);
  };
  absl::StatusOr<BucketList> l = ReadBucketList(m, kHead, BucketType::kMemory);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->torn_records, 1u);
  ASSERT_EQ(l->buckets.size(), 1u);
  EXPECT_EQ(l->buckets[0].active, Cycle(7, 1));
}

TEST(BucketList, RecordChangedOnceIsReadAgain) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  PutBucket(&m, 0x10000, {.allnext = 0, .active = Cycle(1, 0)});
  int reads = 0;
  m.mutate = [&](uint64_t) {
    if (++reads == 2) m.PutU64(0x10000 + 48 + 16, 2);  // allocs 1 -> 2
  };
  absl::StatusOr<BucketList> l = ReadBucketList(m, kHead, BucketType::kMemory);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->torn_records, 0u);
  ASSERT_EQ(l->buckets.size(), 1u);
  EXPECT_EQ(l->buckets[0].active.allocs, 2u);
}

TEST(BucketList, ProcessGoneIsNotFound) {
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  PutBucket(&m, 0x10000, {.allnext = 0});
  m.gone = true;
  EXPECT_EQ(ReadBucketList(m, kHead, BucketType::kMemory).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(BucketList, Go127CountsOnly) {
  // go1.27: memRecordCycle is {allocs, frees}; bytes are count * size.
  FakeMemory m;
  m.PutU64(kHead, 0x10000);
  uint64_t a = 0x10000;
  for (uint64_t v : {uint64_t{0}, uint64_t{0}, uint64_t{1}, uint64_t{0},
                     uint64_t{128}, uint64_t{1}, uint64_t{0x401000}}) {
    m.PutU64(a, v);
    a += 8;
  }
  for (uint64_t v : {9, 4, 0, 0, 1, 0, 0, 0}) {  // active, future[0..2]
    m.PutU64(a, v);
    a += 8;
  }
  BucketListLimits limits;
  limits.mem_cycle_words = 2;
  absl::StatusOr<BucketList> l =
      ReadBucketList(m, kHead, BucketType::kMemory, limits);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->buckets.size(), 1u);
  EXPECT_EQ(l->buckets[0].active, Cycle(9, 4, 128));
  EXPECT_EQ(l->buckets[0].future[1], Cycle(1, 0, 128));
}

BucketList ListOf(std::vector<std::pair<MemCycle, std::array<MemCycle, 3>>> v) {
  BucketList l;
  for (auto& [active, future] : v) {
    RawBucket b;
    b.size = 64;
    b.active = active;
    b.future = future;
    l.buckets.push_back(b);
  }
  return l;
}

TEST(PublishedHeapRecords, PendingFlushOfTheCurrentCycleIsAdded) {
  // mProf_FlushLocked(cycle % 3) publishes future[cycle % 3]; the other
  // futures (allocations of later cycles, frees of the sweep) are not.
  BucketList l =
      ListOf({{Cycle(10, 4), {Cycle(1, 0), Cycle(2, 1), Cycle(3, 0)}}});
  std::vector<HeapRecord> r = PublishedHeapRecords(l, /*cycle=*/7);  // 7%3=1
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].alloc_objects, 12);
  EXPECT_EQ(r[0].free_objects, 5);
  EXPECT_EQ(r[0].alloc_bytes, 12 * 64);
  EXPECT_EQ(r[0].free_bytes, 5 * 64);
}

TEST(PublishedHeapRecords, BeforeAnyGcEveryCycleIsAdded) {
  BucketList l =
      ListOf({{Cycle(0, 0), {Cycle(1, 0), Cycle(0, 0), Cycle(3, 0)}},
              {Cycle(0, 0), {Cycle(0, 0), Cycle(0, 0), Cycle(2, 0)}}});
  std::vector<HeapRecord> r = PublishedHeapRecords(l, 1);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].alloc_objects, 4);
  EXPECT_EQ(r[1].alloc_objects, 2);
}

TEST(ScaleHeapSample, AsRuntimePprof) {
  // rate <= 1: nothing to scale.
  EXPECT_EQ(ScaleHeapSample(26, 3, 300, 100, 1),
            std::make_pair(int64_t{3}, int64_t{300}));
  EXPECT_EQ(ScaleHeapSample(26, 0, 0, 100, 512 * 1024),
            std::make_pair(int64_t{0}, int64_t{0}));
  // One sampled 1 MiB object at 512 KiB: 1/(1-e^-2) of it.
  const double s = 1 / (1 - std::exp(-2.0));
  EXPECT_EQ(ScaleHeapSample(26, 1, 1 << 20, 1 << 20, 512 * 1024),
            std::make_pair(static_cast<int64_t>(s),
                           static_cast<int64_t>((1 << 20) * s)));
  EXPECT_EQ(ScaleHeapSample(27, 1, 0, 1 << 20, 512 * 1024),
            std::make_pair(static_cast<int64_t>(s),
                           static_cast<int64_t>((1 << 20) * s)));
}

TEST(HeapDelta, AllocationsOfTheWindowInUseAtTheEnd) {
  HeapSnapshot before, after;
  before.records.push_back({{1, 2}, 64, 10, 640, 4, 256});
  after.records.push_back({{1, 2}, 64, 15, 960, 6, 384});
  after.records.push_back({{3}, 64, 2, 128, 0, 0});
  after.records.push_back({{1, 2}, 32, 0, 0, 0, 0});
  HeapSnapshot d = HeapDelta(before, after);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].alloc_objects, 5);
  EXPECT_EQ(d.records[0].alloc_bytes, 320);
  EXPECT_EQ(d.records[0].alloc_objects - d.records[0].free_objects, 9);
  EXPECT_EQ(d.records[0].alloc_bytes - d.records[0].free_bytes, 576);
  EXPECT_EQ(d.records[1].alloc_objects, 2);
}

// Flat memory for the timing: FakeMemory's byte map is too slow to say
// anything about 100k buckets.
class FlatMemory : public MemorySource {
 public:
  FlatMemory(uint64_t base, size_t size) : base_(base), bytes_(size) {}
  void PutU64(uint64_t addr, uint64_t v) {
    memcpy(&bytes_[addr - base_], &v, 8);
  }
  absl::Status Read(uint64_t addr, absl::Span<char> out) const override {
    if (addr < base_ || addr - base_ + out.size() > bytes_.size()) {
      return absl::OutOfRangeError("unmapped");
    }
    memcpy(out.data(), &bytes_[addr - base_], out.size());
    return absl::OkStatus();
  }
  std::string Describe() const override { return "flat"; }

 private:
  uint64_t base_;
  std::vector<char> bytes_;
};

TEST(BucketListTiming, TenAndHundredThousandBuckets) {
  for (size_t n : {size_t{10'000}, size_t{100'000}}) {
    // 8-frame stacks: 48 + 64 + 128 = 240 bytes a bucket.
    constexpr uint64_t kBase = 0x100000, kStride = 240;
    FlatMemory m(kBase - 0x1000, 0x1000 + n * kStride);
    m.PutU64(kBase - 8, kBase);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t a = kBase + i * kStride;
      m.PutU64(a + 8, i + 1 < n ? a + kStride : 0);
      m.PutU64(a + 16, 1);
      m.PutU64(a + 32, 64);
      m.PutU64(a + 40, 8);
      for (int f = 0; f < 8; ++f) m.PutU64(a + 48 + 8 * f, 0x401000 + f);
      m.PutU64(a + 112, i);
    }
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<BucketList> l =
        ReadBucketList(m, kBase - 8, BucketType::kMemory);
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    ASSERT_TRUE(l.ok()) << l.status();
    EXPECT_EQ(l->buckets.size(), n);
    std::vector<HeapRecord> r = PublishedHeapRecords(*l, 0);
    EXPECT_EQ(r.size(), n);
    printf(
        "read %zu buckets (8 frames each) from memory in %.1f ms (%.2f us a "
        "bucket)\n",
        n, ms, ms * 1000 / static_cast<double>(n));
  }
}

}  // namespace
}  // namespace gspy
