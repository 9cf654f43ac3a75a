// Mutex and block profiles of a running Go process, read from the runtime's
// own buckets (runtime.xbuckets, runtime.bbuckets) with process_vm_readv:
// what the program's pprof.Lookup("mutex"/"block").WriteTo(w, 0) would
// write at that moment. These profiles are kept only when the program
// turned them on (runtime.SetMutexProfileFraction, SetBlockProfileRate);
// they are exact in the sense that the runtime's own records are read, and
// reading them costs the target nothing.
//
// The values, per release (runtime/pprof printCountCycleProfile and
// runtime/mprof.go): contentions = int64(blockRecord.count) (block: at
// least 1), delay = int64(cycles / (ticks per second / 1e9)). go1.18 and
// go1.19 scale the mutex profile in runtime/pprof by the current fraction
// (scaleMutexProfile); go1.20+ record it scaled in the runtime.
#ifndef GSPY_GOLANG_PROFILES_CONTENTION_PROFILE_H_
#define GSPY_GOLANG_PROFILES_CONTENTION_PROFILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
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

enum class ContentionKind { kMutex, kBlock };

// "mutex" or "block".
const char* ContentionKindName(ContentionKind kind);

// One runtime.BlockProfileRecord before conversion.
struct ContentionRecord {
  std::vector<uint64_t> stack;  // as the runtime saved it
  double count = 0;             // blockRecord.count
  int64_t cycles = 0;           // blockRecord.cycles (CPU ticks)
};

struct ContentionSnapshot {
  ContentionKind kind = ContentionKind::kMutex;
  int go_minor = 0;
  absl::Time time;
  // The mutex fraction, or the block rate in CPU ticks, at the read.
  int64_t rate = 0;
  int64_t ticks_per_second = 0;
  // ticks_per_second measured here: the program never needed it, so
  // runtime.ticks.val was still 0 (its own profile would measure it then).
  bool ticks_measured = false;
  std::vector<ContentionRecord> records;
  size_t torn_records = 0;
  size_t bad_headers = 0;
};

struct ContentionReaderOptions {
  bool use_symtab = true;
  BucketListLimits limits;
};

class ContentionReader {
 public:
  // FAILED_PRECONDITION when the profile's globals cannot be found (the
  // message says which and why). NOT_FOUND when the process is gone.
  static absl::StatusOr<std::unique_ptr<ContentionReader>> Open(
      const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
      ContentionKind kind, ContentionReaderOptions options = {});

  // FAILED_PRECONDITION when the program has not turned the profile on
  // (rate 0, no bucket): the message says what the owner can do. An empty
  // snapshot when it is on but nothing was recorded yet. NOT_FOUND when the
  // process is gone, DATA_LOSS for a cyclic or unreadable list.
  absl::StatusOr<ContentionSnapshot> Read(const MemorySource& memory) const;

 private:
  ContentionReader(ProfileGlobals g, ContentionKind kind, int minor,
                   ContentionReaderOptions o)
      : globals_(std::move(g)), kind_(kind), minor_(minor), options_(o) {}
  const ProfileGlobals globals_;
  const ContentionKind kind_;
  const int minor_;
  const ContentionReaderOptions options_;
};

// The (contentions, delay in ns) sample of one record, as runtime/pprof
// of Go 1.minor writes it; `rate` is the mutex fraction at the read.
std::pair<int64_t, int64_t> ContentionValues(ContentionKind kind, int minor,
                                             double count, int64_t cycles,
                                             int64_t ticks_per_second,
                                             int64_t rate);

// What happened between two snapshots of one process: per stack, the
// contentions and cycles of `after` minus those of `before`; stacks with
// nothing new are left out.
ContentionSnapshot ContentionDelta(const ContentionSnapshot& before,
                                   const ContentionSnapshot& after);

// The pprof (gzip) of `snap` as runtime/pprof writes it for `proc`;
// `delta_window` > 0 says the values are of that window (ContentionDelta).
// `options` (gspyd's filter and labels) left empty, exactly Go's profile.
std::string ContentionPprof(const GoProcess& proc,
                            const ContentionSnapshot& snap,
                            absl::Duration delta_window = absl::ZeroDuration(),
                            const BucketPprofOptions& options = {});

}  // namespace gspy

#endif  // GSPY_GOLANG_PROFILES_CONTENTION_PROFILE_H_
