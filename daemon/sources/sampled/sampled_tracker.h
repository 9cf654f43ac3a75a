// SampledTracker: sweeps the goroutines of every process some pull (a
// "sink") wants, each process on its own schedule, from one thread. A
// process's sampler (and its cache of stacks) is shared by every sink that
// wants it, and is dropped when the last one detaches. The interval of each
// process follows its SweepBudget, with some jitter so that sweeps do not
// lock onto a periodic workload's phase.
#ifndef GSPY_DAEMON_SOURCES_SAMPLED_SAMPLED_TRACKER_H_
#define GSPY_DAEMON_SOURCES_SAMPLED_SAMPLED_TRACKER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/sources/kernel/subscription.h"
#include "daemon/sources/sampled/goroutine_sampler.h"
#include "daemon/sources/sampled/sweep_budget.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"

namespace gspy {

// Receives the sweeps of the processes it was attached to, from the
// tracker's thread (or from Detach, for the last one).
// The part of a sweep that is a sink's: a sweep that began before the sink
// attached stands for its time since then only.
struct SweepSpan {
  int64_t from_ns = 0, to_ns = 0;  // CLOCK_MONOTONIC
  // The sink's first sweep of the process: each wait in it is new to the
  // sink, whenever the sampler first saw it.
  bool first = false;
};

class SampledSink {
 public:
  virtual ~SampledSink() = default;
  virtual void AddSweep(int pid, const GoroutineSweep& sweep,
                        const SweepSpan& span) = 0;
};

struct SampledTrackerOptions {
  SweepBudgetOptions budget;
  // Each interval is drawn from [1 - jitter, 1 + jitter] x the budget's.
  double jitter = 0.2;
  GoroutineSamplerOptions sampler;
  // How to read a process's memory; null: process_vm_readv (ProcessMemory).
  // Tests read made-up processes.
  std::function<std::unique_ptr<MemorySource>(int pid)> memory_for;
};

// What a sink's sweeps were, for the profile's comments.
struct SampledSinkStats {
  int64_t sweeps = 0;      // delivered to it, over all its processes
  int64_t covered_ns = 0;  // time those sweeps stood for
  int64_t cpu_ns = 0;      // gspyd's CPU time for them
  int64_t torn_dropped = 0;
  int64_t unreadable = 0;
  int64_t labels_over_budget = 0;  // waits charged without their labels
  // covered_ns / sweeps: the mean interval (0 without sweeps).
  absl::Duration mean_interval() const {
    return sweeps > 0 ? absl::Nanoseconds(covered_ns / sweeps)
                      : absl::ZeroDuration();
  }
};

class SampledTracker {
 public:
  explicit SampledTracker(SampledTrackerOptions options);
  ~SampledTracker();  // stops the thread

  // Sends `proc`'s sweeps to `sink` until the subscription ends. The first
  // sink of a process finds its allgs and sweeps it once (a baseline: no
  // charge). FAILED_PRECONDITION when its goroutines cannot be read (unknown
  // layout, no allgs); NOT_FOUND when it is gone.
  absl::StatusOr<Subscription> Subscribe(const GoProcess& proc,
                                         SampledSink* sink);
  // Sweeps the sink's processes one last time (so its window is covered to
  // its end) and returns what the sink saw; its subscriptions end after.
  SampledSinkStats EndStats(SampledSink* sink);

  // Whether some sink takes pid's sweeps now.
  bool Attached(int pid) const;
  // gspyd's back-off: the CPU budget of sweeps times `scale` in (0, 1]
  // from the next sweep on (profiles weigh sweeps by the time they cover).
  void SetBudgetScale(double scale) { budget_scale_.store(scale); }
  double budget_scale() const { return budget_scale_.load(); }
  const SampledTrackerOptions& options() const { return options_; }

 private:
  struct Process {
    GoProcess proc;
    std::unique_ptr<MemorySource> memory;
    std::unique_ptr<GoroutineSampler> sampler;
    SweepBudget budget;
    absl::Time next;
    struct Sink {
      SampledSink* sink;
      int64_t attached_ns;
      bool swept = false;  // has had a sweep
    };
    std::vector<Sink> sinks;
  };

  void Run();
  // Ends one subscription: `sink` no longer takes pid's sweeps.
  void Unsubscribe(SampledSink* sink, int pid);
  // Sweeps `p` now and hands the result to its sinks; false when the
  // process is gone (then dropped by the caller). The baseline sweep, which
  // unwinds every goroutine once, does not count towards the budget's
  // average: it would space the next sweeps for a cost that does not recur.
  bool SweepLocked(Process& p, bool baseline = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration NextIntervalLocked(const Process& p)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SampledTrackerOptions options_;
  std::atomic<double> budget_scale_{1};
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<int, std::unique_ptr<Process>> processes_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<SampledSink*, SampledSinkStats> sink_stats_
      ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_){0x5eed};
  std::thread thread_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_SAMPLED_SAMPLED_TRACKER_H_
