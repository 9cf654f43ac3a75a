#include "golang/books/runtime_books.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/go_version.h"
#include "golang/books/time_histogram.h"

namespace gspy {
namespace {

// Structs larger than this are not read (a corrupt layout cannot make us
// copy megabytes per scrape); the largest, go1.18's mstats, is 15 KB.
constexpr int kMaxStructBytes = 64 << 10;
constexpr int kRetries = 4;

// A copy of one runtime struct.
class StructCopy {
 public:
  StructCopy() = default;
  explicit StructCopy(std::string bytes) : bytes_(std::move(bytes)) {}
  bool has(int32_t off, int size) const {
    return off >= 0 && static_cast<size_t>(off) + size <= bytes_.size();
  }
  uint64_t U64(int32_t off) const {
    uint64_t v = 0;
    if (has(off, 8)) std::memcpy(&v, bytes_.data() + off, 8);
    return v;
  }
  uint32_t U32(int32_t off) const {
    uint32_t v = 0;
    if (has(off, 4)) std::memcpy(&v, bytes_.data() + off, 4);
    return v;
  }
  std::string_view View(int32_t off, int size) const {
    if (!has(off, size)) return {};
    return std::string_view(bytes_).substr(off, size);
  }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string bytes_;
};

// A field's value before it is computed: the error of what it derives from,
// or "not computed" when that is fine (StatusOr cannot hold an OK status).
absl::Status Pending(const absl::Status& from) {
  return from.ok() ? absl::UnknownError("not computed") : from;
}

absl::Status Implausible(absl::string_view msg) {
  return absl::DataLossError(msg);
}

// Reads `size` bytes of a struct at `addr`.
absl::StatusOr<StructCopy> CopyStruct(const MemorySource& memory, uint64_t addr,
                                      int32_t size, const char* what) {
  if (addr == 0) {
    return absl::FailedPreconditionError(absl::StrCat(what, " not found"));
  }
  if (size <= 0 || size > kMaxStructBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("no usable size for ", what));
  }
  absl::StatusOr<std::string> bytes = memory.ReadAt(addr, size);
  if (!bytes.ok()) return bytes.status();
  return StructCopy(*std::move(bytes));
}

absl::StatusOr<uint32_t> ReadU32(const MemorySource& memory, uint64_t addr) {
  uint32_t v;
  absl::Status st =
      memory.Read(addr, absl::MakeSpan(reinterpret_cast<char*>(&v), 4));
  if (!st.ok()) return st;
  return v;
}

}  // namespace

const char* BooksSeriesName(BooksSeries s) {
  switch (s) {
    case BooksSeries::kGcCycles:
      return "gc_cycles";
    case BooksSeries::kGcPauseRing:
      return "gc_pause_ring";
    case BooksSeries::kHeapGoal:
      return "gc_heap_goal";
    case BooksSeries::kHeapLive:
      return "gc_heap_live";
    case BooksSeries::kGogc:
      return "gc_gogc";
    case BooksSeries::kMemoryLimit:
      return "gc_gomemlimit";
    case BooksSeries::kGcPauses:
      return "gc_pauses";
    case BooksSeries::kSchedLatencies:
      return "sched_latencies";
    case BooksSeries::kStwStoppingGc:
      return "sched_pauses_stopping_gc";
    case BooksSeries::kStwStoppingOther:
      return "sched_pauses_stopping_other";
    case BooksSeries::kStwTotalGc:
      return "sched_pauses_total_gc";
    case BooksSeries::kStwTotalOther:
      return "sched_pauses_total_other";
    case BooksSeries::kMutexWait:
      return "sync_mutex_wait_total";
    case BooksSeries::kGomaxprocs:
      return "sched_gomaxprocs";
    case BooksSeries::kThreads:
      return "sched_threads_total";
    case BooksSeries::kCgoCalls:
      return "cgo_go_to_c_calls";
  }
  return "unknown";
}

RuntimeBooks::RuntimeBooks(BooksLayout layout, BooksGlobals globals, int minor,
                           BooksOptions options)
    : layout_(layout),
      globals_(std::move(globals)),
      minor_(minor),
      options_(options) {}

absl::StatusOr<std::unique_ptr<RuntimeBooks>> RuntimeBooks::Open(
    const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
    BooksOptions options) {
  const absl::StatusOr<BooksLayout>& layout = binary.books_layout();
  if (!layout.ok()) {
    return absl::FailedPreconditionError(layout.status().message());
  }
  const std::optional<int> minor =
      GoMinorVersion(binary.build_info().go_version);
  if (!minor.has_value() || *minor < 18) {
    return absl::FailedPreconditionError(
        absl::StrCat("Go version ", binary.build_info().go_version,
                     ": the books are read for go1.18 and later"));
  }
  absl::StatusOr<BooksGlobals> globals =
      FindBooksGlobals(binary, memory, load_bias, *layout, options.finder);
  if (!globals.ok()) return globals.status();
  auto books = std::unique_ptr<RuntimeBooks>(
      new RuntimeBooks(*layout, *globals, *minor, options));
  // Series without their globals never get a value.
  auto need = [&](BooksSeries s, const BooksGlobal& g, const char* name) {
    if (!g.found() && !books->disabled_.contains(s)) {
      books->disabled_[s] = {"not_found", absl::StrCat(name, ": ", g.how)};
    }
  };
  const BooksGlobals& g = *globals;
  need(BooksSeries::kGcCycles, g.memstats, "runtime.memstats");
  need(BooksSeries::kGcPauseRing, g.memstats, "runtime.memstats");
  for (BooksSeries s : {BooksSeries::kHeapGoal, BooksSeries::kHeapLive,
                        BooksSeries::kGogc, BooksSeries::kMemoryLimit}) {
    need(s, g.gc_controller, "runtime.gcController");
  }
  need(BooksSeries::kGcPauses, *minor <= 21 ? g.memstats : g.sched,
       *minor <= 21 ? "runtime.memstats" : "runtime.sched");
  for (BooksSeries s :
       {BooksSeries::kSchedLatencies, BooksSeries::kStwStoppingGc,
        BooksSeries::kStwStoppingOther, BooksSeries::kStwTotalGc,
        BooksSeries::kStwTotalOther, BooksSeries::kMutexWait,
        BooksSeries::kThreads}) {
    need(s, g.sched, "runtime.sched");
  }
  if (*minor >= 22) need(BooksSeries::kMutexWait, g.allm, "runtime.allm");
  need(BooksSeries::kGomaxprocs, g.gomaxprocs, "runtime.gomaxprocs");
  need(BooksSeries::kCgoCalls, g.ncgocall, "runtime.ncgocall");
  need(BooksSeries::kCgoCalls, g.allm, "runtime.allm");
  if (*minor >= 26) {
    need(BooksSeries::kThreads, g.extra_m_in_use, "runtime.extraMInUse");
    need(BooksSeries::kThreads, g.extra_m_length, "runtime.extraMLength");
  }
  return books;
}

absl::StatusOr<BooksSnapshot> RuntimeBooks::Read(const MemorySource& memory) {
  BooksSnapshot snap;
  snap.go_minor = minor_;
  bool gone = false;

  // Stores `value` into `field` unless the series is disabled; disables it
  // on an implausible value (DATA_LOSS) or an unreadable address
  // (OUT_OF_RANGE, PERMISSION_DENIED's cousins).
  auto fill = [&](BooksSeries s, auto* field, auto value) {
    if (auto it = disabled_.find(s); it != disabled_.end()) {
      *field = absl::FailedPreconditionError(absl::StrCat(
          "disabled (", it->second.reason, "): ", it->second.message));
      return;
    }
    if (!value.ok()) {
      const absl::Status& st = value.status();
      if (absl::IsNotFound(st)) {
        gone = true;
      } else if (absl::IsDataLoss(st)) {
        disabled_[s] = {absl::StrContains(st.message(), "decreased")
                            ? "not_monotonic"
                            : "implausible",
                        std::string(st.message())};
      } else if (absl::IsOutOfRange(st) || absl::IsFailedPrecondition(st)) {
        disabled_[s] = {"unreadable", std::string(st.message())};
      }
    }
    *field = std::move(value);
  };
  auto lacks = [&](const char* what) {
    return absl::UnimplementedError(
        absl::StrCat("go1.", minor_, " has no ", what));
  };

  // The three structs, each in one read. memstats is read again when numgc
  // moved meanwhile (a GC ended: the ring and numgc may be out of step).
  absl::StatusOr<StructCopy> sched = CopyStruct(
      memory, globals_.sched.addr, layout_.sched_size, "runtime.sched");
  absl::StatusOr<StructCopy> mstats =
      absl::UnavailableError("memstats changed during every read");
  for (int i = 0; i < kRetries; ++i) {
    absl::StatusOr<StructCopy> c =
        CopyStruct(memory, globals_.memstats.addr, layout_.mstats_size,
                   "runtime.memstats");
    if (!c.ok()) {
      mstats = c.status();
      break;
    }
    absl::StatusOr<uint32_t> again =
        ReadU32(memory, globals_.memstats.addr + layout_.mstats_numgc);
    if (!again.ok()) {
      mstats = again.status();
      break;
    }
    if (*again == c->U32(layout_.mstats_numgc)) {
      mstats = *std::move(c);
      break;
    }
  }
  auto gc_copy = [&] {
    return CopyStruct(memory, globals_.gc_controller.addr, layout_.gc_size,
                      "runtime.gcController");
  };
  absl::StatusOr<StructCopy> gc = gc_copy();
  for (const auto* c : {&sched, &mstats, &gc}) {
    if (absl::IsNotFound(c->status())) return c->status();
  }

  // Histograms: a count never decreases in the runtime.
  auto histogram = [&](BooksSeries s, const absl::StatusOr<StructCopy>& from,
                       int32_t off,
                       const char* what) -> absl::StatusOr<BooksHistogram> {
    if (off < 0) return lacks(what);
    if (!from.ok()) return from.status();
    const int size = TimeHistogramSize(layout_);
    if (!from->has(off, size)) return Implausible("histogram out of struct");
    absl::StatusOr<std::vector<uint64_t>> counts =
        TimeHistogramCounts(from->View(off, size), layout_);
    if (!counts.ok()) {
      return absl::FailedPreconditionError(counts.status().message());
    }
    BooksHistogram h;
    h.boundaries = &TimeHistogramBoundaries(minor_);
    if (h.boundaries->size() != counts->size() + 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          counts->size(), " counts for ", h.boundaries->size(), " boundaries"));
    }
    std::vector<uint64_t>& last = last_counts_[s];
    if (last.size() == counts->size()) {
      for (size_t i = 0; i < last.size(); ++i) {
        if ((*counts)[i] < last[i]) {
          return Implausible(absl::StrCat("bucket ", i, " decreased from ",
                                          last[i], " to ", (*counts)[i]));
        }
      }
    }
    last = *counts;
    h.counts = *std::move(counts);
    return h;
  };

  // GC cycles and the pause ring.
  const bool mstats_ok = mstats.ok();
  const uint32_t numgc = mstats_ok ? mstats->U32(layout_.mstats_numgc) : 0;
  {
    absl::StatusOr<uint64_t> cycles = Pending(mstats.status());
    absl::StatusOr<uint64_t> forced = Pending(mstats.status());
    if (mstats_ok) {
      const uint32_t f = mstats->U32(layout_.mstats_numforcedgc);
      if (f > numgc) {
        cycles = forced =
            Implausible(absl::StrCat("numforcedgc ", f, " > numgc ", numgc));
      } else if (have_numgc_ && numgc < last_numgc_) {
        cycles = forced = Implausible(
            absl::StrCat("numgc decreased from ", last_numgc_, " to ", numgc));
      } else {
        cycles = numgc;
        forced = f;
      }
    }
    fill(BooksSeries::kGcCycles, &snap.gc_cycles, cycles);
    if (!snap.gc_cycles.ok()) {
      snap.gc_forced_cycles = snap.gc_cycles.status();
    } else {
      snap.gc_forced_cycles = forced;
    }
  }
  {
    absl::StatusOr<PauseRing> ring = Pending(mstats.status());
    if (mstats_ok && snap.gc_cycles.ok()) {
      PauseRing r;
      uint64_t from = numgc > 256 ? numgc - 256 : 0;
      if (have_numgc_ && numgc - last_numgc_ <= 256) {
        from = last_numgc_;
      } else if (have_numgc_) {
        r.lost = numgc - last_numgc_ - 256;
      }
      for (uint64_t c = from + 1; c <= numgc; ++c) {
        const int32_t idx = static_cast<int32_t>(8 * ((c - 1) % 256));
        r.pauses.push_back(
            GcPause{static_cast<uint32_t>(c),
                    mstats->U64(layout_.mstats_pause_ns + idx),
                    mstats->U64(layout_.mstats_pause_end + idx)});
      }
      r.pause_total_ns = mstats->U64(layout_.mstats_pause_total_ns);
      ring = std::move(r);
    } else if (!snap.gc_cycles.ok()) {
      ring = snap.gc_cycles.status();
    }
    fill(BooksSeries::kGcPauseRing, &snap.pause_ring, std::move(ring));
    if (snap.pause_ring.ok()) {
      have_numgc_ = true;
      last_numgc_ = numgc;
    }
  }

  // The GC controller's scalars.
  {
    absl::StatusOr<uint64_t> goal = Pending(gc.status());
    if (gc.ok() && minor_ == 18) {
      goal = gc->U64(layout_.gc_heap_goal);
    } else if (gc.ok()) {
      // heapGoalInternal(); memoryLimitHeapGoal() loops until the three
      // sizes are consistent, and so do we (boundedly).
      StructCopy c = *gc;
      bool consistent = false;
      for (int i = 0; i < kRetries; ++i) {
        const uint64_t alloc =
            c.U64(layout_.gc_total_alloc) - c.U64(layout_.gc_total_free);
        if (c.U64(layout_.gc_heap_free) + alloc <=
            c.U64(layout_.gc_mapped_ready)) {
          consistent = true;
          break;
        }
        absl::StatusOr<StructCopy> again = gc_copy();
        if (!again.ok()) break;
        c = *std::move(again);
      }
      if (!consistent) {
        goal = absl::UnavailableError("heap sizes torn in every read");
      } else {
        const uint64_t heap_free = c.U64(layout_.gc_heap_free);
        const uint64_t heap_alloc =
            c.U64(layout_.gc_total_alloc) - c.U64(layout_.gc_total_free);
        const uint64_t mapped = c.U64(layout_.gc_mapped_ready);
        const uint64_t limit = c.U64(layout_.gc_memory_limit);
        const uint64_t marked = c.U64(layout_.gc_heap_marked);
        const uint64_t non_heap = mapped - heap_free - heap_alloc;
        const uint64_t overage = mapped > limit ? mapped - limit : 0;
        uint64_t limit_goal;
        if (non_heap + overage >= limit) {
          limit_goal = marked;
        } else {
          uint64_t g = limit - (non_heap + overage);
          uint64_t headroom = uint64_t{1} << 20;
          if (minor_ >= 21 && g / 100 * 3 > headroom) headroom = g / 100 * 3;
          g = (g < headroom || g - headroom < headroom) ? headroom
                                                        : g - headroom;
          limit_goal = g < marked ? marked : g;
        }
        uint64_t g = c.U64(layout_.gc_percent_heap_goal);
        if (limit_goal < g) {
          g = limit_goal;
        } else {
          const uint64_t sweep = c.U64(layout_.gc_sweep_dist_min_trigger);
          if (sweep > g) g = sweep;
          const uint64_t triggered = c.U64(layout_.gc_triggered);
          if (triggered != ~uint64_t{0} && g < triggered + (64 << 10)) {
            g = triggered + (64 << 10);
          }
        }
        goal = g;
      }
    }
    fill(BooksSeries::kHeapGoal, &snap.heap_goal, goal);

    absl::StatusOr<uint64_t> live = Pending(gc.status());
    if (gc.ok()) live = gc->U64(layout_.gc_heap_marked);
    fill(BooksSeries::kHeapLive, &snap.heap_live, live);

    absl::StatusOr<int64_t> gogc = Pending(gc.status());
    if (gc.ok()) {
      const int32_t p = static_cast<int32_t>(gc->U32(layout_.gc_percent));
      gogc = p < -1 ? absl::StatusOr<int64_t>(
                          Implausible(absl::StrCat("gcPercent ", p)))
                    : absl::StatusOr<int64_t>(p);
    }
    fill(BooksSeries::kGogc, &snap.gogc, gogc);

    absl::StatusOr<int64_t> limit = Pending(gc.status());
    if (layout_.gc_memory_limit < 0) {
      limit = lacks("memory limit");
    } else if (gc.ok()) {
      const int64_t l = static_cast<int64_t>(gc->U64(layout_.gc_memory_limit));
      limit = l < 0 ? absl::StatusOr<int64_t>(Implausible("negative limit"))
                    : absl::StatusOr<int64_t>(l);
    }
    fill(BooksSeries::kMemoryLimit, &snap.memory_limit, limit);
  }

  // Histograms.
  if (minor_ <= 21) {
    fill(BooksSeries::kGcPauses, &snap.gc_pauses,
         histogram(BooksSeries::kGcPauses, mstats, layout_.mstats_gc_pause_dist,
                   "gcPauseDist"));
  } else {
    fill(BooksSeries::kGcPauses, &snap.gc_pauses,
         histogram(BooksSeries::kGcPauses, sched,
                   layout_.sched_stw_total_time_gc, "stwTotalTimeGC"));
  }
  fill(BooksSeries::kSchedLatencies, &snap.sched_latencies,
       histogram(BooksSeries::kSchedLatencies, sched, layout_.sched_time_to_run,
                 "timeToRun"));
  fill(BooksSeries::kStwStoppingGc, &snap.stw_stopping_gc,
       histogram(BooksSeries::kStwStoppingGc, sched,
                 layout_.sched_stw_stopping_time_gc, "/sched/pauses"));
  fill(BooksSeries::kStwStoppingOther, &snap.stw_stopping_other,
       histogram(BooksSeries::kStwStoppingOther, sched,
                 layout_.sched_stw_stopping_time_other, "/sched/pauses"));
  fill(BooksSeries::kStwTotalGc, &snap.stw_total_gc,
       histogram(BooksSeries::kStwTotalGc, sched,
                 layout_.sched_stw_total_time_gc, "/sched/pauses"));
  fill(BooksSeries::kStwTotalOther, &snap.stw_total_other,
       histogram(BooksSeries::kStwTotalOther, sched,
                 layout_.sched_stw_total_time_other, "/sched/pauses"));

  // The M list: per-M cgo calls and runtime lock wait.
  struct MSums {
    uint64_t cgo = 0;
    int64_t lock_wait = 0;
  };
  auto walk_allm = [&]() -> absl::StatusOr<MSums> {
    if (!globals_.allm.found()) {
      return absl::FailedPreconditionError("runtime.allm not found");
    }
    absl::StatusOr<uint64_t> first = memory.ReadU64(globals_.allm.addr);
    if (!first.ok()) return first.status();
    const bool lock_wait =
        layout_.m_lock_profile >= 0 && layout_.lock_profile_wait_time >= 0;
    const int32_t wait_off =
        lock_wait ? layout_.m_lock_profile + layout_.lock_profile_wait_time
                  : -1;
    int32_t lo = std::min(layout_.m_ncgocall, layout_.m_alllink);
    int32_t hi = std::max(layout_.m_ncgocall, layout_.m_alllink) + 8;
    if (lock_wait) {
      lo = std::min(lo, wait_off);
      hi = std::max(hi, wait_off + 8);
    }
    if (lo < 0 || hi - lo > kMaxStructBytes) {
      return absl::FailedPreconditionError("no usable runtime.m layout");
    }
    MSums sums;
    absl::flat_hash_set<uint64_t> seen;
    for (uint64_t m = *first; m != 0;) {
      if (m % 8 != 0 || !seen.insert(m).second ||
          static_cast<int>(seen.size()) > options_.max_ms) {
        return Implausible("allm is not a bounded list of Ms");
      }
      absl::StatusOr<std::string> b = memory.ReadAt(m + lo, hi - lo);
      if (!b.ok()) {
        if (absl::IsNotFound(b.status())) return b.status();
        // An M freed (and its memory reused) under our walk: try again.
        return absl::UnavailableError("allm changed during the walk");
      }
      StructCopy c(*std::move(b));
      sums.cgo += c.U64(layout_.m_ncgocall - lo);
      if (lock_wait) {
        sums.lock_wait += static_cast<int64_t>(c.U64(wait_off - lo));
      }
      m = c.U64(layout_.m_alllink - lo);
    }
    return sums;
  };
  absl::StatusOr<MSums> msums = absl::UnavailableError("allm not walked");
  for (int i = 0; i < kRetries; ++i) {
    msums = walk_allm();
    if (!absl::IsUnavailable(msums.status())) break;
  }
  {
    absl::StatusOr<uint64_t> cgo = Pending(msums.status());
    if (msums.ok()) {
      absl::StatusOr<uint64_t> dead = memory.ReadU64(globals_.ncgocall.addr);
      cgo = dead.ok() ? absl::StatusOr<uint64_t>(*dead + msums->cgo)
                      : dead.status();
    }
    fill(BooksSeries::kCgoCalls, &snap.cgo_calls, cgo);
  }
  {
    // 1.20/1.21: sync.Mutex waits; 1.22+: plus runtime locks, those of
    // exited Ms (folded into sched) and those of live Ms.
    absl::StatusOr<int64_t> wait = Pending(sched.status());
    const bool runtime_locks = layout_.sched_total_runtime_lock_wait_time >= 0;
    if (layout_.sched_total_mutex_wait_time < 0) {
      wait = lacks("/sync/mutex/wait/total");
    } else if (sched.ok() && runtime_locks && !msums.ok()) {
      wait = msums.status();
    } else if (sched.ok()) {
      int64_t ns =
          static_cast<int64_t>(sched->U64(layout_.sched_total_mutex_wait_time));
      if (runtime_locks) {
        ns += static_cast<int64_t>(
                  sched->U64(layout_.sched_total_runtime_lock_wait_time)) +
              msums->lock_wait;
      }
      wait = ns < 0 ? absl::StatusOr<int64_t>(Implausible("negative wait"))
                    : absl::StatusOr<int64_t>(ns);
    }
    fill(BooksSeries::kMutexWait, &snap.mutex_wait_ns, wait);
  }

  // GOMAXPROCS within 1..len(allp).
  {
    absl::StatusOr<int64_t> procs =
        absl::FailedPreconditionError("runtime.gomaxprocs not found");
    if (globals_.gomaxprocs.found()) {
      for (int i = 0; i < 2; ++i) {
        absl::StatusOr<uint32_t> v = ReadU32(memory, globals_.gomaxprocs.addr);
        if (!v.ok()) {
          procs = v.status();
          break;
        }
        uint64_t max = 1u << 20;
        if (globals_.allp.found()) {
          absl::StatusOr<uint64_t> len = memory.ReadU64(globals_.allp.addr + 8);
          if (!len.ok()) {
            procs = len.status();
            break;
          }
          max = *len;
        }
        const int32_t n = static_cast<int32_t>(*v);
        if (n >= 1 && static_cast<uint64_t>(n) <= max) {
          procs = n;
          break;
        }
        // procresize moves allp and gomaxprocs one after the other.
        procs =
            Implausible(absl::StrCat("gomaxprocs ", n, " outside 1..", max));
      }
    }
    fill(BooksSeries::kGomaxprocs, &snap.gomaxprocs, procs);
  }

  // Threads (1.26+): mcount() - extraMInUse - extraMLength.
  {
    absl::StatusOr<int64_t> threads = Pending(sched.status());
    if (minor_ < 26) {
      threads = lacks("/sched/threads/total");
    } else if (sched.ok()) {
      absl::StatusOr<uint32_t> in_use =
          ReadU32(memory, globals_.extra_m_in_use.addr);
      absl::StatusOr<uint32_t> length =
          ReadU32(memory, globals_.extra_m_length.addr);
      if (!in_use.ok()) {
        threads = in_use.status();
      } else if (!length.ok()) {
        threads = length.status();
      } else {
        const int32_t mcount =
            static_cast<int32_t>(sched->U64(layout_.sched_mnext) -
                                 sched->U64(layout_.sched_nmfreed));
        const int64_t n = int64_t{mcount} - *in_use - *length;
        // Read apart, the three can be out of step for a moment.
        threads = n < 0 || n > 1'000'000
                      ? absl::StatusOr<int64_t>(
                            absl::UnavailableError("thread counts torn"))
                      : absl::StatusOr<int64_t>(n);
      }
    }
    fill(BooksSeries::kThreads, &snap.threads, threads);
  }

  if (gone) return absl::NotFoundError("process gone");
  return snap;
}

}  // namespace gspy
