// A goroutine dump of a Go process (or core) read from outside, without
// stopping it: every goroutine in runtime.allgs with its id, status, wait
// reason and time, labels, creator and parent, and (unless running) its whole
// stack unwound from g.sched. Goroutines that change while they are read are
// read again, and dropped (counted) when they keep changing.
#ifndef GSPY_GOLANG_GOROUTINES_GOROUTINE_DUMP_H_
#define GSPY_GOLANG_GOROUTINES_GOROUTINE_DUMP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/go_binary.h"
#include "golang/goroutines/allgs_finder.h"
#include "golang/goroutines/labels_reader.h"
#include "golang/goroutines/memory_source.h"
#include "golang/goroutines/stack_unwinder.h"

namespace gspy {

struct GoroutineRecord {
  uint64_t g_addr = 0;
  uint64_t goid = 0;
  uint32_t status = 0;      // without the scan bit
  bool scan = false;        // the GC was scanning its stack
  std::string wait_reason;  // for waiting (and leaked) goroutines
  int64_t wait_nanos = -1;  // since the GC first saw it blocked; -1 unknown
  // Null: no labels. Goroutines often share one label set (those a
  // pprof.Do handler starts inherit its labels), and a set may be 512 KiB
  // (LabelLimits): each distinct set is held once per dump.
  std::shared_ptr<const LabelList> labels;
  std::string labels_error;  // labels unreadable (they are left out)
  // Not read for running goroutines: their saved context is stale.
  bool stack_read = false;
  UnwoundStack stack;
  uint64_t gopc = 0;         // link-time pc of the go statement, 0 if none
  uint64_t startpc = 0;      // link-time entry of the goroutine's function
  uint64_t parent_goid = 0;  // Go 1.21+, 0 when unknown
  bool system = false;       // started in a runtime.* function (not main)
};

struct DumpOptions {
  // Go's goroutine profile and debug=2 leave out the runtime's own
  // goroutines (GC workers, sweeper, ...) unless GOTRACEBACK=system.
  bool include_system = false;
  size_t max_goroutines = 1'000'000;
  size_t max_frames = 512;
  int attempts = 3;  // reads of a goroutine before it counts as dropped
  // Only the status, wait reason and ids of each goroutine: no labels, no
  // stack. One small read per goroutine, for the metrics' counts by state.
  bool states_only = false;
  // CLOCK_MONOTONIC now, Go's nanotime, for wait times; 0: leave them out
  // (a core's clock is gone).
  int64_t now_monotonic_ns = 0;
  // Where an earlier dump of the same process found allgs (GoroutineDump::
  // allgs): not searched for again, which costs dozens of reads. Not owned.
  const AllgsLocation* known_allgs = nullptr;
};

struct GoroutineDump {
  std::string go_version;
  AllgsLocation allgs;
  std::vector<GoroutineRecord> goroutines;  // in allgs order
  int64_t allgs_len = 0;       // entries in allgs, dead ones included
  int64_t dead = 0;            // free g's kept for reuse
  int64_t system_skipped = 0;  // runtime goroutines left out
  int64_t dropped = 0;         // kept changing while read
  int64_t retried = 0;         // changed once or more, then read whole
  int64_t unreadable = 0;      // not a plausible g (garbage) or unmapped
  std::vector<std::string> warnings;
};

// isSystemGoroutine (runtime/traceback.go): started (`startpc`, link-time)
// in a runtime.* function other than runtime.main. The finalizer and cleanup
// goroutines count as system here even while they run user code, where Go
// would show them.
bool IsSystemGoroutine(const GoBinary& binary, uint64_t startpc);

// NOT_FOUND when the process is gone (also mid-dump), FAILED_PRECONDITION
// when the binary's layout is unknown or allgs cannot be found.
absl::StatusOr<GoroutineDump> TakeGoroutineDump(const GoBinary& binary,
                                                const MemorySource& memory,
                                                uint64_t load_bias,
                                                const DumpOptions& options);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_GOROUTINE_DUMP_H_
