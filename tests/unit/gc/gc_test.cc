// Unit tests of the GC pause pieces that need no kernel: reason names, the
// pairing of probe hits into pauses, RET finding, quantiles.
#include <string>
#include <vector>

#include "bpf/gc_types.h"
#include "daemon/gc/gc_service.h"
#include "daemon/gc/pause_pairer.h"
#include "daemon/gc/stw_reason.h"
#include "daemon/probes/disassembly.h"
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

TEST(RetFinder, Amd64) {
  // push rbp; mov rbp,rsp; ret; int3; ret 8; nop
  const std::string code("\x55\x48\x89\xe5\xc3\xcc\xc2\x08\x00\x90", 10);
  absl::StatusOr<std::vector<uint64_t>> rets =
      FindReturnInstructions(code, 0x401000, "amd64");
  ASSERT_TRUE(rets.ok()) << rets.status();
  EXPECT_EQ(*rets, (std::vector<uint64_t>{0x401004, 0x401006}));
}

TEST(RetFinder, Arm64) {
  // mov x0, #0 (d2800000); ret (d65f03c0)
  const std::string code("\x00\x00\x80\xd2\xc0\x03\x5f\xd6", 8);
  absl::StatusOr<std::vector<uint64_t>> rets =
      FindReturnInstructions(code, 0x10000, "arm64");
  ASSERT_TRUE(rets.ok()) << rets.status();
  EXPECT_EQ(*rets, (std::vector<uint64_t>{0x10004}));
}

TEST(RetFinder, Errors) {
  // A C3 byte inside another instruction is not a RET: mov eax, 0xc3.
  const std::string no_ret("\xb8\xc3\x00\x00\x00", 5);
  EXPECT_EQ(FindReturnInstructions(no_ret, 0x1000, "amd64").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FindReturnInstructions("\xc3", 0x1000, "riscv64").status().code(),
            absl::StatusCode::kUnimplemented);
}

// Prologues of runtime.gopark as Go emits them (go tool objdump).
TEST(FrameSetupEnd, Amd64Go126PushMov) {
  // cmp rsp,[r14+0x10]; jbe; push rbp; mov rbp,rsp; sub rsp,0x10
  const std::string code(
      "\x49\x3b\x66\x10\x0f\x86\xdc\x00\x00\x00\x55\x48\x89\xe5"
      "\x48\x83\xec\x10",
      18);
  absl::StatusOr<uint64_t> at = FindFrameSetupEnd(code, 0x479500, "amd64");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, 0x47950eu);
}

TEST(FrameSetupEnd, Amd64Go118SubMovLea) {
  // cmp; jbe; sub rsp,0x18; mov [rsp+0x10],rbp; lea rbp,[rsp+0x10]; mov
  // rdx,[r14+0x30]
  const std::string code(
      "\x49\x3b\x66\x10\x0f\x86\xe9\x00\x00\x00\x48\x83\xec\x18"
      "\x48\x89\x6c\x24\x10\x48\x8d\x6c\x24\x10\x49\x8b\x56\x30",
      28);
  absl::StatusOr<uint64_t> at = FindFrameSetupEnd(code, 0x432740, "amd64");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, 0x432758u);
}

TEST(FrameSetupEnd, Arm64) {
  // str x30,[sp,#-32]!; stur x29,[sp,#-8]; sub x29,sp,#8; mov x0,#0
  const std::string code(
      "\xfe\x0f\x1e\xf8\xfd\x83\x1f\xf8\xfd\x23\x00\xd1\x00\x00"
      "\x80\xd2",
      16);
  absl::StatusOr<uint64_t> at = FindFrameSetupEnd(code, 0x10000, "arm64");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, 0x1000cu);
}

TEST(FrameSetupEnd, NoFrame) {
  // A frameless function: mov eax,1; ret. And the setup as last instruction.
  EXPECT_EQ(FindFrameSetupEnd(std::string("\xb8\x01\x00\x00\x00\xc3", 6),
                              0x1000, "amd64")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FindFrameSetupEnd("\x48\x89\xe5", 0x1000, "amd64").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ReturnsFromCalls, Amd64GoparkCallsMcall) {
  // go1.26 gopark's end: call runtime.mcall (0x47d6a0); add rsp,0x10;
  // pop rbp; ret; then a call elsewhere.
  const std::string code(
      "\xe8\xd2\x40\x00\x00\x48\x83\xc4\x10\x5d\xc3"
      "\xe8\x00\x00\x00\x00",
      16);
  absl::StatusOr<std::vector<uint64_t>> at =
      FindReturnsFromCallsTo(code, 0x4795c9, "amd64", 0x47d6a0);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, std::vector<uint64_t>{0x4795ce});
  EXPECT_EQ(
      FindReturnsFromCallsTo(code, 0x4795c9, "amd64", 0x1234).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(ReturnsFromCalls, Arm64Bl) {
  // bl +0x100 (94000040); mov x0, #0
  const std::string code("\x40\x00\x00\x94\x00\x00\x80\xd2", 8);
  absl::StatusOr<std::vector<uint64_t>> at =
      FindReturnsFromCallsTo(code, 0x10000, "arm64", 0x10100);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, std::vector<uint64_t>{0x10004});
}

TEST(Quantile, NearestRank) {
  EXPECT_EQ(Quantile({}, 0.5), 0);
  EXPECT_EQ(Quantile({5}, 0.99), 5);
  std::vector<int64_t> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(Quantile(v, 0.50), 50);
  EXPECT_EQ(Quantile(v, 0.99), 99);
  EXPECT_EQ(Quantile(v, 1.0), 100);
}

}  // namespace
}  // namespace gspy
