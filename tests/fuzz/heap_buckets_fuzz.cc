// libFuzzer target for the runtime's profile buckets over hostile memory:
// the bucket list walk (cycles, lengths, nstk, types, torn reads), the
// publication cycles, and the heap pprof built from whatever comes out,
// which must decode as a valid profile. gspy reads these lists from live
// processes it does not trust; nothing read may crash it, loop or grow
// without bound.
//
// Input: one options byte, a u32 publication cycle, then memory regions,
// each {u64 address, u16 length, bytes} (little-endian; the last may be
// cut short). The list head (the address of runtime.mbuckets) is at
// kHead. Seeds: corpus/heap_buckets/ (make_seeds.py).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "golang/profiles/bucket_list.h"
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
  if (!list.ok() || type != BucketType::kMemory) return 0;
  HeapSnapshot snap;
  snap.go_minor = (options & kCountsOnly) ? 27 : 26;
  snap.rate = (options & kRateOne) ? 1 : 512 * 1024;
  snap.records = PublishedHeapRecords(*list, cycle);
  const GoProcess proc = testing::FakeProcess(1);
  const std::string pprof = HeapPprof(proc, snap);
  absl::StatusOr<perftools::profiles::Profile> decoded = DecodeProfile(pprof);
  if (!decoded.ok()) {
    fprintf(stderr, "heap pprof does not decode: %s\n",
            decoded.status().ToString().c_str());
    abort();
  }
  return 0;
}
