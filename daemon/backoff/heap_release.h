// Giving freed heap back to the system. glibc keeps what gspyd frees in
// per-thread arenas: a /metrics scrape of a busy node (tens of thousands of
// series) or a burst of process churn leaves each arena it touched at its
// high-water mark, so RSS stayed about a third above its baseline long
// after a churn (bench/churn_soak.sh) while malloc had under 10 MB in use.
// Fewer arenas, large buffers always mmap'd (returned on free), and a
// periodic malloc_trim bring RSS back down.
#ifndef GSPY_DAEMON_BACKOFF_HEAP_RELEASE_H_
#define GSPY_DAEMON_BACKOFF_HEAP_RELEASE_H_

#include "absl/time/time.h"

namespace gspy {

// Before any thread starts: at most `arenas` malloc arenas, and allocations
// of 1 MiB and more mmap'd (no dynamic threshold that would move them into
// the arenas after the first free). Environment settings
// (MALLOC_ARENA_MAX, GLIBC_TUNABLES) are left as the operator set them.
void TuneAllocator(int arenas = 2);

// Returns the free pages of every arena to the system (malloc_trim) when
// `interval` has passed since the last time; cheap to call often.
class HeapReleaser {
 public:
  explicit HeapReleaser(absl::Duration interval) : interval_(interval) {}
  // True when it trimmed.
  bool MaybeRelease(absl::Time now);

 private:
  const absl::Duration interval_;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace gspy

#endif  // GSPY_DAEMON_BACKOFF_HEAP_RELEASE_H_
