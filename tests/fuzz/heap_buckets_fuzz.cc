// libFuzzer target for the runtime's profile buckets over hostile memory:
// the bucket list walk (cycles, lengths, nstk, types, torn reads), the
// publication cycles, and the heap, mutex or block pprof built from
// whatever comes out (contention values from hostile counts, cycles, tick
// rates and mutex fractions), which must decode as a valid profile. gspy reads
// these lists from live processes it does not trust; nothing read may crash it,
// loop or grow without bound.
//
// Input: one options byte, a u32 publication cycle (for block and mutex
// lists: the mutex fraction and, shifted, the ticks per second), then
// memory regions,
// each {u64 address, u16 length, bytes} (little-endian; the last may be
// cut short). The list head (the address of runtime.mbuckets) is at
// kHead. Seeds: corpus/heap_buckets/ (make_seeds.py).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "golang/profiles/bucket_list.h"
#include "golang/profiles/contention_profile.h"
#include "golang/profiles/heap_profile.h"
#include "profile/pprof/profile_builder.h"
#include "tests/fuzz/region_memory.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy {
namespace {

constexpr uint64_t kHead = 0x500000;

enum Options : uint8_t {
  kCountsOnly = 1,  // go1.27's memRecordCycle {allocs, frees}
  kBlock = 2,       // a block profile list (blockRecord)
  kMutex = 4,
  kRateOne = 8,  // MemProfileRate 1: no scaling
  kGo119 = 16,   // go1.19's mutex scaling by the fraction; go1.23's stacks
};

}  // namespace
}  // namespace gspy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gspy;
  if (size < 5) return 0;
  const uint8_t options = data[0];
  uint32_t cycle;
  std::memcpy(&cycle, data + 1, 4);
  std::string_view rest(reinterpret_cast<const char*>(data) + 5, size - 5);
  RegionMemory memory;
  memory.AddEncoded(rest);
  BucketListLimits limits;
  limits.mem_cycle_words = (options & kCountsOnly) ? 2 : 4;
  limits.max_buckets = 4096;
  const BucketType type = (options & kBlock)   ? BucketType::kBlock
                          : (options & kMutex) ? BucketType::kMutex
                                               : BucketType::kMemory;
  absl::StatusOr<BucketList> list = ReadBucketList(memory, kHead, type, limits);
  if (!list.ok()) return 0;
  const GoProcess proc = testing::FakeProcess(1);
  if (type != BucketType::kMemory) {
    ContentionSnapshot c;
    c.kind = type == BucketType::kMutex ? ContentionKind::kMutex
                                        : ContentionKind::kBlock;
    c.go_minor = (options & kGo119) ? 19 : 23;
    c.rate = cycle & 0xff;
    c.ticks_per_second = (cycle >> 8) + 1;
    for (RawBucket& b : list->buckets) {
      c.records.push_back({std::move(b.stack), b.count, b.cycles});
    }
    const std::string pprof = ContentionPprof(proc, c);
    if (!DecodeProfile(pprof).ok()) {
      fprintf(stderr, "contention pprof does not decode\n");
      abort();
    }
    return 0;
  }
  HeapSnapshot snap;
  snap.go_minor = (options & kCountsOnly) ? 27 : 26;
  snap.rate = (options & kRateOne) ? 1 : 512 * 1024;
  snap.records = PublishedHeapRecords(*list, cycle);
  const std::string pprof = HeapPprof(proc, snap);
  absl::StatusOr<perftools::profiles::Profile> decoded = DecodeProfile(pprof);
  if (!decoded.ok()) {
    fprintf(stderr, "heap pprof does not decode: %s\n",
            decoded.status().ToString().c_str());
    abort();
  }
  return 0;
}
