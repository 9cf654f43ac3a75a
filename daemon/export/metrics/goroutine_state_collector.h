// Goroutines by state for /metrics: at each scrape, the goroutines of every
// Go process (up to a limit) are counted by status and, for waiting ones, by
// wait reason, read from outside like a goroutine dump but without labels or
// stacks (the g heads in batches of 1024 per process_vm_readv; the process
// is never stopped). Where a process's allgs is and its load bias are
// remembered from one scrape to the next, per process (pid and start time),
// so a steady scrape costs a few system calls per process. System goroutines
// (GC workers, sweeper, ...) are counted, as in Go 1.26's
// /sched/goroutines/*:goroutines metrics.
#ifndef GSPY_DAEMON_EXPORT_METRICS_GOROUTINE_STATE_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_GOROUTINE_STATE_COLLECTOR_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/metrics_registry.h"
#include "golang/goroutines/allgs_finder.h"
#include "golang/process/go_process.h"

namespace gspy {

struct GoroutineStateOptions {
  // Processes read per scrape; the others are counted as skipped. Bounds the
  // scrape's time and the series count.
  size_t max_processes = 64;
  // allgs entries read per process (a process with more is counted partly,
  // and says so in gspy_goroutine_states_truncated).
  size_t max_goroutines = 200'000;
  // Time a scrape may spend reading; processes not reached by then are
  // counted as skipped (Prometheus' default scrape timeout is 10 s).
  absl::Duration budget = absl::Seconds(4);
};

class GoroutineStateCollector {
 public:
  // `processes` must outlive the collector.
  GoroutineStateCollector(GoroutineStateOptions options,
                          const ProcessTable* processes)
      : options_(options), processes_(processes) {}

  // Reads every Go process (within the limits) now and adds
  // gspy_go_goroutines{state}, gspy_go_goroutines_waiting{reason} and the
  // collector's own health.
  void Collect(MetricFamilies* out);

 private:
  const GoroutineStateOptions options_;
  const ProcessTable* const processes_;
  // What a scrape learnt of a process that the next one can reuse.
  struct KnownProcess {
    uint64_t start_ticks = 0;
    uint64_t exe_inode = 0;
    uint64_t load_bias = 0;
    AllgsLocation allgs;
  };

  absl::Mutex mu_;  // Collect runs one scrape at a time
  absl::flat_hash_map<int, KnownProcess> known_ ABSL_GUARDED_BY(mu_);
  uint64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_GOROUTINE_STATE_COLLECTOR_H_
