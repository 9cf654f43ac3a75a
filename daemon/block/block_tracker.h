// BlockTracker: the block probes (bpf/block_probes.bpf.c). Loads them once;
// attaches their uprobes to a Go binary while at least one pull (a "sink")
// wants a process of it, and detaches them when the last one ends: the park
// and scheduling probes are hot, so they never stay on without a consumer.
// Turns each completed wait into a stack and hands it to the sinks of its
// process. Keeps the probes within a budget of parks per second by
// duty-cycling the recording of new parks, and tells each sink the fraction
// of its time that was recorded, so it can scale its values.
#ifndef GSPY_DAEMON_BLOCK_BLOCK_TRACKER_H_
#define GSPY_DAEMON_BLOCK_BLOCK_TRACKER_H_

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
#include "absl/types/span.h"
#include "bpf/block_types.h"
#include "daemon/block/wait_reasons.h"
#include "daemon/process/go_process.h"

struct block_probes_bpf;
struct ring_buffer;
struct bpf_link;

namespace gspy {

// Receives the completed waits of the processes it was attached to. Called
// from the tracker's poll thread.
class BlockSink {
 public:
  virtual ~BlockSink() = default;
  // `stack`: the user stack at the park, leaf first, runtime addresses.
  virtual void AddWait(const gspy_block_event& wait,
                       absl::Span<const uint64_t> stack) = 0;
};

struct BlockTrackerOptions {
  // New parks recorded per second, summed over all watched processes, above
  // which recording is duty-cycled. 0: no limit.
  double max_parks_per_second = 50'000;
  absl::Duration slot = absl::Milliseconds(10);  // duty-cycle granularity
};

// What a sink's pull saw, returned when it detaches.
struct BlockSinkStats {
  uint64_t lost = 0;  // waits lost (maps or ring full) meanwhile
};

// Completed waits of one process and wait reason since gspyd first probed
// it, over every pull (the probes only run while pulls do). For metrics.
struct BlockWaitTotals {
  int pid = 0;
  std::string reason;
  double waits = 0;    // weighted, as the profiles
  double seconds = 0;  // park to wake-up (or to running, without ready)
};

struct BlockCounters {
  uint64_t parks = 0, parked_full = 0, stack_errors = 0, readies = 0,
           events = 0, ringbuf_full = 0, skipped = 0;
};

class BlockTracker {
 public:
  static absl::StatusOr<std::unique_ptr<BlockTracker>> Start(
      BlockTrackerOptions options);
  ~BlockTracker();

  // Sends `proc`'s waits to `sink` from now on, attaching the probes to its
  // binary if no one has. FAILED_PRECONDITION when its runtime lacks a probed
  // function (named) or its binary cannot be probed; NOT_FOUND when it is
  // gone.
  absl::Status Attach(BlockSink* sink, const GoProcess& proc);
  // Ends every attachment of `sink`; detaches probes no one needs.
  BlockSinkStats Detach(BlockSink* sink);
  // Delivers every wait already in the ring buffer.
  void Flush();

  BlockCounters counters() const;
  size_t attached_binaries() const;
  // Whether some sink takes pid's waits now.
  bool Attached(int pid) const;
  // Wait totals of the processes still running (exited ones are forgotten).
  std::vector<BlockWaitTotals> WaitTotals();

 private:
  explicit BlockTracker(BlockTrackerOptions options) : options_(options) {}
  static int OnEvent(void* ctx, void* data, size_t size);
  void Handle(const gspy_block_event& event);
  void PollLoop();
  void DutyCycleLoop();
  void SetRecording(bool on, double fraction);
  absl::StatusOr<std::vector<bpf_link*>> AttachProbes(const GoProcess& proc);
  // Under mu_: forgets pid's parked goroutines and, with no sink left, the
  // stored stacks.
  void ForgetProcess(int pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearStacks() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const std::vector<uint64_t>* Stack(int32_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Binary {
    std::shared_ptr<const GoBinary> binary;
    std::vector<bpf_link*> links;
    int refs = 0;
  };
  struct Process {
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
  };

  const BlockTrackerOptions options_;
  block_probes_bpf* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread poller_, duty_cycler_;
  absl::Mutex ring_mu_;  // serializes ring_buffer__poll and __consume

  mutable absl::Mutex mu_;
  absl::flat_hash_map<const GoBinary*, Binary> binaries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int, Process> processes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<BlockSink*, SinkState> sinks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int32_t, std::vector<uint64_t>> stacks_
      ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> scratch_stack_ ABSL_GUARDED_BY(mu_);
  struct Totals {
    double waits = 0, seconds = 0;
  };
  // pid -> reason -> totals; bounded by the processes ever attached.
  absl::flat_hash_map<int, absl::flat_hash_map<std::string, Totals>> totals_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace gspy

#endif  // GSPY_DAEMON_BLOCK_BLOCK_TRACKER_H_
