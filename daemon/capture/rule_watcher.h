// RuleWatcher: gspyd's captures that fire on their own. Every interval it
// reads, from outside, what the operator's rules (--capture-rule) measure of
// the processes they select (ProcessReadings: no probe, no stop), and when a
// rule holds for a process, out of its cooldown, captures the evidence: the
// runtime books of that moment, a goroutine dump, then a CPU and a wall
// profile of the next seconds (CaptureEvidence), kept in the CaptureStore.
#ifndef GSPY_DAEMON_CAPTURE_RULE_WATCHER_H_
#define GSPY_DAEMON_CAPTURE_RULE_WATCHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/metrics_registry.h"
#include "base/prometheus_text.h"
#include "daemon/capture/capture_cooldowns.h"
#include "daemon/capture/capture_evidence.h"
#include "daemon/capture/capture_rule.h"
#include "daemon/capture/capture_store.h"
#include "daemon/capture/process_readings.h"
#include "daemon/targets/target_selector.h"
#include "golang/process/go_process.h"
#include "profile/redact/redactor.h"

namespace gspy {

struct CaptureOptions {
  std::vector<std::string> rules;  // --capture-rule, as written
  absl::Duration interval = absl::Milliseconds(250);
  // No second capture of one rule and process within this.
  absl::Duration cooldown = absl::Minutes(5);
  // The CPU and wall profiles' length.
  absl::Duration profile_duration = absl::Seconds(10);
  // Captures running at once; a rule that holds beyond is counted dropped.
  int max_in_flight = 4;
  // --capture-push: each capture stored also goes to the push backends
  // (gspyd connects the watcher's hook to them).
  bool push = false;
  CaptureStoreOptions store;
};

// Told of each capture once stored (`info` as stored, its id final), on the
// capture's own thread.
using CaptureTakenHook = std::function<void(
    const GoProcess& process, const gspy::v1::CaptureInfo& info,
    const std::vector<CaptureFileData>& files)>;

// One rule's counters since gspyd started.
struct RuleCounters {
  uint64_t evaluations = 0;     // rule x process looks with a value
  uint64_t held = 0;            // of which the rule held
  uint64_t cooldown_skips = 0;  // held within the cooldown: no capture
  uint64_t read_errors = 0;     // looks that could not read the metric
  uint64_t taken = 0;           // captures stored
  uint64_t failed = 0;          // captures that got no evidence or not stored
  uint64_t dropped = 0;         // not taken: max_in_flight captures running
  uint64_t evicted = 0;         // taken, later removed by the store's bounds
};

class RuleWatcher {
 public:
  // INVALID_ARGUMENT for a rule that does not parse (or whose selector
  // does not). The cooldowns of the captures `store` holds carry over.
  // Nothing is owned; all must outlive the watcher.
  static absl::StatusOr<std::unique_ptr<RuleWatcher>> Create(
      const CaptureOptions& options, const ProcessTable* processes,
      CaptureEvidence* evidence, CaptureStore* store, const Redactor* redactor);
  ~RuleWatcher();  // Stop()

  // Before Start.
  void set_on_taken(CaptureTakenHook hook) { on_taken_ = std::move(hook); }

  void Start();
  // Stops looking and waits for the captures under way.
  void Stop();

  // One look at every selected process (what the thread does each interval).
  void LookOnce();

  std::vector<RuleCounters> counters() const;
  // gspy_captures_total{rule,result}, the rules' own counters and the
  // store's size.
  void Collect(MetricFamilies* out) const;

 private:
  struct Rule {
    CaptureRule rule;
    TargetSelector selector;
  };
  struct InFlight {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  RuleWatcher(CaptureOptions options, std::vector<Rule> rules,
              const ProcessTable* processes, CaptureEvidence* evidence,
              CaptureStore* store, const Redactor* redactor);
  void Run();
  void Fire(size_t rule, const GoProcess& process, uint64_t start_ticks,
            double value, std::string books_text);
  // The capture itself, on a thread of its own.
  void Capture(size_t rule, gspy::v1::CaptureInfo info,
               const GoProcess& process, std::string books_text);
  void ReapFinished();

  const CaptureOptions options_;
  const std::vector<Rule> rules_;
  const ProcessTable* const processes_;
  CaptureEvidence* const evidence_;
  CaptureStore* const store_;
  const Redactor* const redactor_;
  CaptureTakenHook on_taken_;

  std::thread thread_;
  absl::Notification stop_;
  // The watcher thread's own (LookOnce runs on it only).
  struct Watched {
    std::unique_ptr<ProcessReadings> readings;
    uint64_t start_ticks = 0;  // 0: unknown
  };
  std::map<int, Watched> watched_;
  CaptureCooldowns cooldowns_;
  std::vector<InFlight> in_flight_;

  mutable absl::Mutex mu_;
  std::vector<RuleCounters> counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_CAPTURE_RULE_WATCHER_H_
