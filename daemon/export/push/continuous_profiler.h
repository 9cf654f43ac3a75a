// ContinuousProfiler: gspyd's continuous mode. It profiles the CPU of the
// selected Go processes without end (picking up new ones as they start) and
// every interval cuts one pprof per process, labels it and hands it to the
// senders, one per backend. It uses the pulls' machinery: a CpuProfile per
// process, attached through the SessionRegistry, so pulls and continuous
// mode share the sampler.
#ifndef GSPY_DAEMON_EXPORT_PUSH_CONTINUOUS_PROFILER_H_
#define GSPY_DAEMON_EXPORT_PUSH_CONTINUOUS_PROFILER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "daemon/aggregation/cpu_profile.h"
#include "daemon/aggregation/cpu_sessions.h"
#include "daemon/export/push/push_profile.h"
#include "daemon/export/push/push_sender.h"
#include "daemon/targets/target_selector.h"
#include "golang/process/go_process.h"
#include "golang/process/process_labels.h"
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
};

struct ContinuousStats {
  size_t processes = 0;          // profiled now
  uint64_t profiles_cut = 0;     // made and queued
  uint64_t empty_intervals = 0;  // a process with no sample: nothing sent
  uint64_t attach_errors = 0;
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
  struct Target {
    GoProcess process;
    std::shared_ptr<CpuProfile> profile;
    absl::Time since;
    Subscription subscription;  // while profile is set
  };

  void Run();
  void Rescan();
  // Cuts every target's profile (and drops targets that exited).
  void CutAll(bool final);
  size_t ProfiledCount() const;
  std::shared_ptr<CpuProfile> NewProfile(const GoProcess& process) const;
  void Cut(Target& target, absl::Time now,
           std::shared_ptr<CpuProfile> replacement);

  const ContinuousOptions options_;
  const ProcessTable* processes_;
  SessionRegistry* sessions_;
  const ProcessLabeler* labeler_;
  std::vector<PushSender*> senders_;

  std::thread thread_;
  absl::Notification stop_;
  // Only the thread touches targets_ (and Stop, after joining it).
  absl::flat_hash_map<int, Target> targets_;

  mutable absl::Mutex mu_;
  ContinuousStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_CONTINUOUS_PROFILER_H_
