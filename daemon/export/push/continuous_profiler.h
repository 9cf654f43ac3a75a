// ContinuousProfiler: gspyd's continuous mode. It profiles the selected Go
// processes without end (picking up new ones as they start) and every
// interval cuts one pprof per process and profile type (push_types.h),
// labels it and hands it to the senders, one per backend. It uses the pulls'
// machinery: a CpuProfile per process, attached through the
// SessionRegistry, so pulls and continuous mode share the sampler; for block
// and wall, a subscription to the SampledTracker (sweeps of the goroutines'
// states: no probe); for heap, a HeapReader of the runtime's own buckets.
#ifndef GSPY_DAEMON_EXPORT_PUSH_CONTINUOUS_PROFILER_H_
#define GSPY_DAEMON_EXPORT_PUSH_CONTINUOUS_PROFILER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "daemon/aggregation/block_profile.h"
#include "daemon/aggregation/cpu_profile.h"
#include "daemon/aggregation/cpu_sessions.h"
#include "daemon/aggregation/sampled_wait_totals.h"
#include "daemon/export/push/goroutine_cut.h"
#include "daemon/export/push/push_profile.h"
#include "daemon/export/push/push_sender.h"
#include "daemon/export/push/push_types.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "daemon/targets/target_selector.h"
#include "golang/goroutines/memory_source.h"
#include "golang/process/go_process.h"
#include "golang/process/process_labels.h"
#include "golang/profiles/heap_profile.h"
#include "profile/redact/redactor.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

struct ContinuousOptions {
  absl::Duration interval = absl::Seconds(15);
  // How often to look for new processes between cuts.
  absl::Duration rescan = absl::Seconds(5);
  // Which processes: exe paths and pods; all() selects every Go process.
  TargetSelector selector;
  PushLabelOptions labels;
  int64_t period_ns = 10'101'010;
  size_t max_stacks = 100'000;
  // Applied to every profile and its series labels before they are queued
  // (Pyroscope and Parca store the labels as the series' name). Not owned.
  const Redactor* redactor = &Redactor::None();
  PushTypes types = {.cpu = true};
  // For block and wall (required then). Not owned.
  SampledTracker* sampled = nullptr;
  // Fed with every sweep the profiler gets (the sampled gspy_go_block_*
  // metrics); may be null. Not owned.
  SampledWaitTotals* wait_totals = nullptr;
  // For goroutine: the most bytes one process's goroutines (stacks and
  // labels) may take; a larger dump is not pushed (counted).
  int64_t max_goroutine_bytes = int64_t{64} << 20;
};

struct ContinuousStats {
  size_t processes = 0;  // profiled now
  // Made and queued, by type (cpu, block, wall, heap): one a process and
  // interval, whatever the number of backends.
  std::map<std::string, uint64_t> profiles_cut;
  uint64_t empty_intervals = 0;  // a process with no sample: nothing sent
  uint64_t attach_errors = 0;
  // Processes whose heap profile cannot be read (memory profiling off in
  // the binary, MemProfileRate 0, ...): no heap pushed for them.
  uint64_t heap_unavailable = 0;
  // Processes whose goroutines cannot be swept: no block nor wall for them.
  uint64_t sampled_unavailable = 0;
  // Goroutine profiles not made: the goroutines could not be read (or were
  // over max_goroutine_bytes).
  uint64_t goroutine_errors = 0;
};

class ContinuousProfiler {
 public:
  // `labeler` (may be null) is asked at every cut, so metadata that arrives
  // late (a pod seen after its process) is on the next profile. Not owned.
  ContinuousProfiler(ContinuousOptions options, const ProcessTable* processes,
                     SessionRegistry* sessions, const ProcessLabeler* labeler,
                     std::vector<PushSender*> senders);
  ~ContinuousProfiler();  // Stop()

  void Start();
  // Cuts what was recorded since the last cut (so it can still be sent),
  // detaches from every process and stops the thread.
  void Stop();

  ContinuousStats stats() const;

 private:
  class SampledCut;  // the sweeps of one process, cut every interval
  struct HeapWatch {
    std::unique_ptr<MemorySource> memory;
    std::unique_ptr<HeapReader> reader;
    HeapSnapshot last;
  };
  struct Target {
    GoProcess process;
    std::shared_ptr<CpuProfile> profile;  // for cpu and wall
    absl::Time since;
    Subscription subscription;          // while profile is set
    std::unique_ptr<SampledCut> waits;  // for block and wall; may be null
    Subscription sampled_subscription;  // ends before `waits` goes
    std::unique_ptr<HeapWatch> heap;    // for heap; may be null
    std::unique_ptr<GoroutineCut> goroutines;  // for goroutine; may be null
    bool attached() const {
      return profile != nullptr || waits != nullptr || heap != nullptr ||
             goroutines != nullptr;
    }
  };

  void Run();
  void Rescan();
  // Cuts every target's profile (and drops targets that exited).
  void CutAll(bool final);
  size_t ProfiledCount() const;
  std::shared_ptr<CpuProfile> NewProfile(const GoProcess& process) const;
  // Starts the sources of `target` the types want; false when none could.
  bool Attach(Target& target);
  void Detach(Target& target);
  void Cut(Target& target, absl::Time now, bool last);
  // Redacts, labels and queues one profile of `type` (cpu, block, wall,
  // heap) named `name`. `backend` is the form it is in: "" for every
  // backend, "parca" for Parca's only, "pyroscope" for every other (OTLP
  // receivers get Pyroscope's forms of wall and heap profiles: one pprof
  // sample type becomes one OTLP profile anyway).
  void Queue(const Target& target, const LabelList& labels,
             const std::string& type, const std::string& name,
             std::string pprof, absl::Time since, absl::Time now,
             const std::string& backend = "");
  void QueueProfile(const Target& target, const LabelList& labels,
                    const std::string& type, const std::string& name,
                    const perftools::profiles::Profile& profile,
                    absl::Time since, absl::Time now,
                    const std::string& backend = "");
  void Count(const std::string& type);  // one profile of `type` made
  void CutHeap(Target& target, const LabelList& labels, absl::Time now);
  void CutGoroutines(Target& target, const LabelList& labels, absl::Time now);

  const ContinuousOptions options_;
  const ProcessTable* processes_;
  SessionRegistry* sessions_;
  const ProcessLabeler* labeler_;
  std::vector<PushSender*> senders_;
  // Which backends there are: some types are made for each apart.
  bool any_parca_ = false;
  bool any_pyroscope_ = false;  // or another backend of its forms (OTLP)

  std::thread thread_;
  absl::Notification stop_;
  // Only the thread touches targets_ (and Stop, after joining it).
  absl::flat_hash_map<int, Target> targets_;

  mutable absl::Mutex mu_;
  ContinuousStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_CONTINUOUS_PROFILER_H_
