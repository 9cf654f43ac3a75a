// Unit tests of the GC pause pieces that need no kernel: reason names, the
// pairing of probe hits into pauses, RET finding, quantiles.
#include <string>
#include <vector>

#include "bpf/gc_types.h"
#include "daemon/sources/gc/pause_pairer.h"
#include "daemon/sources/gc/stw_reason.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

gspy_gc_event Ev(gspy_gc_event_kind kind, uint64_t ktime, uint64_t a0 = 0,
                 uint64_t a1 = 0, uint64_t a2 = 0, uint32_t tid = 7) {
  gspy_gc_event e{};
  e.tgid = 100;
  e.tid = tid;
  e.kind = kind;
  e.ktime_ns = ktime;
  e.arg0 = a0;
  e.arg1 = a1;
  e.arg2 = a2;
  return e;
}

TEST(StwReason, NamesPerVersion) {
  for (int minor : {22, 23, 24, 25, 26}) {
    EXPECT_EQ(StwReasonName(minor, 1), "GC mark termination");
    EXPECT_EQ(StwReasonName(minor, 2), "GC sweep termination");
    EXPECT_EQ(StwReasonName(minor, 7), "read mem stats");
    EXPECT_EQ(StwReasonName(minor, 9), "GOMAXPROCS");
    EXPECT_EQ(StwReasonName(minor, 16), "ResetDebugLog (test)");
    EXPECT_EQ(StwReasonName(minor, 17), "unknown(17)");
  }
  // Before 1.21 only the GC's stops are named (the pairer infers them).
  EXPECT_EQ(StwReasonName(20, 1), "GC mark termination");
  EXPECT_EQ(StwReasonName(18, 2), "GC sweep termination");
  EXPECT_EQ(StwReasonName(20, 0), "unknown");
  EXPECT_EQ(StwReasonName(20, 7), "unknown(7)");
  EXPECT_EQ(StwReasonName(99, 1), "unknown(1)");
  EXPECT_EQ(StwReasonName(26, -3), "unknown(-3)");
  EXPECT_TRUE(IsGcStwReason(1));
  EXPECT_TRUE(IsGcStwReason(2));
  EXPECT_FALSE(IsGcStwReason(7));
}

TEST(StwReason, Abi) {
  EXPECT_FALSE(StwAbiFor(20).has_reason);
  EXPECT_TRUE(StwAbiFor(21).has_reason);
  EXPECT_FALSE(StwAbiFor(21).has_now);
  EXPECT_TRUE(StwAbiFor(22).has_now);
  EXPECT_TRUE(StwAbiFor(26).has_now);
}

TEST(PausePairer, SweepTerminationEndsAtRetWithGoClock) {
  PausePairer p(StwAbiFor(26));
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_CYCLE_START, 900)).has_value());
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_STW_STOP, 1000, kStwGcSweepTerm)));
  // The morestack restart fires the entry again: ignored.
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_STW_STOP, 1010, kStwGcSweepTerm)));
  // now == 0: Go takes the end inside; the start (CX) is Go's reading.
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_STW_START_ENTRY, 5000, 0, 2, 1200)));
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_STW_START_ENTRY, 5005, 0, 2, 1200)));
  // A RET on another thread is not this call's.
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_STW_START_RET, 5500, 5400, 0, 0, 8)));
  std::optional<StwPause> pause =
      p.Add(Ev(GSPY_GC_STW_START_RET, 6000, /*AX=now*/ 5900));
  ASSERT_TRUE(pause.has_value());
  EXPECT_EQ(pause->start_ktime_ns, 1200u);
  EXPECT_EQ(pause->end_ktime_ns, 5900u);
  EXPECT_EQ(pause->probe_start_ktime_ns, 1000u);
  EXPECT_EQ(pause->probe_end_ktime_ns, 6000u);
  EXPECT_TRUE(pause->runtime_clock);
  EXPECT_TRUE(pause->gc);
  EXPECT_EQ(pause->reason, kStwGcSweepTerm);
  EXPECT_EQ(pause->gc_cycle, 1u);
  EXPECT_EQ(p.duplicates(), 2u);
  EXPECT_EQ(p.cycles_completed(), 0u);
  // A stray RET afterwards completes nothing.
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_STW_START_RET, 6100, 6050)).has_value());
}

TEST(PausePairer, MarkTerminationEndsAtEntryAndCountsOneCycle) {
  PausePairer q(StwAbiFor(24));
  q.Add(Ev(GSPY_GC_STW_STOP, 1000, kStwGcSweepTerm));
  q.Add(Ev(GSPY_GC_STW_START_ENTRY, 3000, 0, 2, 1100));
  ASSERT_TRUE(q.Add(Ev(GSPY_GC_STW_START_RET, 3500, 3400)).has_value());
  // gcMarkTermination outside a mark termination stop is not a cycle.
  q.Add(Ev(GSPY_GC_MARK_TERMINATION, 3600));
  EXPECT_EQ(q.cycles_completed(), 0u);
  q.Add(Ev(GSPY_GC_STW_STOP, 10000, kStwGcMarkTerm));
  q.Add(Ev(GSPY_GC_MARK_TERMINATION, 10500));
  q.Add(Ev(GSPY_GC_MARK_TERMINATION, 10510));  // morestack restart
  EXPECT_EQ(q.cycles_completed(), 1u);
  // The caller passed now (AX != 0): the pause ends at Go's now.
  std::optional<StwPause> pause =
      q.Add(Ev(GSPY_GC_STW_START_ENTRY, 12000, 11900, 1, 10100));
  ASSERT_TRUE(pause.has_value());
  EXPECT_EQ(pause->start_ktime_ns, 10100u);
  EXPECT_EQ(pause->end_ktime_ns, 11900u);
  EXPECT_EQ(pause->reason, kStwGcMarkTerm);
  EXPECT_EQ(pause->gc_cycle, 1u);
  EXPECT_TRUE(pause->runtime_clock);
}

TEST(PausePairer, ImplausibleGoReadingsFallBackToProbeTimes) {
  PausePairer p(StwAbiFor(26));
  p.Add(Ev(GSPY_GC_STW_STOP, 1000, 7));
  // CX before the stop probe and AX after the RET probe: not Go's clock.
  p.Add(Ev(GSPY_GC_STW_START_ENTRY, 2000, 0, 7, 500));
  std::optional<StwPause> pause = p.Add(Ev(GSPY_GC_STW_START_RET, 3000, 9999));
  ASSERT_TRUE(pause.has_value());
  EXPECT_EQ(pause->start_ktime_ns, 1000u);
  EXPECT_EQ(pause->end_ktime_ns, 3000u);
  EXPECT_FALSE(pause->runtime_clock);
  EXPECT_FALSE(pause->gc);
  EXPECT_EQ(pause->reason, 7);
  EXPECT_EQ(pause->gc_cycle, 0u);
}

TEST(PausePairer, Go121HasReasonButNoNow) {
  PausePairer p(StwAbiFor(21));
  p.Add(Ev(GSPY_GC_STW_STOP, 1000, kStwGcSweepTerm));
  // Registers at the entry mean nothing here: the pause ends at the RET.
  EXPECT_FALSE(p.Add(Ev(GSPY_GC_STW_START_ENTRY, 2000, 1500, 0, 1100)));
  std::optional<StwPause> pause = p.Add(Ev(GSPY_GC_STW_START_RET, 2500, 77));
  ASSERT_TRUE(pause.has_value());
  EXPECT_EQ(pause->start_ktime_ns, 1000u);
  EXPECT_EQ(pause->end_ktime_ns, 2500u);
  EXPECT_TRUE(pause->gc);
}

// Feeds one stop of the world ending at startTheWorldWithSema's RET (no
// `now` argument), with gcMarkTermination inside when `mark_termination`.
std::optional<StwPause> StopStart(PausePairer& p, uint64_t t,
                                  bool mark_termination = false) {
  p.Add(Ev(GSPY_GC_STW_STOP, t));
  if (mark_termination) p.Add(Ev(GSPY_GC_MARK_TERMINATION, t + 100));
  p.Add(Ev(GSPY_GC_STW_START_ENTRY, t + 200));
  return p.Add(Ev(GSPY_GC_STW_START_RET, t + 300));
}

TEST(PausePairer, NoReasonCountsCyclesFromGcStart) {
  PausePairer p(StwAbiFor(20));
  p.Add(Ev(GSPY_GC_CYCLE_START, 10));
  p.Add(Ev(GSPY_GC_CYCLE_START, 11));  // gcStart called twice, one cycle
  p.Add(Ev(GSPY_GC_STW_STOP, 1000, 55));
  std::optional<StwPause> first;
  p.Add(Ev(GSPY_GC_STW_START_ENTRY, 2000));
  first = p.Add(Ev(GSPY_GC_STW_START_RET, 2100));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->reason, kStwGcSweepTerm);
  EXPECT_TRUE(first->gc);
  EXPECT_EQ(first->gc_cycle, 1u);
  // A stop during the cycle without gcMarkTermination (ReadMemStats), after
  // a gcStart that cannot start a cycle: not a GC pause, same cycle.
  p.Add(Ev(GSPY_GC_CYCLE_START, 2500));
  std::optional<StwPause> other = StopStart(p, 2600);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->reason, 0);
  EXPECT_FALSE(other->gc);
  EXPECT_EQ(other->gc_cycle, 1u);
  std::optional<StwPause> second = StopStart(p, 3000, true);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->reason, kStwGcMarkTerm);
  EXPECT_TRUE(second->gc);
  EXPECT_EQ(second->gc_cycle, 1u);
  EXPECT_EQ(p.cycles_completed(), 1u);
  EXPECT_EQ(p.gc_start_calls(), 3u);
  // After the cycle, a stop with no gcStart before it is not a GC pause; the
  // next gcStart's stop begins cycle 2.
  std::optional<StwPause> third = StopStart(p, 4000);
  ASSERT_TRUE(third.has_value());
  EXPECT_FALSE(third->gc);
  p.Add(Ev(GSPY_GC_CYCLE_START, 5000));
  std::optional<StwPause> fourth = StopStart(p, 5100);
  ASSERT_TRUE(fourth.has_value());
  EXPECT_EQ(fourth->reason, kStwGcSweepTerm);
  EXPECT_EQ(fourth->gc_cycle, 2u);
}

}  // namespace
}  // namespace gspy
