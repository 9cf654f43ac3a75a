// The runtime's profile buckets (runtime/mprof.go), read from outside.
//
// mbuckets, bbuckets and xbuckets each hold the head of a list of buckets
// linked through `allnext`. A bucket is a 48-byte header
//   {next, allnext *bucket; typ bucketType; hash, size, nstk uintptr}
// followed by nstk return addresses, then the record: a memRecord (active
// plus three future memRecordCycles of {allocs, frees, alloc_bytes,
// free_bytes}, 128 bytes; go1.27 dropped the bytes: {allocs, frees}, the
// bytes being count * size) for the heap, a blockRecord {count float64;
// cycles int64} for block and mutex. The layout is the same in go1.18 ..
// go1.27 (checked in each release's mprof.go). Buckets are allocated with
// persistentalloc and never freed; new ones are pushed at the head, so a
// walk from the head sees a consistent list.
//
// Everything here is hostile memory: the walk is bounded (buckets, nstk),
// a cycle or an unreadable link ends it with an error, and a bucket whose
// header is implausible or whose record changes under every re-read is
// dropped and counted.
#ifndef GSPY_GOLANG_PROFILES_BUCKET_LIST_H_
#define GSPY_GOLANG_PROFILES_BUCKET_LIST_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

// runtime.bucketType.
enum class BucketType : uint64_t { kMemory = 1, kBlock = 2, kMutex = 3 };

inline constexpr uint64_t kBucketHeaderBytes = 48;
// The runtime's own limit (maxProfStackDepth, go1.23+; 32 before).
inline constexpr uint64_t kMaxBucketStack = 1024;

// One memRecordCycle (go1.27+: the bytes computed as count * size).
struct MemCycle {
  uint64_t allocs = 0, frees = 0, alloc_bytes = 0, free_bytes = 0;
  void Add(const MemCycle& o) {
    allocs += o.allocs;
    frees += o.frees;
    alloc_bytes += o.alloc_bytes;
    free_bytes += o.free_bytes;
  }
  bool operator==(const MemCycle&) const = default;
};

struct RawBucket {
  uint64_t addr = 0;
  uint64_t size = 0;                 // allocation size (heap buckets)
  std::vector<uint64_t> stack;       // return addresses, innermost first
  MemCycle active;                   // heap: memRecord.active
  std::array<MemCycle, 3> future{};  // heap: memRecord.future
  double count = 0;                  // block/mutex: blockRecord.count
  int64_t cycles = 0;                // block/mutex: blockRecord.cycles
};

struct BucketListLimits {
  // Words of a memRecordCycle: 4 up to go1.26, 2 from go1.27.
  int mem_cycle_words = 4;
  size_t max_buckets = 4'000'000;
  uint64_t max_stack = kMaxBucketStack;
  // Re-reads of a record that changed between two reads before dropping it.
  int torn_retries = 4;
};

struct BucketList {
  std::vector<RawBucket> buckets;
  // Buckets dropped: header implausible (type, nstk, size) or record never
  // read twice alike.
  size_t bad_headers = 0;
  size_t torn_records = 0;
};

// Walks the list whose head pointer is stored at `head_addr` (the address
// of runtime.mbuckets / bbuckets / xbuckets). An empty list is fine (no
// bucket yet). DATA_LOSS for a cyclic list, a list longer than
// max_buckets or a link that cannot be read; NOT_FOUND when the process is
// gone.
absl::StatusOr<BucketList> ReadBucketList(const MemorySource& memory,
                                          uint64_t head_addr, BucketType type,
                                          const BucketListLimits& limits = {});

}  // namespace gspy

#endif  // GSPY_GOLANG_PROFILES_BUCKET_LIST_H_
