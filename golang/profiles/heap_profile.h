// Heap profiles of a running Go process, read from the runtime's own
// profile buckets (runtime.mbuckets) with process_vm_readv: no probe, no
// trap, nothing written to the target. The records are what the program's
// own runtime.MemProfile would return at that moment (the memRecord
// publication cycles followed as memProfileInternal does), and the pprof
// is built as runtime/pprof's writeHeapProto builds /debug/pprof/heap:
// the same sample types, period, scaling, leading runtime frames hidden,
// inlined frames, and the "bytes" label.
#ifndef GSPY_GOLANG_PROFILES_HEAP_PROFILE_H_
#define GSPY_GOLANG_PROFILES_HEAP_PROFILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "golang/binary/go_binary.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"
#include "golang/profiles/bucket_list.h"
#include "golang/profiles/bucket_pprof_options.h"
#include "golang/profiles/profile_globals.h"

namespace gspy {

// One runtime.MemProfileRecord.
struct HeapRecord {
  std::vector<uint64_t> stack;  // return addresses as the runtime saw them
  uint64_t size = 0;            // the bucket's object size
  int64_t alloc_objects = 0, alloc_bytes = 0;
  int64_t free_objects = 0, free_bytes = 0;
};

// What memProfileInternal(inuseZero=true) returns for these buckets when
// the publication cycle is `cycle`: each bucket's active cycle plus the
// future cycle a pending flush would add; when nothing is published yet (no
// GC so far), every cycle.
std::vector<HeapRecord> PublishedHeapRecords(const BucketList& list,
                                             uint32_t cycle);

struct HeapSnapshot {
  int go_minor = 0;
  int64_t rate = 0;  // MemProfileRate at the read
  absl::Time time;
  std::vector<HeapRecord> records;
  size_t torn_records = 0;  // dropped: changed under every re-read
  size_t bad_headers = 0;   // dropped: implausible header
};

// The allocations between two snapshots of one process (Pyroscope's delta
// heap): alloc_* of `after` minus those of `before` for the same stack and
// size, the in-use values of `after` as they are. Records with no new
// allocation and nothing in use are left out.
HeapSnapshot HeapDelta(const HeapSnapshot& before, const HeapSnapshot& after);

struct HeapReaderOptions {
  bool use_symtab = true;
  BucketListLimits limits;
};

class HeapReader {
 public:
  // FAILED_PRECONDITION when the heap profile is not available: the binary
  // does not link the memory profiler (the linker set
  // disableMemoryProfiling), MemProfileRate is 0, or the globals cannot be
  // found (the message says which and why). NOT_FOUND when the process is
  // gone.
  static absl::StatusOr<std::unique_ptr<HeapReader>> Open(
      const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
      HeapReaderOptions options = {});

  // One consistent read of every bucket. NOT_FOUND when the process is
  // gone, DATA_LOSS for a cyclic or unreadable list.
  absl::StatusOr<HeapSnapshot> Read(const MemorySource& memory) const;

  const ProfileGlobals& globals() const { return globals_; }

 private:
  HeapReader(ProfileGlobals g, int minor, HeapReaderOptions o)
      : globals_(std::move(g)), minor_(minor), options_(o) {}
  const ProfileGlobals globals_;
  const int minor_;
  const HeapReaderOptions options_;
};

// Whether the heap profile of this process can be read, and if not why
// (for `gspy targets` and /metrics): OK or HeapReader::Open's error.
absl::Status HeapProfileAvailable(const GoBinary& binary,
                                  const MemorySource& memory,
                                  uint64_t load_bias);

// A short name for HeapProfileAvailable's answer, for a metric label:
// "" (available), "no_memory_profiler", "memprofilerate_zero",
// "process_gone" or "globals_not_found".
const char* HeapUnavailableReason(const absl::Status& status);

// The pprof (gzip) of `snap` as runtime/pprof writes it for `proc`.
// `options` (gspyd's filter and labels) left empty, exactly Go's profile.
std::string HeapPprof(const GoProcess& proc, const HeapSnapshot& snap,
                      absl::Duration delta_window = absl::ZeroDuration(),
                      const BucketPprofOptions& options = {});

// runtime/pprof's scaleHeapSample for Go 1.minor: the estimated (count,
// bytes) behind `count` sampled objects of `bytes` in all (of `size` each).
std::pair<int64_t, int64_t> ScaleHeapSample(int minor, int64_t count,
                                            int64_t bytes, int64_t size,
                                            int64_t rate);

}  // namespace gspy

#endif  // GSPY_GOLANG_PROFILES_HEAP_PROFILE_H_
