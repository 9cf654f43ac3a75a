// GoroutineSampler: the sampled wait source of one Go process. Each sweep
// reads the status of every goroutine from outside (allgs, then every g head
// in batched process_vm_readv calls; the process is never stopped) and
// charges each waiting or runnable goroutine with the time since the previous
// sweep, against its stack, wait reason and labels. No uprobe fires: the
// cost is gspyd's own CPU, which the tracker spaces sweeps to bound.
//
// A goroutine's stack is unwound only when its wait is new: the same goid,
// sched pc/sp/bp, wait reason and waitsince as the previous sweep saw mean
// the same wait (a goroutine that has not run since keeps its saved
// context), so the unwound stack and labels are cached per goroutine and the
// steady cost is reading the g heads.
#ifndef GSPY_DAEMON_SOURCES_SAMPLED_GOROUTINE_SAMPLER_H_
#define GSPY_DAEMON_SOURCES_SAMPLED_GOROUTINE_SAMPLER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/go_binary.h"
#include "golang/goroutines/allgs_finder.h"
#include "golang/goroutines/g_struct.h"
#include "golang/goroutines/labels_reader.h"
#include "golang/goroutines/memory_source.h"
#include "golang/goroutines/pc_info_memo.h"

namespace gspy {

enum class SampledState : uint8_t {
  kWaiting,   // parked (_Gwaiting; _Gleaked from Go 1.26)
  kRunnable,  // ready to run, or preempted (_Grunnable, _Gpreempted)
};

// What a wait looks like to the profiles; one per wait (or runnable spell),
// cached while it lasts.
struct SampledWait {
  // Unique over all samplers, new for every stack unwound: what the
  // aggregation remembers a wait by, so a known wait costs it one lookup.
  uint64_t id = 0;
  std::vector<uint64_t> stack;  // runtime addresses, leaf first
  LabelList labels;             // sorted by key
  bool labels_error = false;    // unreadable, or over the label budget
  bool stack_complete = false;  // reached runtime.goexit
};

// One goroutine seen in one sweep: it is charged with the sweep's interval.
struct GoroutineCharge {
  uint64_t goid = 0;
  SampledState state = SampledState::kWaiting;
  // g.waitreason; for kRunnable the reason of the wait it was woken from
  // (the runtime clears it on wake-up), 0 when no sweep saw that wait.
  uint8_t wait_reason = 0;
  // The first sweep to see this wait (or this runnable spell): the profiles
  // count distinct waits observed with it.
  bool new_episode = false;
  // The goroutine's slot in the sampler (its allgs index): small, dense and
  // the same from sweep to sweep, so an aggregation can remember what it
  // made of a wait in an array by slot rather than in a hash map (a sweep
  // of 100k+ goroutines spent most of its time in that map's cache misses).
  uint32_t slot = 0;
  uint64_t wait_id = 0;  // wait->id, here because `wait` is cold by then
  const SampledWait* wait = nullptr;  // valid until the next sweep
};

struct SweepCounts {
  int64_t goroutines = 0;  // live ones read
  int64_t waiting = 0, runnable = 0, running = 0, syscall = 0;
  int64_t system_skipped = 0;
  int64_t unwound = 0;  // new waits: stacks unwound
  int64_t cached = 0;   // waits already known: stack from the cache
  // Changed between the read of their head and the re-read after the
  // unwinding: charged only when the stack still reached goexit.
  int64_t torn = 0;
  int64_t torn_dropped = 0;
  int64_t unreadable = 0;  // not a plausible g, or unmapped
  // New waits whose labels did not fit max_label_bytes: charged without
  // their labels.
  int64_t labels_over_budget = 0;
};

// The result of one sweep: each charge stands for (from_ns, to_ns].
struct GoroutineSweep {
  int64_t from_ns = 0;  // the previous sweep (CLOCK_MONOTONIC)
  int64_t to_ns = 0;    // this one
  std::vector<GoroutineCharge> charges;
  SweepCounts counts;
};

struct GoroutineSamplerOptions {
  // Runtime goroutines (GC workers, sweeper, ...) wait for the whole
  // window; like Go's goroutine profile, they are left out unless asked.
  bool include_system = false;
  size_t max_goroutines = 1'000'000;
  size_t max_frames = 512;
  // The label bytes (keys and values) the cache of waits may hold. Labels
  // come from the target: 10k goroutines with 64 labels of 4 KiB each
  // would otherwise keep 5 GB here for as long as they wait.
  size_t max_label_bytes = 16 << 20;
};

class GoroutineSampler {
 public:
  // Finds allgs. FAILED_PRECONDITION for an unknown layout or no allgs,
  // NOT_FOUND when the process is gone. `binary` and `memory` outlive the
  // sampler.
  static absl::StatusOr<std::unique_ptr<GoroutineSampler>> Create(
      const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
      GoroutineSamplerOptions options = {});

  // Reads every goroutine at `now_ns`. The first sweep only learns the
  // goroutines (no charge: nothing came before it). NOT_FOUND when the
  // process is gone.
  absl::StatusOr<GoroutineSweep> Sweep(int64_t now_ns);

  // Goroutines alive at the last sweep, with their cached waits.
  size_t cached_goroutines() const;
  // Label bytes the cached waits hold (at most max_label_bytes).
  size_t label_bytes() const { return label_bytes_; }
  // Ranges the last sweep read (a test's view of the batching).
  size_t read_ranges() const { return ranges_.size(); }
  // Bytes the unwinding's buffers keep between sweeps.
  size_t unwind_buffer_bytes() const {
    return whole_heads_.capacity() + stacks_.capacity() +
           heads_after_.capacity();
  }

 private:
  // What the cache keys a stack by: a goroutine that has not run since
  // keeps all of these (and its waitsince, see Sweep).
  struct WaitKey {
    uint64_t goid = 0, sched_pc = 0, sched_sp = 0, sched_bp = 0;
    bool operator==(const WaitKey&) const = default;
  };
  struct Entry {
    uint64_t g_addr = 0;  // allgs[i]; an entry is reset if it ever differs
    bool live = false;    // seen alive since the g was last free
    uint64_t goid = 0;
    WaitKey key;             // of the cached stack
    uint8_t key_reason = 0;  // the wait reason seen with that stack
    uint8_t reason = 0;
    int64_t waitsince = 0;
    uint32_t base_status = 0;  // as last seen
    bool system = false;
    bool has_wait = false;  // `wait` holds the stack of `key`
    SampledWait wait;
  };
  // Where each allgs entry's head lies among the ranges read: the
  // heads of g's that lie close together in memory (g's are allocated from
  // the same spans) are read as one range, so the kernel pins fewer pages.
  // Redone only when allgs changes (it grows).
  void Plan();
  // One goroutine of a sweep: allgs index `i`, its hot head read into
  // `head` (when `range_ok`; else read alone here). A new wait is queued in
  // `pending_` for UnwindPending. Fails only when the process is gone.
  absl::Status SweepOne(size_t i, absl::Span<char> head, bool range_ok,
                        bool charge, GoroutineSweep& sweep);
  // A new wait SweepOne found: its stack is unwound with the others of its
  // chunk of heads.
  struct PendingWait {
    uint32_t index = 0;  // in allgs
    GFields hot;         // as the sweep read it
    bool waiting = false;
    bool new_episode = false;
  };
  // Unwinds the pending waits in groups, each group in three batched reads
  // (whole heads, stacks, heads again to see which ran meanwhile) rather
  // than three system calls per goroutine, which were most of a first
  // sweep's cost at 100k goroutines. Fails only when the process is gone.
  absl::Status UnwindPending(bool charge, GoroutineSweep& sweep);
  absl::Status UnwindGroup(absl::Span<const PendingWait> group, bool charge,
                           GoroutineSweep& sweep);
  // Charges goroutine `i` (state as `g` says) with the sweep's interval.
  void Charge(size_t i, const GFields& g, bool waiting, bool new_episode,
              bool charge, GoroutineSweep& sweep);
  // Empties `e`'s cached wait and gives its labels' bytes back.
  void Reset(Entry& e, Entry fresh);
  // Keeps the labels UnwindGroup put in `wait` if they fit the budget.
  void ChargeLabels(SampledWait& wait, SweepCounts& counts);

  GoroutineSampler(const GoBinary& binary, const MemorySource& memory,
                   uint64_t load_bias, const RuntimeLayout& layout,
                   uint64_t allgs, GoroutineSamplerOptions options);

  const GoBinary& binary_;
  const MemorySource& memory_;
  const uint64_t load_bias_;
  const RuntimeLayout layout_;
  const uint64_t allgs_;
  const GoroutineSamplerOptions options_;
  // The head's bytes a sweep reads: stack bounds, sched, status, goid and
  // the wait fields (labels and startpc lie further on, and are read when a
  // wait is new).
  const size_t hot_size_;
  // The unwinding's per-pc lookups, for stacks that repeat.
  PcInfoMemo pc_info_;
  int64_t last_ns_ = -1;
  size_t label_bytes_ = 0;  // of every entry's wait.labels
  // By allgs index (whose entries never change); a deque, because charges
  // point into the entries.
  std::deque<Entry> entries_;
  // Reused buffers; the plan of the reads for `planned_array_`.
  std::string array_, planned_array_;
  std::string heads_;                // one chunk of ranges (see Sweep)
  std::vector<MemoryRange> ranges_;  // by address
  // allgs index -> offset of its head in all ranges laid end to end, -1
  // for a pointer not worth reading.
  std::vector<int64_t> slot_;
  std::vector<uint32_t> range_of_;  // allgs index -> index in ranges_
  std::vector<uint32_t> order_;     // allgs indices with a slot, by address
  std::vector<bool> ok_;
  // UnwindPending's queue and reused buffers.
  std::vector<PendingWait> pending_;
  std::string whole_heads_, stacks_, heads_after_;
  std::vector<MemoryRange> unwind_ranges_;
  std::vector<bool> heads_ok_, stacks_ok_, after_ok_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_SAMPLED_GOROUTINE_SAMPLER_H_
