// PausePairer: turns one process's probe hits (in the order the ring buffer
// delivers them) into stop-the-world pauses and GC cycle counts.
//
// A pause starts at the entry of runtime.stopTheWorldWithSema. It ends at the
// entry of runtime.startTheWorldWithSema when the caller passed a `now` (Go
// took the end time before the call: mark termination), otherwise at the
// first RET of startTheWorldWithSema on the same thread (Go takes the end
// time inside, just before returning). An entry probe can fire twice (the
// prologue's morestack call restarts the function): a second stop while
// stopped, or a second start-entry while ending, is ignored.
//
// Those probe times bound the pause from outside, but each includes a uprobe
// hit (a few microseconds) and the work around Go's own clock readings. From
// Go 1.22 the probes also see Go's clock readings, which use the same clock
// (CLOCK_MONOTONIC) as the probes: startTheWorldWithSema(now, w) gets the
// start (w.startedStopping, the third integer argument register) and, when the
// caller took it, the end (`now`, the first); otherwise it returns the end in
// the first result register, seen at the RET. A reading is used only when it
// lies within the probe times; the pause is then exactly the one Go's
// /sched/pauses/total metrics record.
#ifndef GSPY_DAEMON_SOURCES_GC_PAUSE_PAIRER_H_
#define GSPY_DAEMON_SOURCES_GC_PAUSE_PAIRER_H_

#include <cstdint>
#include <optional>

#include "bpf/gc_types.h"
#include "daemon/sources/gc/stw_reason.h"

namespace gspy {

struct StwPause {
  // The pause: Go's own clock readings where seen, else the probe times.
  uint64_t start_ktime_ns = 0;
  uint64_t end_ktime_ns = 0;
  // When the probes fired (stopTheWorldWithSema entry; startTheWorldWithSema
  // entry or RET): an upper bound of the pause.
  uint64_t probe_start_ktime_ns = 0;
  uint64_t probe_end_ktime_ns = 0;
  bool runtime_clock = false;  // both ends are Go's readings
  // runtime.stwReason. Before Go 1.21, which passes none, the two GC stops
  // are told by the probes around them (gcStart, gcMarkTermination) and
  // every other stop is 0, unknown.
  int reason = 0;
  bool gc = false;
  // The GC cycle the pause belongs to, counted from 1 at the first sweep
  // termination seen (0: before any).
  uint64_t gc_cycle = 0;
};

class PausePairer {
 public:
  explicit PausePairer(StwAbi abi) : abi_(abi) {}

  // Feeds one event; returns a pause when the event completes one. A GC
  // cycle completes at runtime.gcMarkTermination, which runs inside the
  // mark termination stop.
  std::optional<StwPause> Add(const gspy_gc_event& event);

  // runtime.gcStart calls (not all start a cycle).
  uint64_t gc_start_calls() const { return gc_start_calls_; }
  uint64_t cycles_completed() const { return cycles_completed_; }
  uint64_t duplicates() const { return duplicates_; }

 private:
  enum class State { kIdle, kStopped, kEnding };
  StwPause Finish(uint64_t probe_end, uint64_t runtime_end);
  const StwAbi abi_;
  State state_ = State::kIdle;
  StwPause current_;
  uint32_t ending_tid_ = 0;
  uint64_t runtime_start_ = 0;  // 0: not seen
  uint64_t gc_cycle_ = 0;
  uint64_t gc_start_calls_ = 0;
  bool cycle_pending_ = false;  // gcStart seen since the last stop
  // Between a sweep termination and its mark termination.
  bool in_cycle_ = false;
  bool mark_termination_seen_ = false;  // in the current stop
  uint64_t cycles_completed_ = 0;
  uint64_t duplicates_ = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_GC_PAUSE_PAIRER_H_
