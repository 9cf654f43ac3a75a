// RuntimeBooks: the Go runtime's own books (what runtime/metrics.Read and
// ReadMemStats report) read from outside with process_vm_readv, without
// stopping or probing the process. One instance per process: it keeps the
// globals' addresses, the last values (to report the GC pauses since the
// last read and to check that counters only grow) and the series it has
// disabled.
//
// The values are computed the way Go's metrics.go computes them, so that at
// a quiet moment they equal the target's own metrics.Read exactly (see
// tests/e2e/books_test.go). Hostile or torn memory never turns into a
// value: reads are bounded, every struct is checked, and a series that
// fails a check is disabled for the process with the reason.
#ifndef GSPY_GOLANG_BOOKS_RUNTIME_BOOKS_H_
#define GSPY_GOLANG_BOOKS_RUNTIME_BOOKS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/books_layout.h"
#include "golang/binary/go_binary.h"
#include "golang/books/books_finder.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

// The series RuntimeBooks reads, named after their runtime/metrics names
// (the pause ring, which metrics lacks, after MemStats).
enum class BooksSeries {
  kGcCycles,          // /gc/cycles/{total,forced,automatic}:gc-cycles
  kGcPauseRing,       // MemStats.PauseNs/PauseEnd
  kHeapGoal,          // /gc/heap/goal:bytes
  kHeapLive,          // /gc/heap/live:bytes
  kGogc,              // /gc/gogc:percent
  kMemoryLimit,       // /gc/gomemlimit:bytes
  kGcPauses,          // /gc/pauses:seconds
  kSchedLatencies,    // /sched/latencies:seconds
  kStwStoppingGc,     // /sched/pauses/stopping/gc:seconds
  kStwStoppingOther,  // /sched/pauses/stopping/other:seconds
  kStwTotalGc,        // /sched/pauses/total/gc:seconds
  kStwTotalOther,     // /sched/pauses/total/other:seconds
  kMutexWait,         // /sync/mutex/wait/total:seconds
  kGomaxprocs,        // /sched/gomaxprocs:threads
  kThreads,           // /sched/threads/total:threads
  kCgoCalls,          // /cgo/go-to-c-calls:calls
};
inline constexpr int kBooksSeriesCount = 16;
// "gc_cycles", "sched_latencies", ...: the series label of gspy's metrics.
const char* BooksSeriesName(BooksSeries s);

struct GcPause {
  uint32_t cycle = 0;  // 1 for the first GC
  uint64_t pause_ns = 0;
  uint64_t end_unix_ns = 0;
};

struct PauseRing {
  // Pauses of the cycles completed since the last read (on the first read,
  // those the ring still holds), oldest first.
  std::vector<GcPause> pauses;
  // Cycles whose pause had left the 256-entry ring before this read.
  uint64_t lost = 0;
  uint64_t pause_total_ns = 0;  // MemStats.PauseTotalNs
};

// A runtime/metrics Float64Histogram: counts and boundaries (seconds,
// -Inf first, +Inf last, one more than counts).
struct BooksHistogram {
  std::vector<uint64_t> counts;
  const std::vector<double>* boundaries = nullptr;
};

// Each field holds the value or why there is none: UNIMPLEMENTED when the
// Go version lacks it, FAILED_PRECONDITION when disabled (the message says
// why), UNAVAILABLE for a read that was torn this time.
struct BooksSnapshot {
  int go_minor = 0;
  absl::StatusOr<uint64_t> gc_cycles = absl::UnknownError("unread");
  absl::StatusOr<uint64_t> gc_forced_cycles = absl::UnknownError("unread");
  absl::StatusOr<PauseRing> pause_ring = absl::UnknownError("unread");
  absl::StatusOr<uint64_t> heap_goal = absl::UnknownError("unread");
  absl::StatusOr<uint64_t> heap_live = absl::UnknownError("unread");
  // gcPercent; -1 when GOGC=off. metrics.Read exports uint64(gogc).
  absl::StatusOr<int64_t> gogc = absl::UnknownError("unread");
  absl::StatusOr<int64_t> memory_limit = absl::UnknownError("unread");
  absl::StatusOr<BooksHistogram> gc_pauses = absl::UnknownError("unread");
  absl::StatusOr<BooksHistogram> sched_latencies = absl::UnknownError("unread");
  absl::StatusOr<BooksHistogram> stw_stopping_gc = absl::UnknownError("unread");
  absl::StatusOr<BooksHistogram> stw_stopping_other =
      absl::UnknownError("unread");
  absl::StatusOr<BooksHistogram> stw_total_gc = absl::UnknownError("unread");
  absl::StatusOr<BooksHistogram> stw_total_other = absl::UnknownError("unread");
  // Nanoseconds; metrics.Read exports float64(ns)/1e9.
  absl::StatusOr<int64_t> mutex_wait_ns = absl::UnknownError("unread");
  absl::StatusOr<int64_t> gomaxprocs = absl::UnknownError("unread");
  absl::StatusOr<int64_t> threads = absl::UnknownError("unread");
  absl::StatusOr<uint64_t> cgo_calls = absl::UnknownError("unread");
};

struct BooksOptions {
  BooksFinderOptions finder;
  // Ms walked on allm (cgo calls, lock wait); more disables those series.
  int max_ms = 10'000;
};

class RuntimeBooks {
 public:
  // Finds the globals. FAILED_PRECONDITION when the binary's books layout
  // is unknown; NOT_FOUND when the process is gone. Series whose globals
  // were not found start disabled.
  static absl::StatusOr<std::unique_ptr<RuntimeBooks>> Open(
      const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
      BooksOptions options = {});

  // Reads every series once. NOT_FOUND when the process is gone.
  absl::StatusOr<BooksSnapshot> Read(const MemorySource& memory);

  // Series disabled for this process: series -> (reason code, message).
  // Reason codes: "not_found" (global not found), "unreadable",
  // "implausible", "not_monotonic".
  struct Disabled {
    std::string reason;
    std::string message;
  };
  const std::map<BooksSeries, Disabled>& disabled() const { return disabled_; }
  const BooksGlobals& globals() const { return globals_; }
  int go_minor() const { return minor_; }

 private:
  RuntimeBooks(BooksLayout layout, BooksGlobals globals, int minor,
               BooksOptions options);
  class Reader;

  const BooksLayout layout_;
  const BooksGlobals globals_;
  const int minor_;
  const BooksOptions options_;
  std::map<BooksSeries, Disabled> disabled_;
  // Last values, for the monotonic checks and the pause ring.
  std::map<BooksSeries, std::vector<uint64_t>> last_counts_;
  bool have_numgc_ = false;
  uint32_t last_numgc_ = 0;
};

}  // namespace gspy

#endif  // GSPY_GOLANG_BOOKS_RUNTIME_BOOKS_H_
