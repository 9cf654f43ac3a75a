// The books reader on synthetic memory: values and Go's formulas, the
// pause ring across reads (lost pauses), the checks that disable a series
// instead of exporting garbage, a gone process, versions without a metric,
// and the finders on hand-assembled code of a stripped binary.
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "golang/binary/books_layout.h"
#include "golang/books/books_finder.h"
#include "golang/books/books_metrics.h"
#include "golang/books/runtime_books.h"
#include "golang/books/time_histogram.h"
#include "golang/goroutines/memory_source.h"
#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_binary.h"
#include "tests/unit/testing/fake_go_memory.h"

namespace gspy {
namespace {

using testing::FakeMemory;

constexpr uint64_t kSched = 0x600000;
constexpr uint64_t kMemstats = 0x610000;
constexpr uint64_t kGc = 0x620000;
constexpr uint64_t kGomaxprocs = 0x630000;
constexpr uint64_t kAllp = 0x630010;
constexpr uint64_t kNcgocall = 0x630040;
constexpr uint64_t kAllm = 0x630050;
constexpr uint64_t kExtraInUse = 0x630060;
constexpr uint64_t kExtraLength = 0x630064;
constexpr uint64_t kM1 = 0x700000;
constexpr uint64_t kM2 = 0x701000;
constexpr uint64_t kMaxInt64 = 0x7fffffffffffffff;

// A go1.26 process: GOGC=100, no limit, 300 GCs (10 forced), 5 Ms (one an
// idle extra M), GOMAXPROCS 4, cgo calls 5 by dead Ms + 3 + 4.
class BooksTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(26, "go1.26.8"); }

  void Build(int minor, const char* version) {
    l_ = *BuiltinBooksLayout(minor);
    bin_.set_books_layout(l_);
    bin_.set_go_version(version);
    bin_.set_symbols({{"runtime.sched", kSched},
                      {"runtime.memstats", kMemstats},
                      {"runtime.gcController", kGc},
                      {"runtime.gomaxprocs", kGomaxprocs},
                      {"runtime.allp", kAllp},
                      {"runtime.ncgocall", kNcgocall},
                      {"runtime.allm", kAllm},
                      {"runtime.extraMInUse", kExtraInUse},
                      {"runtime.extraMLength", kExtraLength}});
    mem_.Zero(kSched, l_.sched_size);
    mem_.Zero(kMemstats, l_.mstats_size);
    mem_.Zero(kGc, l_.gc_size);
    mem_.Zero(kGomaxprocs, 0x100);
    mem_.Zero(kM1, 0x800);
    mem_.Zero(kM2, 0x800);
    mem_.PutU64(kSched + l_.sched_mnext, 6);
    mem_.PutU64(kSched + l_.sched_nmfreed, 1);
    SetGcs(300, 10);
    mem_.PutU32(kGc + l_.gc_percent, 100);
    if (l_.gc_memory_limit >= 0)
      mem_.PutU64(kGc + l_.gc_memory_limit, kMaxInt64);
    const int32_t goal = l_.gc_percent_heap_goal >= 0 ? l_.gc_percent_heap_goal
                                                      : l_.gc_heap_goal;
    mem_.PutU64(kGc + goal, 8 << 20);
    mem_.PutU64(kGc + l_.gc_heap_marked, 4 << 20);
    if (l_.gc_triggered >= 0) mem_.PutU64(kGc + l_.gc_triggered, ~uint64_t{0});
    if (l_.gc_mapped_ready >= 0) {
      mem_.PutU64(kGc + l_.gc_mapped_ready, 40 << 20);
      mem_.PutU64(kGc + l_.gc_heap_free, 5 << 20);
      mem_.PutU64(kGc + l_.gc_total_alloc, 30 << 20);
      mem_.PutU64(kGc + l_.gc_total_free, 10 << 20);
    }
    mem_.PutU32(kGomaxprocs, 4);
    mem_.PutU64(kAllp, 0x800000);
    mem_.PutU64(kAllp + 8, 4);
    mem_.PutU64(kAllp + 16, 8);
    mem_.PutU64(kNcgocall, 5);
    mem_.PutU64(kAllm, kM1);
    mem_.PutU64(kM1 + l_.m_alllink, kM2);
    mem_.PutU64(kM1 + l_.m_ncgocall, 3);
    mem_.PutU64(kM2 + l_.m_ncgocall, 4);
    // Five Ms listed, as sched counts them: M1 -> M2 -> three more.
    uint64_t prev = kM2;
    for (uint64_t m : {0x702000, 0x703000, 0x704000}) {
      mem_.Zero(m, 0x800);
      mem_.PutU64(prev + l_.m_alllink, m);
      prev = m;
    }
    if (l_.m_lock_profile >= 0) {
      mem_.PutU64(kM1 + l_.m_lock_profile + l_.lock_profile_wait_time, 10);
      mem_.PutU64(kM2 + l_.m_lock_profile + l_.lock_profile_wait_time, 20);
      mem_.PutU64(kSched + l_.sched_total_runtime_lock_wait_time, 1000);
    }
    if (l_.sched_total_mutex_wait_time >= 0) {
      mem_.PutU64(kSched + l_.sched_total_mutex_wait_time, 500000);
    }
    mem_.PutU32(kExtraInUse, 0);
    mem_.PutU32(kExtraLength, 1);
    // timeToRun: underflow 1, bucket 3 holds 7, overflow 2 (1.20+).
    mem_.PutU64(kSched + l_.sched_time_to_run + l_.th_underflow, 1);
    mem_.PutU64(kSched + l_.sched_time_to_run + l_.th_counts + 3 * 8, 7);
    if (l_.th_overflow >= 0) {
      mem_.PutU64(kSched + l_.sched_time_to_run + l_.th_overflow, 2);
    }
  }

  // numgc cycles, the pause of cycle c is c*1000 ns and ended at c*10^9.
  void SetGcs(uint32_t numgc, uint32_t forced) {
    mem_.PutU32(kMemstats + l_.mstats_numgc, numgc);
    mem_.PutU32(kMemstats + l_.mstats_numforcedgc, forced);
    const uint64_t first = numgc > 256 ? numgc - 255 : 1;
    for (uint64_t c = first; c <= numgc; ++c) {
      const uint64_t idx = 8 * ((c - 1) % 256);
      mem_.PutU64(kMemstats + l_.mstats_pause_ns + idx, c * 1000);
      mem_.PutU64(kMemstats + l_.mstats_pause_end + idx, c * 1'000'000'000);
    }
    mem_.PutU64(kMemstats + l_.mstats_last_gc_unix,
                uint64_t{numgc} * 1'000'000'000);
  }

  std::unique_ptr<RuntimeBooks> Open() {
    auto books = RuntimeBooks::Open(bin_, mem_, 0);
    EXPECT_TRUE(books.ok()) << books.status();
    return books.ok() ? *std::move(books) : nullptr;
  }

  BooksLayout l_;
  FakeMemory mem_;
  testing::FakeGoBinary bin_{{}};
};

TEST_F(BooksTest, ReadsEveryValueWithGosFormulas) {
  auto books = Open();
  ASSERT_NE(books, nullptr);
  EXPECT_TRUE(books->disabled().empty());
  auto snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(*snap->gc_cycles, 300u);
  EXPECT_EQ(*snap->gc_forced_cycles, 10u);
  EXPECT_EQ(*snap->gogc, 100);
  EXPECT_EQ(*snap->memory_limit, static_cast<int64_t>(kMaxInt64));
  // No limit: the GOGC goal; triggered is ^0, the sweep trigger 0.
  EXPECT_EQ(*snap->heap_goal, 8u << 20);
  EXPECT_EQ(*snap->heap_live, 4u << 20);
  EXPECT_EQ(*snap->gomaxprocs, 4);
  // mcount 5 - in use 0 - idle extra Ms 1.
  EXPECT_EQ(*snap->threads, 4);
  EXPECT_EQ(*snap->cgo_calls, 5u + 3 + 4);
  // sync waits + exited Ms' runtime lock waits + live Ms'.
  EXPECT_EQ(*snap->mutex_wait_ns, 500000 + 1000 + 10 + 20);
  ASSERT_TRUE(snap->sched_latencies.ok());
  const std::vector<uint64_t>& c = snap->sched_latencies->counts;
  ASSERT_EQ(c.size(), 162u);
  EXPECT_EQ(c[0], 1u);
  EXPECT_EQ(c[4], 7u);
  EXPECT_EQ(c[161], 2u);
  EXPECT_EQ(snap->sched_latencies->boundaries->size(), 163u);
  // The ring's 256 newest pauses, oldest first.
  ASSERT_TRUE(snap->pause_ring.ok());
  ASSERT_EQ(snap->pause_ring->pauses.size(), 256u);
  EXPECT_EQ(snap->pause_ring->pauses.front().cycle, 45u);
  EXPECT_EQ(snap->pause_ring->pauses.back().cycle, 300u);
  EXPECT_EQ(snap->pause_ring->pauses.back().pause_ns, 300'000u);
  EXPECT_EQ(snap->pause_ring->pauses.back().end_unix_ns, 300'000'000'000u);
  EXPECT_EQ(snap->pause_ring->lost, 0u);

  // As runtime/metrics names them; automatic = total - forced.
  std::map<std::string, BooksMetric> by_name;
  for (BooksMetric& m : BooksMetrics(*snap)) by_name.emplace(m.name, m);
  EXPECT_EQ(by_name.size(), 17u);
  EXPECT_EQ(by_name.at("/gc/cycles/automatic:gc-cycles").u64, 290u);
  EXPECT_EQ(by_name.at("/sync/mutex/wait/total:seconds").f64,
            static_cast<double>(501030) / 1e9);
}

TEST_F(BooksTest, MemoryLimitGoal) {
  // GOGC=off and a 64 MiB limit: 40 MiB mapped, 5 free, 20 allocated, so
  // 15 MiB are not heap; 49 MiB minus 3% headroom (go1.21+).
  mem_.PutU32(kGc + l_.gc_percent, static_cast<uint32_t>(-1));
  mem_.PutU64(kGc + l_.gc_percent_heap_goal, ~uint64_t{0});
  mem_.PutU64(kGc + l_.gc_memory_limit, 64 << 20);
  auto books = Open();
  ASSERT_NE(books, nullptr);
  auto snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(*snap->gogc, -1);
  EXPECT_EQ(*snap->heap_goal, 51380224u - 51380224u / 100 * 3);
  for (const BooksMetric& m : BooksMetrics(*snap)) {
    if (m.name == "/gc/gogc:percent") EXPECT_EQ(m.u64, ~uint64_t{0});
  }
}

TEST_F(BooksTest, PauseRingAcrossReadsCountsLostPauses) {
  auto books = Open();
  ASSERT_NE(books, nullptr);
  ASSERT_TRUE(books->Read(mem_).ok());
  SetGcs(303, 10);
  auto snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->pause_ring->pauses.size(), 3u);
  EXPECT_EQ(snap->pause_ring->pauses[0].cycle, 301u);
  EXPECT_EQ(snap->pause_ring->pauses[0].pause_ns, 301'000u);
  EXPECT_EQ(snap->pause_ring->lost, 0u);
  // 300 more cycles than the 256 the ring holds: 44 lost.
  SetGcs(603, 10);
  snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->pause_ring->pauses.size(), 256u);
  EXPECT_EQ(snap->pause_ring->pauses.front().cycle, 348u);
  EXPECT_EQ(snap->pause_ring->lost, 44u);
  // Nothing new.
  snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(snap->pause_ring->pauses.empty());
}

TEST_F(BooksTest, DecreasingHistogramDisablesOnlyThatSeries) {
  auto books = Open();
  ASSERT_NE(books, nullptr);
  ASSERT_TRUE(books->Read(mem_).ok());
  mem_.PutU64(kSched + l_.sched_time_to_run + l_.th_counts + 3 * 8, 6);
  auto snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_FALSE(snap->sched_latencies.ok());
  ASSERT_TRUE(books->disabled().contains(BooksSeries::kSchedLatencies));
  EXPECT_EQ(books->disabled().at(BooksSeries::kSchedLatencies).reason,
            "not_monotonic");
  EXPECT_TRUE(snap->gc_cycles.ok());
  EXPECT_TRUE(snap->stw_total_gc.ok());
  // Disabled for good, even once the value looks fine again.
  mem_.PutU64(kSched + l_.sched_time_to_run + l_.th_counts + 3 * 8, 9);
  snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(snap->sched_latencies.status()))
      << snap->sched_latencies.status();
}

TEST_F(BooksTest, ImplausibleValuesAreNeverExported) {
  auto books = Open();
  ASSERT_NE(books, nullptr);
  mem_.PutU32(kGomaxprocs, 9);                          // len(allp) is 4
  mem_.PutU32(kMemstats + l_.mstats_numforcedgc, 301);  // > numgc
  mem_.PutU64(kM2 + l_.m_alllink, kM1);                 // a cycle in allm
  auto snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_FALSE(snap->gomaxprocs.ok());
  EXPECT_FALSE(snap->gc_cycles.ok());
  EXPECT_FALSE(snap->cgo_calls.ok());
  EXPECT_FALSE(snap->mutex_wait_ns.ok());  // needs the M list on 1.22+
  for (BooksSeries s : {BooksSeries::kGomaxprocs, BooksSeries::kGcCycles,
                        BooksSeries::kCgoCalls}) {
    ASSERT_TRUE(books->disabled().contains(s)) << BooksSeriesName(s);
    EXPECT_EQ(books->disabled().at(s).reason, "implausible");
  }
  EXPECT_TRUE(snap->heap_goal.ok());
  for (const BooksMetric& m : BooksMetrics(*snap)) {
    if (m.name == "/sched/gomaxprocs:threads") EXPECT_FALSE(m.status.ok());
  }
}

TEST_F(BooksTest, UnreadableGlobalDisablesItsSeries) {
  bin_.set_symbols({{"runtime.sched", kSched},
                    {"runtime.memstats", kMemstats},
                    {"runtime.gcController", 0x900000}});  // unmapped
  auto books = RuntimeBooks::Open(bin_, mem_, 0);
  ASSERT_TRUE(books.ok()) << books.status();
  // No functions to decode either: gcController is not found.
  ASSERT_TRUE((*books)->disabled().contains(BooksSeries::kHeapGoal));
  EXPECT_EQ((*books)->disabled().at(BooksSeries::kHeapGoal).reason,
            "not_found");
  auto snap = (*books)->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_FALSE(snap->heap_goal.ok());
  EXPECT_TRUE(snap->gc_cycles.ok());
}

TEST_F(BooksTest, GoneProcessDisablesNothing) {
  auto books = Open();
  ASSERT_NE(books, nullptr);
  mem_.gone = true;
  auto snap = books->Read(mem_);
  EXPECT_TRUE(absl::IsNotFound(snap.status())) << snap.status();
  EXPECT_TRUE(books->disabled().empty());
}

TEST_F(BooksTest, OldVersionsSayWhatTheyLack) {
  Build(18, "go1.18.10");
  auto books = Open();
  ASSERT_NE(books, nullptr);
  auto snap = books->Read(mem_);
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(absl::IsUnimplemented(snap->mutex_wait_ns.status()));
  EXPECT_TRUE(absl::IsUnimplemented(snap->stw_total_gc.status()));
  EXPECT_TRUE(absl::IsUnimplemented(snap->threads.status()));
  EXPECT_TRUE(absl::IsUnimplemented(snap->memory_limit.status()));
  EXPECT_EQ(*snap->heap_goal, 8u << 20);  // go1.18: the heapGoal field
  ASSERT_TRUE(snap->sched_latencies.ok());
  EXPECT_EQ(snap->sched_latencies->counts.size(), 721u);
  EXPECT_EQ(snap->sched_latencies->counts[4], 7u);
  // runtime/metrics of go1.18 has 6 of the metrics.
  EXPECT_EQ(BooksMetrics(*snap).size(), 6u);
}

TEST(TimeHistogramTest, BoundariesAsMetricsReadReturnsThem) {
  const std::vector<double>& now = TimeHistogramBoundaries(20);
  ASSERT_EQ(now.size(), 163u);
  EXPECT_EQ(now[0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(now[1], 0.0);
  EXPECT_EQ(now[2], 64e-9);
  EXPECT_EQ(now[5], 256e-9);  // [2^8, 2^9) ns starts the exponential part
  EXPECT_EQ(now[161], static_cast<double>(uint64_t{1} << 47) / 1e9);
  EXPECT_EQ(now[162], std::numeric_limits<double>::infinity());
  const std::vector<double>& old = TimeHistogramBoundaries(19);
  ASSERT_EQ(old.size(), 722u);
  EXPECT_EQ(old[2], 1e-9);
  EXPECT_EQ(old[17], 16e-9);
  EXPECT_EQ(old[721], std::numeric_limits<double>::infinity());
  for (const auto* b : {&now, &old}) {
    for (size_t i = 1; i < b->size(); ++i) EXPECT_LT((*b)[i - 1], (*b)[i]);
  }
}

TEST(BooksMetricsTest, PrometheusNamesLikeClientGolang) {
  EXPECT_EQ(BooksPrometheusName("/sched/latencies:seconds", false),
            "gspy_go_sched_latencies_seconds");
  EXPECT_EQ(BooksPrometheusName("/gc/cycles/total:gc-cycles", true),
            "gspy_go_gc_cycles_total_gc_cycles_total");
  EXPECT_EQ(BooksPrometheusName("/cgo/go-to-c-calls:calls", true),
            "gspy_go_cgo_go_to_c_calls_calls_total");
}

// --- finders, on hand-assembled amd64 code (a stripped binary) ---

// rel32 of a RIP-relative operand of the instruction that ends at `next`.
std::string Rel(uint64_t target, uint64_t next) {
  const int32_t d = static_cast<int32_t>(target - next);
  return std::string(reinterpret_cast<const char*>(&d), 4);
}

TEST(BooksFinderTest, BasesFromPair) {
  // 0x1000+48 and 0x1000+64 pin 0x1000; 0x2030 alone pins nothing.
  EXPECT_EQ(BasesFromPair({0x2030, 0x1030, 0x1040}, 48, 64),
            std::vector<uint64_t>{0x1000});
  EXPECT_TRUE(BasesFromPair({0x1030}, 48, 64).empty());
}

TEST_F(BooksTest, FindsGlobalsInAStrippedBinary) {
  constexpr uint64_t kCheckmcount = 0x401000;
  constexpr uint64_t kEnlist = 0x402000;
  constexpr uint64_t kMexit = 0x403000;
  constexpr uint64_t kGcStart = 0x404000;
  constexpr uint64_t kStartCycle = 0x405000;
  bin_ = testing::FakeGoBinary(
      {{"runtime.checkmcount", kCheckmcount, kCheckmcount + 0x40, 0, ""},
       {"runtime.(*gcControllerState).enlistWorker", kEnlist, kEnlist + 0x40, 0,
        ""},
       {"runtime.mexit", kMexit, kMexit + 0x40, 0, ""},
       {"runtime.gcStart", kGcStart, kGcStart + 0x40, 0, ""},
       {"runtime.(*gcControllerState).startCycle", kStartCycle,
        kStartCycle + 0x40, 0, ""}});
  bin_.set_books_layout(l_);
  bin_.set_go_version("go1.26.8");
  // checkmcount: mov rax,[sched+mnext]; sub rax,[sched+nmfreed];
  // mov ecx,[extraMInUse]; mov edx,[extraMLength].
  std::string code;
  auto add = [&](uint64_t base, std::string op, uint64_t target) {
    const uint64_t next = base + code.size() + op.size() + 4;
    code += op + Rel(target, next);
  };
  add(kCheckmcount, "\x48\x8b\x05", kSched + l_.sched_mnext);
  add(kCheckmcount, "\x48\x2b\x05", kSched + l_.sched_nmfreed);
  add(kCheckmcount, "\x8b\x0d", kExtraInUse);
  add(kCheckmcount, "\x8b\x15", kExtraLength);
  code.resize(0x40, '\xcc');
  mem_.Put(kCheckmcount, code);
  // enlistWorker: cmp dword [gomaxprocs], 1; mov rax,[allp+8]; mov rbx,[allp].
  code.clear();
  code += "\x83\x3d" + Rel(kGomaxprocs, kEnlist + 7) + "\x01";
  add(kEnlist, "\x48\x8b\x05", kAllp + 8);
  add(kEnlist, "\x48\x8b\x1d", kAllp);
  code.resize(0x40, '\xcc');
  mem_.Put(kEnlist, code);
  // mexit: lea rbx,[ncgocall]; lock xadd [rbx],rdx.
  code.clear();
  add(kMexit, "\x48\x8d\x1d", kNcgocall);
  code += std::string("\xf0\x48\x0f\xc1\x13", 5);
  code.resize(0x40, '\xcc');
  mem_.Put(kMexit, code);

  // gcStart: lea rax,[gcController+heapLive] (a look-alike pair member);
  // lea rax,[gcController]; call (*gcControllerState).startCycle.
  code.clear();
  add(kGcStart, "\x48\x8d\x05", kGc + l_.gc_heap_live);
  add(kGcStart, "\x48\x8d\x05", kGc);
  add(kGcStart, "\xe8", kStartCycle);
  code.resize(0x40, '\xcc');
  mem_.Put(kGcStart, code);

  auto g = FindBooksGlobals(bin_, mem_, 0, l_);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->gc_controller.addr, kGc) << g->gc_controller.how;
  EXPECT_NE(g->gc_controller.how.find("receiver"), std::string::npos)
      << g->gc_controller.how;
  EXPECT_EQ(g->sched.addr, kSched) << g->sched.how;
  EXPECT_EQ(g->gomaxprocs.addr, kGomaxprocs) << g->gomaxprocs.how;
  EXPECT_EQ(g->allp.addr, kAllp) << g->allp.how;
  EXPECT_EQ(g->ncgocall.addr, kNcgocall) << g->ncgocall.how;
  EXPECT_EQ(g->extra_m_in_use.addr, kExtraInUse) << g->extra_m_in_use.how;
  EXPECT_EQ(g->extra_m_length.addr, kExtraLength) << g->extra_m_length.how;
  // Functions the fake lacks: not found, and said so.
  EXPECT_FALSE(g->memstats.found());
  EXPECT_NE(g->memstats.how.find("gcMarkTermination"), std::string::npos);

  // A GOMAXPROCS beyond len(allp) is not taken for gomaxprocs.
  mem_.PutU32(kGomaxprocs, 5);
  g = FindBooksGlobals(bin_, mem_, 0, l_);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->gomaxprocs.found());
}

}  // namespace
}  // namespace gspy
