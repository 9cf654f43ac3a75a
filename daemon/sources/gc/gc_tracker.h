// GcTracker: the GC / stop-the-world probes. Loads gc_probes.bpf.c once,
// attaches its uprobes to a Go binary when the first watch of a process of
// that binary starts and detaches them when the last one ends (reference
// counted per binary), pairs each process's probe hits into pauses, and hands
// them to the watches. Keeps a bounded history of recent pauses per process.
#ifndef GSPY_DAEMON_SOURCES_GC_GC_TRACKER_H_
#define GSPY_DAEMON_SOURCES_GC_GC_TRACKER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bpf/gc_types.h"
#include "daemon/sources/gc/pause_pairer.h"
#include "daemon/sources/kernel/bpf_map.h"
#include "daemon/sources/kernel/counter_table.h"
#include "daemon/sources/kernel/ring_reader.h"
#include "daemon/sources/kernel/subscription.h"
#include "daemon/sources/kernel/uprobe_set.h"
#include "golang/process/go_process.h"

struct gc_probes_bpf;

namespace gspy {

GSPY_COUNTERS_STRUCT(GcCounters, GSPY_GC_COUNTERS);

struct GcPauseRecord {
  int pid = 0;
  StwPause pause;
  std::string reason;  // Go's name for the reason, or "unknown(N)"
  int64_t start_unix_nanos = 0;
  int64_t duration_nanos() const {
    return static_cast<int64_t>(pause.end_ktime_ns - pause.start_ktime_ns);
  }
};

// One subscriber's sink for one process: the pauses and completed GC cycles
// since its subscription started.
class GcWatch {
 public:
  explicit GcWatch(int pid) : pid_(pid) {}
  int pid() const { return pid_; }
  // Moves the queued pauses into `out`.
  void Take(std::vector<GcPauseRecord>* out);
  uint64_t cycles_completed() const;
  uint64_t dropped() const;

 private:
  friend class GcTracker;
  static constexpr size_t kMaxQueued = 100'000;
  const int pid_;
  mutable absl::Mutex mu_;
  std::deque<GcPauseRecord> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t cycles_completed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

class GcTracker {
 public:
  static absl::StatusOr<std::unique_ptr<GcTracker>> Start();
  ~GcTracker();

  // Queues `proc`'s pauses and cycles in `watch` (made for proc.pid) until
  // the subscription ends, attaching the probes to its binary if no other
  // subscription has; the end detaches them when it was the last one.
  // FAILED_PRECONDITION when the runtime lacks a probed function (named) or
  // the binary cannot be probed.
  absl::StatusOr<Subscription> Subscribe(const GoProcess& proc,
                                         std::shared_ptr<GcWatch> watch);
  // Delivers every event already in the ring buffer.
  void Flush();

  // The most recent pauses of `pid` (at most kHistory), oldest first.
  std::vector<GcPauseRecord> History(int pid) const;
  size_t attached_processes() const;
  // What the BPF side counted (all processes).
  GcCounters counters() const;
  // Whether a watch of pid runs now.
  bool Watching(int pid) const;

  static constexpr size_t kHistory = 1024;

 private:
  GcTracker() = default;
  void OnEvent(const void* data, size_t size);
  void Unsubscribe(const std::shared_ptr<GcWatch>& watch);
  void Handle(const gspy_gc_event& event);
  absl::StatusOr<UprobeSet::Links> Attach(const GoProcess& proc);
  struct Process {
    explicit Process(int minor) : go_minor(minor), pairer(StwAbiFor(minor)) {}
    const GoBinary* binary = nullptr;
    int go_minor;
    PausePairer pairer;
    std::vector<std::shared_ptr<GcWatch>> watches;
    std::deque<GcPauseRecord> history;
  };

  gc_probes_bpf* skel_ = nullptr;
  std::unique_ptr<BpfMap> targets_;
  std::unique_ptr<RingReader> ring_;
  int64_t monotonic_to_unix_ns_ = 0;

  mutable absl::Mutex mu_;
  UprobeSet probes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int, Process> processes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_GC_GC_TRACKER_H_
