// GcMetricsWatcher: keeps a GC watch (GcTracker::Watch) on every Go process
// on the host so that /metrics can show each one's GC pauses and cycles
// without a client asking. Every `rescan` it lists the Go processes, watches
// new ones (up to `max_processes`), and ends the watches of processes that
// exited, dropping their series. The GC probes are cheap (a few uprobe hits
// per GC cycle), which is why this is on by default with --metrics-listen.
//
// It also counts the Go processes found (profilable or not) at each rescan,
// for gspy_go_processes and gspy_go_processes_unsupported, whether or not it
// watches GC.
#ifndef GSPY_DAEMON_EXPORT_METRICS_GC_WATCHER_H_
#define GSPY_DAEMON_EXPORT_METRICS_GC_WATCHER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/metrics_registry.h"
#include "daemon/export/metrics/gc_process_stats.h"
#include "daemon/sources/gc/gc_tracker.h"
#include "golang/process/go_process.h"

namespace gspy {

struct GcMetricsOptions {
  bool watch_gc = true;  // false: only count processes
  absl::Duration rescan = absl::Seconds(5);
  // Bounds the probes' work and the series count on hosts with many Go
  // processes; processes beyond it are counted, not watched.
  size_t max_processes = 256;
};

class GcMetricsWatcher {
 public:
  // `processes` and `tracker` must outlive the watcher.
  GcMetricsWatcher(GcMetricsOptions options, const ProcessTable* processes,
                   GcTracker* tracker);
  ~GcMetricsWatcher();  // Stop()

  // Rescans at once, then every options.rescan, on a thread of its own.
  void Start();
  // Ends the thread and every watch. Idempotent.
  void Stop();

  // One rescan (the thread's work; public for tests and the first scan).
  void Rescan();
  // Adds the GC families and the process counts. Delivers the pauses still
  // in the ring buffer first, so a scrape sees every pause that ended before
  // it.
  void Collect(MetricFamilies* out);

 private:
  struct Watched {
    std::shared_ptr<GcWatch> watch;
    // Ended outside mu_: detaching uprobes is slow, and scrapes take mu_.
    Subscription subscription;
    uint64_t exe_inode = 0;
    GcProcessStats stats;
  };
  // Moves the queued pauses of every watch into its stats.
  void DrainLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const GcMetricsOptions options_;
  const ProcessTable* const processes_;
  GcTracker* const tracker_;
  std::thread thread_;
  absl::Notification stop_;

  absl::Mutex mu_;
  absl::flat_hash_map<int, Watched> watched_ ABSL_GUARDED_BY(mu_);
  // Processes whose watch failed (e.g. a runtime lacking a probed function),
  // by pid with their exe inode, not tried again while they run.
  absl::flat_hash_map<int, uint64_t> failed_ ABSL_GUARDED_BY(mu_);
  size_t go_processes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t unsupported_ ABSL_GUARDED_BY(mu_) = 0;
  size_t over_limit_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t watch_errors_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rescans_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_GC_WATCHER_H_
