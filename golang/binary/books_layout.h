// Offsets into the runtime structs that hold the Go runtime's own books
// (what runtime/metrics.Read and ReadMemStats report): runtime.mstats,
// runtime.gcControllerState, runtime.schedt, runtime.timeHistogram and the
// per-M counters of runtime.m. Kept apart from RuntimeLayout, which feeds
// the BPF programs' target_config; gspyd reads these with process_vm_readv.
//
// GSPY_BOOKS_FIELDS is the one list of the fields: the struct members, the
// DWARF names they are read from and the column order of the generated table
// (books_layout_table.cc, written by tools/gen_layout_table).
#ifndef GSPY_GOLANG_BINARY_BOOKS_LAYOUT_H_
#define GSPY_GOLANG_BINARY_BOOKS_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/file_image.h"

namespace gspy {

// X(field, DWARF struct, DWARF member). An empty member means the struct's
// byte size. -1 where the version has no such field.
#define GSPY_BOOKS_FIELDS(X)                                                 \
  X(mstats_size, "runtime.mstats", "")                                       \
  X(mstats_numgc, "runtime.mstats", "numgc")                                 \
  X(mstats_numforcedgc, "runtime.mstats", "numforcedgc")                     \
  X(mstats_pause_ns, "runtime.mstats", "pause_ns")                           \
  X(mstats_pause_end, "runtime.mstats", "pause_end")                         \
  X(mstats_pause_total_ns, "runtime.mstats", "pause_total_ns")               \
  X(mstats_last_gc_unix, "runtime.mstats", "last_gc_unix")                   \
  X(mstats_gc_pause_dist, "runtime.mstats", "gcPauseDist")                   \
  X(gc_size, "runtime.gcControllerState", "")                                \
  X(gc_percent, "runtime.gcControllerState", "gcPercent")                    \
  X(gc_memory_limit, "runtime.gcControllerState", "memoryLimit")             \
  X(gc_heap_goal, "runtime.gcControllerState", "heapGoal")                   \
  X(gc_percent_heap_goal, "runtime.gcControllerState", "gcPercentHeapGoal")  \
  X(gc_sweep_dist_min_trigger, "runtime.gcControllerState",                  \
    "sweepDistMinTrigger")                                                   \
  X(gc_triggered, "runtime.gcControllerState", "triggered")                  \
  X(gc_heap_live, "runtime.gcControllerState", "heapLive")                   \
  X(gc_heap_marked, "runtime.gcControllerState", "heapMarked")               \
  X(gc_heap_free, "runtime.gcControllerState", "heapFree")                   \
  X(gc_total_alloc, "runtime.gcControllerState", "totalAlloc")               \
  X(gc_total_free, "runtime.gcControllerState", "totalFree")                 \
  X(gc_mapped_ready, "runtime.gcControllerState", "mappedReady")             \
  X(sched_size, "runtime.schedt", "")                                        \
  X(sched_lock, "runtime.schedt", "lock")                                    \
  X(sched_mnext, "runtime.schedt", "mnext")                                  \
  X(sched_nmfreed, "runtime.schedt", "nmfreed")                              \
  X(sched_time_to_run, "runtime.schedt", "timeToRun")                        \
  X(sched_total_mutex_wait_time, "runtime.schedt", "totalMutexWaitTime")     \
  X(sched_stw_stopping_time_gc, "runtime.schedt", "stwStoppingTimeGC")       \
  X(sched_stw_stopping_time_other, "runtime.schedt", "stwStoppingTimeOther") \
  X(sched_stw_total_time_gc, "runtime.schedt", "stwTotalTimeGC")             \
  X(sched_stw_total_time_other, "runtime.schedt", "stwTotalTimeOther")       \
  X(sched_total_runtime_lock_wait_time, "runtime.schedt",                    \
    "totalRuntimeLockWaitTime")                                              \
  X(th_counts, "runtime.timeHistogram", "counts")                            \
  X(th_underflow, "runtime.timeHistogram", "underflow")                      \
  X(th_overflow, "runtime.timeHistogram", "overflow")                        \
  X(m_ncgocall, "runtime.m", "ncgocall")                                     \
  X(m_alllink, "runtime.m", "alllink")                                       \
  X(m_lock_profile, "runtime.m", "mLockProfile")                             \
  X(lock_profile_wait_time, "runtime.mLockProfile", "waitTime")

struct BooksLayout {
#define GSPY_BOOKS_DECLARE(field, type, member) int32_t field = -1;
  GSPY_BOOKS_FIELDS(GSPY_BOOKS_DECLARE)
#undef GSPY_BOOKS_DECLARE

  // Buckets of a timeHistogram's counts array: counts sit at offset 0, right
  // before underflow. 0 when unknown.
  int time_histogram_buckets() const {
    return th_counts == 0 && th_underflow > 0 ? th_underflow / 8 : 0;
  }
};

// One generated row: the layout of one Go minor version.
struct BooksLayoutRow {
  int minor;                   // 26 for go1.26.x
  const char* generated_from;  // the toolchain that produced the row
  BooksLayout layout;
};

// The DWARF name pairs of every field, in GSPY_BOOKS_FIELDS order.
struct BooksFieldName {
  std::string_view field;
  std::string_view dwarf_struct;
  std::string_view dwarf_member;  // empty: the struct's byte size
};
const std::vector<BooksFieldName>& BooksFieldNames();
// Pointers to the fields of `l`, in the same order.
std::vector<int32_t*> BooksFieldPointers(BooksLayout* l);
std::vector<int32_t> BooksFieldValues(const BooksLayout& l);

// All generated rows, sorted by minor version (books_layout_table.cc).
const std::vector<BooksLayoutRow>& BuiltinBooksLayoutTable();
// The row for Go 1.minor; nullopt when not in the table.
std::optional<BooksLayout> BuiltinBooksLayout(int minor);

// Reads the fields from a binary's DWARF (`elf_bytes` is the whole file).
// NOT_FOUND without DWARF or without the runtime.mstats/schedt/
// gcControllerState/timeHistogram structs.
absl::StatusOr<BooksLayout> BooksLayoutFromDwarf(std::string_view elf_bytes);
absl::StatusOr<BooksLayout> BooksLayoutFromDwarf(
    const gobinary_internal::FileImage& image);

}  // namespace gspy

#endif  // GSPY_GOLANG_BINARY_BOOKS_LAYOUT_H_
