// BlockTracker: the block probes (bpf/block_probes.bpf.c). Loads them once;
// attaches their uprobes to a Go binary while at least one pull (a "sink")
// wants a process of it, and detaches them when the last one ends: the park
// and scheduling probes are hot, so they never stay on without a consumer.
// Turns each completed wait into a stack and hands it to the sinks of its
// process. Keeps the probes within a budget of parks per second by
// duty-cycling the recording of new parks, and tells each sink the fraction
// of its time that was recorded, so it can scale its values. Past a second
// budget it detaches the probes between windows (trap_windows.h): the
// uprobe traps themselves, not only the BPF work, fall by that fraction.
#ifndef GSPY_DAEMON_SOURCES_BLOCK_BLOCK_TRACKER_H_
#define GSPY_DAEMON_SOURCES_BLOCK_BLOCK_TRACKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bpf/block_types.h"
#include "daemon/sources/block/block_maps.h"
#include "daemon/sources/block/park_budget.h"
#include "daemon/sources/block/trap_windows.h"
#include "daemon/sources/kernel/bpf_map.h"
#include "daemon/sources/kernel/counter_table.h"
#include "daemon/sources/kernel/ring_reader.h"
#include "daemon/sources/kernel/subscription.h"
#include "daemon/sources/kernel/uprobe_set.h"
#include "golang/process/go_process.h"
#include "golang/runtime/wait_reasons.h"

struct block_probes_bpf;

namespace gspy {

// Receives the completed waits of the processes it is subscribed to. Called
// from the tracker's poll thread.
class BlockSink {
 public:
  virtual ~BlockSink() = default;
  // `stack`: the user stack at the park, leaf first, runtime addresses.
  virtual void AddWait(const gspy_block_event& wait,
                       absl::Span<const uint64_t> stack) = 0;
  // A sink that must see every wait (a wall-clock profile adds up each
  // goroutine's time) keeps the probes attached while it is.
  virtual bool NeedsEveryWait() const { return false; }
};

struct BlockTrackerOptions {
  // New parks recorded per second, summed over all watched processes, above
  // which recording is duty-cycled. 0: no limit.
  double max_parks_per_second = 50'000;
  absl::Duration slot = absl::Milliseconds(10);  // duty-cycle granularity
  // Detaching the probes between windows (off: max_parks_per_second 0).
  TrapWindowOptions trap;
};

// What a sink's pull saw (EndStats).
struct BlockSinkStats {
  uint64_t lost = 0;  // waits lost (maps or ring full) meanwhile
  // Windows the probes were attached for (trap duty cycle) meanwhile, and
  // waits left out for being longer than half a window.
  uint64_t trap_windows = 0;
  uint64_t long_waits_dropped = 0;
};

struct BlockTrapStats {
  uint64_t windows = 0;
  uint64_t long_waits_dropped = 0;
  bool detached = false;  // between two windows now
};

// Completed waits of one process and wait reason since gspyd first probed
// it, over every pull (the probes only run while pulls do). For metrics: a
// process that exited is still reported for kExitedTotalsKept, so that a
// scraper sees its last waits.
inline constexpr absl::Duration kExitedTotalsKept = absl::Minutes(2);
struct BlockWaitTotals {
  int pid = 0;
  std::string reason;
  double waits = 0;    // weighted, as the profiles
  double seconds = 0;  // park to wake-up (or to running, without ready)
};

GSPY_COUNTERS_STRUCT(BlockCounters, GSPY_BLOCK_COUNTERS);

class BlockTracker {
 public:
  static absl::StatusOr<std::unique_ptr<BlockTracker>> Start(
      BlockTrackerOptions options);
  ~BlockTracker();

  // Sends `proc`'s waits to `sink` until the subscription ends, attaching
  // the probes to its binary if no one has; the end detaches probes no one
  // needs. FAILED_PRECONDITION when its runtime lacks a probed function
  // (named) or its binary cannot be probed; NOT_FOUND when it is gone.
  // Subscribing a sink to a process twice holds one reference.
  absl::StatusOr<Subscription> Subscribe(const GoProcess& proc,
                                         BlockSink* sink);
  // What `sink` saw since its first subscription (call before ending its
  // subscriptions; delivers the waits in the ring buffer first).
  BlockSinkStats EndStats(BlockSink* sink);
  // Delivers every wait already in the ring buffer.
  void Flush();

  BlockCounters counters() const;
  BlockTrapStats trap_stats() const;
  size_t attached_processes() const;
  // Whether some sink takes pid's waits now.
  bool Attached(int pid) const;
  // gspyd's back-off: --block-max-parks-per-second times `scale` in (0, 1]
  // from the next slot on (profiles are scaled by the share recorded).
  void SetBudgetScale(double scale) { budget_scale_.store(scale); }
  // Wait totals of the processes still running (exited ones are forgotten).
  std::vector<BlockWaitTotals> WaitTotals();

 private:
  explicit BlockTracker(BlockTrackerOptions options)
      : options_(options), trap_(options.trap) {}
  void OnEvent(const void* data, size_t size);
  void Unsubscribe(BlockSink* sink, int pid);
  void Handle(const gspy_block_event& event);
  void DutyCycleLoop();
  // Blocks while no sink is attached (and gspyd is not stopping): the
  // loops below have nothing to do then and must not wake the machine.
  void AwaitSinks();
  bool ActiveOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || !sinks_.empty();
  }
  // Measures the park rate over each window and, past the trap budget,
  // detaches the probes for the rest of the period.
  void TrapCycleLoop();
  // Attaches the probes again to every binary still wanted (after a
  // window's off time).
  void ReattachLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AnySinkNeedsEveryWaitLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // runtime.gopark hits so far (the park rate's source).
  uint64_t Parks() const;
  absl::StatusOr<UprobeSet::Links> AttachProbes(const GoProcess& proc);
  const std::vector<uint64_t>* Stack(int32_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Process {
    GoProcess proc;  // to attach the probes to its binary again
    std::shared_ptr<const GoBinary> binary;
    absl::StatusOr<WaitReasons> reasons;
    // runtime.gopark's entry in the process (PIE: relocated). The leaf of
    // each park stack is the probe's pc, a few bytes into gopark, which can
    // be code inlined there: the stack shows gopark's entry instead.
    uint64_t gopark_entry = 0;
    std::vector<BlockSink*> sinks;
  };
  struct SinkState {
    std::vector<int> pids;
    uint64_t lost_at_start = 0;
    uint64_t windows_at_start = 0;
    uint64_t long_dropped_at_start = 0;
  };

  const BlockTrackerOptions options_;
  std::atomic<double> budget_scale_{1};
  block_probes_bpf* skel_ = nullptr;
  std::unique_ptr<BpfMap> targets_, config_, parked_, stack_map_;
  std::unique_ptr<BlockMaps> maps_;
  std::unique_ptr<RingReader> ring_;
  std::atomic<bool> stop_{false};
  std::thread duty_cycler_, trap_cycler_;

  mutable absl::Mutex mu_;
  UprobeSet probes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int, Process> processes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<BlockSink*, SinkState> sinks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int32_t, std::vector<uint64_t>> stacks_
      ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> scratch_stack_ ABSL_GUARDED_BY(mu_);
  TrapWindows trap_ ABSL_GUARDED_BY(mu_);
  // The probes are off between two windows (a pull starting meanwhile
  // attaches its new binaries at once; the next window's end detaches them).
  bool detached_ ABSL_GUARDED_BY(mu_) = false;
  struct Totals {
    double waits = 0, seconds = 0;
  };
  struct ProcessTotals {
    absl::flat_hash_map<std::string, Totals> by_reason;
    absl::Time gone_since = absl::InfiniteFuture();
  };
  // pid -> reason -> totals; bounded by the processes ever attached.
  absl::flat_hash_map<int, ProcessTotals> totals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_BLOCK_BLOCK_TRACKER_H_
