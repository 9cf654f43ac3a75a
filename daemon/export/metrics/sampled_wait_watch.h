// SampledWaitWatch: the always-on source of the sampled gspy_go_block_*
// metrics. It keeps every Go process (up to a bound) subscribed to the
// SampledTracker, whose sweeps read goroutine states from outside (no probe,
// no trap, within the tracker's CPU budget, which gspyd's back-off scales),
// and adds each sweep to SampledWaitTotals. Processes are picked up and
// dropped at each rescan. A process that pulls or continuous mode also
// sweep is swept once for all of them: the tracker fans a sweep out to
// every subscriber.
#ifndef GSPY_DAEMON_EXPORT_METRICS_SAMPLED_WAIT_WATCH_H_
#define GSPY_DAEMON_EXPORT_METRICS_SAMPLED_WAIT_WATCH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/metrics_registry.h"
#include "daemon/aggregation/sampled_wait_totals.h"
#include "daemon/sources/kernel/subscription.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "golang/process/go_process.h"

namespace gspy {

struct SampledWaitWatchOptions {
  absl::Duration rescan = absl::Seconds(5);
  // How long an exited process's series stay, so that a scrape after it
  // exits still sees its last waits (as the exact block totals do).
  absl::Duration keep_exited = absl::Minutes(2);
  // Processes watched at once; the others are counted as skipped.
  size_t max_processes = 64;
};

class SampledWaitWatch {
 public:
  // None of the pointers is owned; all outlive the watch.
  SampledWaitWatch(SampledWaitWatchOptions options,
                   const ProcessTable* processes, SampledTracker* tracker,
                   SampledWaitTotals* totals);
  ~SampledWaitWatch();  // Stop()

  void Start();
  // Ends every subscription and the thread.
  void Stop();
  // gspy_sampled_wait_watch_{processes,skipped,unavailable,
  // labels_over_budget}.
  void Collect(MetricFamilies* out) const;

 private:
  // Passes a process's sweeps to the totals.
  class Sink final : public SampledSink {
   public:
    Sink(SampledWaitTotals* totals, std::atomic<int64_t>* over_budget)
        : totals_(totals), over_budget_(over_budget) {}
    void AddSweep(int pid, const GoroutineSweep& sweep,
                  const SweepSpan& span) override {
      totals_->AddSweep(pid, sweep, span);
      over_budget_->fetch_add(sweep.counts.labels_over_budget,
                              std::memory_order_relaxed);
    }

   private:
    SampledWaitTotals* const totals_;
    std::atomic<int64_t>* const over_budget_;
  };
  struct Watched {
    uint64_t start_ticks = 0;  // a pid reused by a new process differs
    absl::Time gone = absl::InfiniteFuture();  // when it was seen exited
    std::unique_ptr<Sink> sink;
    Subscription subscription;
  };

  void Run();
  void Rescan();

  const SampledWaitWatchOptions options_;
  const ProcessTable* const processes_;
  SampledTracker* const tracker_;
  SampledWaitTotals* const totals_;
  absl::Notification stop_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  // pid -> its subscription; pids that could not be read are kept with no
  // sink, so that they are not tried again at every rescan.
  absl::flat_hash_map<int, Watched> watched_ ABSL_GUARDED_BY(mu_);
  size_t skipped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t unavailable_ ABSL_GUARDED_BY(mu_) = 0;
  // New waits whose labels did not fit the sampler's label budget.
  std::atomic<int64_t> labels_over_budget_{0};
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_SAMPLED_WAIT_WATCH_H_
