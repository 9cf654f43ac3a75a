// The Go runtime's own books in /metrics: at each scrape, every Go process's
// runtime/metrics values (GC cycles, heap goal, the pause and scheduling
// histograms, GOMAXPROCS, ...) read from outside by golang/books, without a
// probe or a stop. Named like Prometheus' client_golang Go collector names
// them, prefixed gspy_ (/sched/latencies:seconds ->
// gspy_go_sched_latencies_seconds, with a subset of Go's own bucket
// boundaries: see runtime_histogram.h), and
// labelled like the other per-process series (pid, exe, go_version, pod).
// Only the metrics the process's Go version has are exported. By default it
// is also the source of gspy_go_gc_cycles_total and gspy_go_gc_pause_seconds
// (no uprobes attached). And gspy_go_heap_profile_available: whether gspy
// can read the process's heap profile from the runtime's buckets, with the
// reason when not (the heap figures themselves are the books' series).
#ifndef GSPY_DAEMON_EXPORT_METRICS_BOOKS_COLLECTOR_H_
#define GSPY_DAEMON_EXPORT_METRICS_BOOKS_COLLECTOR_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/metrics_registry.h"
#include "daemon/export/metrics/runtime_histogram.h"
#include "golang/books/runtime_books.h"
#include "golang/process/go_process.h"

namespace gspy {

struct BooksCollectorOptions {
  // The runtime/metrics families (gspy_go_gc_heap_goal_bytes, ...).
  bool runtime_metrics = true;
  // Also the GC series gspy_go_gc_cycles_total and gspy_go_gc_pause_seconds
  // (GC stop-the-world pauses, in Go's own buckets), which the uprobe-based
  // GcMetricsWatcher exports instead under --metrics-gc-probes.
  bool gc_series = false;
  // Go's own boundaries or the coarse subset (runtime_histogram.h).
  HistogramBuckets histogram_buckets = HistogramBuckets::kCoarse;
  // Processes read per scrape; the others are counted as skipped.
  size_t max_processes = 64;
  // Time a scrape may spend reading.
  absl::Duration budget = absl::Seconds(4);
  // How long to wait before looking again for the globals of a process
  // where some were not found (e.g. one caught before its runtime started).
  absl::Duration retry_open = absl::Seconds(10);
};

class BooksCollector {
 public:
  // `processes` must outlive the collector.
  BooksCollector(BooksCollectorOptions options, const ProcessTable* processes)
      : options_(options), processes_(processes) {}

  void Collect(MetricFamilies* out);

 private:
  struct ProcessBooks {
    uint64_t exe_inode = 0;
    std::unique_ptr<RuntimeBooks> books;  // null until opened
    absl::Time next_open = absl::InfinitePast();
    bool reopen = false;  // some globals were not found: look again
    // Whether its heap profile can be read (golang/profiles), looked at
    // again at heap_next_check: the program may change MemProfileRate.
    std::string heap_reason = "unknown";
    absl::Time heap_next_check = absl::InfinitePast();
    // (series, reason) pairs already counted and logged for this process.
    std::set<std::pair<std::string, std::string>> counted;
  };

  const BooksCollectorOptions options_;
  const ProcessTable* const processes_;
  absl::Mutex mu_;  // Collect runs one scrape at a time; this guards state
  std::map<int, ProcessBooks> by_pid_ ABSL_GUARDED_BY(mu_);
  uint64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  // (series, reason) -> series disabled so far, all processes.
  std::map<std::pair<std::string, std::string>, uint64_t> disabled_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_BOOKS_COLLECTOR_H_
