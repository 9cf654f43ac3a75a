#include "daemon/sources/gc/pause_pairer.h"

namespace gspy {

StwPause PausePairer::Finish(uint64_t probe_end, uint64_t runtime_end) {
  StwPause p = current_;
  p.probe_end_ktime_ns = probe_end;
  const bool start_ok = runtime_start_ != 0;
  const uint64_t start = start_ok ? runtime_start_ : p.probe_start_ktime_ns;
  // Every supported release returns its clock reading from
  // startTheWorldWithSema (taken once the world runs again, before it wakes
  // an idle P); only 1.22+ also passes the start.
  const bool end_ok =
      runtime_end >= start && runtime_end <= probe_end && runtime_end != 0;
  p.start_ktime_ns = start;
  p.end_ktime_ns = end_ok ? runtime_end : probe_end;
  p.runtime_clock = start_ok && end_ok;
  state_ = State::kIdle;
  return p;
}

std::optional<StwPause> PausePairer::Add(const gspy_gc_event& event) {
  switch (event.kind) {
    case GSPY_GC_STW_STOP: {
      if (state_ != State::kIdle) {
        // The entry fired again (morestack), or a start was lost: keep the
        // first start.
        ++duplicates_;
        return std::nullopt;
      }
      current_ = StwPause();
      current_.probe_start_ktime_ns = event.ktime_ns;
      runtime_start_ = 0;
      if (abi_.has_reason) {
        current_.reason = static_cast<int>(event.arg0 & 0xff);
      } else if (cycle_pending_ && !in_cycle_) {
        // Before Go 1.21 the stop carries no reason: the first stop after
        // gcStart outside a cycle is its sweep termination.
        current_.reason = kStwGcSweepTerm;
      }
      current_.gc = IsGcStwReason(current_.reason);
      if (current_.reason == kStwGcSweepTerm) {
        ++gc_cycle_;
        in_cycle_ = true;
      }
      cycle_pending_ = false;
      mark_termination_seen_ = false;
      current_.gc_cycle = gc_cycle_;
      state_ = State::kStopped;
      return std::nullopt;
    }
    case GSPY_GC_STW_START_ENTRY: {
      if (state_ != State::kStopped) {
        ++duplicates_;
        return std::nullopt;
      }
      // startTheWorldWithSema(now int64, w worldStop): AX = now,
      // BX = w.reason, CX = w.startedStopping.
      if (abi_.has_now && event.arg2 >= current_.probe_start_ktime_ns &&
          event.arg2 <= event.ktime_ns) {
        runtime_start_ = event.arg2;
      }
      if (abi_.has_now && event.arg0 != 0) {
        return Finish(event.ktime_ns, event.arg0);
      }
      ending_tid_ = event.tid;
      state_ = State::kEnding;
      return std::nullopt;
    }
    case GSPY_GC_STW_START_RET: {
      if (state_ != State::kEnding || event.tid != ending_tid_) {
        return std::nullopt;
      }
      // At the RET, AX holds the result: the `now` Go recorded.
      return Finish(event.ktime_ns, event.arg0);
    }
    case GSPY_GC_CYCLE_START:
      // gcStart also runs when no cycle starts (the trigger test fails):
      // a cycle starts with the next stop of the world. Calls during a
      // cycle cannot start one.
      ++gc_start_calls_;
      if (!in_cycle_) cycle_pending_ = true;
      return std::nullopt;
    case GSPY_GC_MARK_TERMINATION:
      // gcMarkTermination runs with the world stopped for mark termination,
      // once per cycle; it runs on a goroutine stack, so its entry probe
      // fires again after morestack: count it once per stop.
      if (state_ != State::kStopped || mark_termination_seen_ ||
          (abi_.has_reason && current_.reason != kStwGcMarkTerm)) {
        ++duplicates_;
        return std::nullopt;
      }
      mark_termination_seen_ = true;
      ++cycles_completed_;
      in_cycle_ = false;
      // Without reasons (before Go 1.21), this is how mark termination's
      // stop is known.
      current_.reason = kStwGcMarkTerm;
      current_.gc = true;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace gspy
