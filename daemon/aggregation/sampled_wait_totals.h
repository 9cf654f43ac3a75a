// SampledWaitTotals: the waiting time of each process's goroutines by wait
// reason, estimated from sweeps of their states (daemon/sources/sampled):
// each sweep charges every goroutine it sees waiting with the time since
// the previous sweep, as sampled block profiles do. No probe, so it can run
// all the time; the exact counts of waits stay with the uprobe pulls
// (BlockTracker::WaitTotals). /metrics reads it (block_collector.cc).
#ifndef GSPY_DAEMON_AGGREGATION_SAMPLED_WAIT_TOTALS_H_
#define GSPY_DAEMON_AGGREGATION_SAMPLED_WAIT_TOTALS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/sources/sampled/goroutine_sampler.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "golang/runtime/wait_reasons.h"

namespace gspy {

struct SampledWaitTotal {
  int pid = 0;
  std::string reason;  // Go's name ("chan receive"), or waitReason(N)
  double seconds = 0;  // goroutine-seconds seen waiting
  int64_t waits = 0;   // distinct waits observed (not every wait)
};

class SampledWaitTotals {
 public:
  // A process whose sweeps will come, of Go 1.`go_minor` (for the names of
  // its wait reasons). Its totals restart if it was known.
  void AddProcess(int pid, int go_minor);
  // Drops a process that exited, with its series.
  void RemoveProcess(int pid);
  // One sweep of pid (from the SampledTracker's thread).
  void AddSweep(int pid, const GoroutineSweep& sweep, const SweepSpan& span);
  // Sorted by pid, then reason.
  std::vector<SampledWaitTotal> Totals() const;

 private:
  struct Process {
    absl::StatusOr<WaitReasons> reasons;
    absl::flat_hash_map<uint8_t, SampledWaitTotal> by_reason;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int, Process> processes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_SAMPLED_WAIT_TOTALS_H_
