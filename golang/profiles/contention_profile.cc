#include "golang/profiles/contention_profile.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "golang/binary/go_version.h"
#include "golang/profiles/stack_locations.h"
#include "profile/pprof/profile_builder.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace gspy {
namespace {

// float64 -> int64 as Go converts in-range values; saturating outside
// (Go leaves that implementation-defined; hostile counts must not be
// undefined behaviour here).
int64_t ToInt64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return static_cast<int64_t>(v);
}

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The target's cputicks() rate, measured here as the runtime would: its
// cputicks is the TSC (amd64), shared by every process. 0 elsewhere.
int64_t MeasureTicksPerSecond() {
#if defined(__x86_64__)
  const int64_t t0 = MonotonicNanos();
  const uint64_t c0 = __rdtsc();
  absl::SleepFor(absl::Milliseconds(20));
  const int64_t t1 = MonotonicNanos();
  const uint64_t c1 = __rdtsc();
  if (t1 <= t0 || c1 <= c0) return 0;
  return ToInt64(static_cast<double>(c1 - c0) * 1e9 /
                 static_cast<double>(t1 - t0));
#else
  return 0;
#endif
}

}  // namespace

const char* ContentionKindName(ContentionKind kind) {
  return kind == ContentionKind::kMutex ? "mutex" : "block";
}

absl::StatusOr<std::unique_ptr<ContentionReader>> ContentionReader::Open(
    const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
    ContentionKind kind, ContentionReaderOptions options) {
  absl::StatusOr<ProfileGlobals> g =
      FindProfileGlobals(binary, memory, load_bias, options.use_symtab);
  if (!g.ok()) return g.status();
  const bool mutex = kind == ContentionKind::kMutex;
  const char* name = ContentionKindName(kind);
  const BooksGlobal& list = mutex ? g->xbuckets : g->bbuckets;
  const bool nil = mutex ? g->xbuckets_nil : g->bbuckets_nil;
  const BooksGlobal& rate =
      mutex ? g->mutex_profile_rate : g->block_profile_rate;
  if (!rate.found()) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, " profile unavailable: ",
        mutex ? "runtime.mutexprofilerate" : "runtime.blockprofilerate",
        " not found (the program may never call ",
        mutex ? "runtime.SetMutexProfileFraction"
              : "runtime.SetBlockProfileRate",
        ", so the profile is off): ", rate.how));
  }
  if (!list.found() && !nil) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " profile unavailable: ",
                     mutex ? "runtime.xbuckets" : "runtime.bbuckets",
                     " not found: ", list.how));
  }
  const int minor = GoMinorVersion(binary.build_info().go_version).value_or(0);
  return std::unique_ptr<ContentionReader>(
      new ContentionReader(*std::move(g), kind, minor, options));
}

absl::StatusOr<ContentionSnapshot> ContentionReader::Read(
    const MemorySource& memory) const {
  const bool mutex = kind_ == ContentionKind::kMutex;
  ContentionSnapshot snap;
  snap.kind = kind_;
  snap.go_minor = minor_;
  snap.time = absl::Now();
  absl::StatusOr<uint64_t> rate = memory.ReadU64(
      (mutex ? globals_.mutex_profile_rate : globals_.block_profile_rate).addr);
  if (!rate.ok()) return rate.status();
  snap.rate = static_cast<int64_t>(*rate);
  const BooksGlobal& head = mutex ? globals_.xbuckets : globals_.bbuckets;
  if (head.found()) {
    absl::StatusOr<BucketList> list = ReadBucketList(
        memory, head.addr, mutex ? BucketType::kMutex : BucketType::kBlock,
        options_.limits);
    if (!list.ok()) return list.status();
    snap.torn_records = list->torn_records;
    snap.bad_headers = list->bad_headers;
    for (RawBucket& b : list->buckets) {
      snap.records.push_back({std::move(b.stack), b.count, b.cycles});
    }
  }
  if (snap.rate == 0 && snap.records.empty()) {
    return absl::FailedPreconditionError(
        mutex ? "mutex profile off: the program has not called "
                "runtime.SetMutexProfileFraction with a rate > 0 "
                "(runtime.mutexprofilerate is 0), so the runtime records no "
                "mutex contention; call runtime.SetMutexProfileFraction(N) in "
                "the program (1 in N contention events recorded, 1: all)"
              : "block profile off: the program has not called "
                "runtime.SetBlockProfileRate with a rate > 0 "
                "(runtime.blockprofilerate is 0), so the runtime records no "
                "blocking event; call runtime.SetBlockProfileRate(NS) in the "
                "program (one event per NS nanoseconds blocked, 1: all)");
  }
  if (globals_.ticks_per_second.found()) {
    absl::StatusOr<uint64_t> t = memory.ReadU64(globals_.ticks_per_second.addr);
    if (!t.ok()) return t.status();
    snap.ticks_per_second = static_cast<int64_t>(*t);
  }
  if (snap.ticks_per_second <= 0 || snap.ticks_per_second > 1'000'000'000'000) {
    snap.ticks_per_second = MeasureTicksPerSecond();
    snap.ticks_measured = true;
    if (snap.ticks_per_second <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(ContentionKindName(kind_),
                       " profile: the process has not measured its CPU tick "
                       "rate yet and gspy cannot on this architecture"));
    }
  }
  // runtime/pprof sorts by cycles, largest first.
  std::stable_sort(snap.records.begin(), snap.records.end(),
                   [](const ContentionRecord& a, const ContentionRecord& b) {
                     return a.cycles > b.cycles;
                   });
  return snap;
}

std::pair<int64_t, int64_t> ContentionValues(ContentionKind kind, int minor,
                                             double count, int64_t cycles,
                                             int64_t ticks_per_second,
                                             int64_t rate) {
  int64_t c = ToInt64(count);
  // blockProfileInternal / BlockProfile: "prevent callers from having to
  // worry about division by zero".
  if (kind == ContentionKind::kBlock && c == 0) c = 1;
  const double ghz = static_cast<double>(ticks_per_second) / 1e9;
  double ns = static_cast<double>(cycles) / ghz;
  if (kind == ContentionKind::kMutex && minor < 20) {
    // scaleMutexProfile: period = SetMutexProfileFraction(-1).
    c = static_cast<int64_t>(static_cast<uint64_t>(c) *
                             static_cast<uint64_t>(rate));
    ns *= static_cast<double>(rate);
  }
  return {c, ToInt64(ns)};
}

ContentionSnapshot ContentionDelta(const ContentionSnapshot& before,
                                   const ContentionSnapshot& after) {
  std::map<std::vector<uint64_t>, const ContentionRecord*> old;
  for (const ContentionRecord& r : before.records) old[r.stack] = &r;
  ContentionSnapshot out = after;
  out.records.clear();
  for (const ContentionRecord& r : after.records) {
    ContentionRecord d = r;
    if (auto it = old.find(r.stack); it != old.end()) {
      d.count -= it->second->count;
      d.cycles =
          static_cast<int64_t>(static_cast<uint64_t>(r.cycles) -
                               static_cast<uint64_t>(it->second->cycles));
    }
    if (d.count == 0 && d.cycles == 0) continue;
    out.records.push_back(std::move(d));
  }
  return out;
}

std::string ContentionPprof(const GoProcess& proc,
                            const ContentionSnapshot& snap,
                            absl::Duration delta_window,
                            const BucketPprofOptions& options) {
  ProfileBuilder b({{"contentions", "count"}, {"delay", "nanoseconds"}},
                   {"contentions", "count"}, 1);
  b.SetTime(snap.time - delta_window, delta_window);
  if (delta_window > absl::ZeroDuration()) {
    b.AddComment(absl::StrCat("the contentions and delay of the last ",
                              absl::FormatDuration(delta_window)));
  }
  const bool mutex = snap.kind == ContentionKind::kMutex;
  b.AddComment(absl::StrCat(
      "gspy ", ContentionKindName(snap.kind), " profile of pid ", proc.pid,
      " (", proc.binary->build_info().go_version,
      "), read from the runtime's profile buckets; ",
      mutex ? "mutex profile fraction " : "block profile rate (CPU ticks) ",
      snap.rate, ", ", snap.ticks_per_second, " CPU ticks/s",
      snap.ticks_measured ? " (measured by gspy: the program had not yet)"
                          : ""));
  if (snap.torn_records + snap.bad_headers > 0) {
    b.AddComment(absl::StrCat("dropped buckets: ", snap.torn_records,
                              " torn records, ", snap.bad_headers,
                              " implausible headers"));
  }
  const uint64_t mapping = AddExecutableMapping(proc, &b);
  StackLocator locator(proc, &b, mapping);
  SampleOptions sample_options(proc, options);
  std::vector<SampleLabel> labels;
  for (const ContentionRecord& r : snap.records) {
    auto [count, ns] =
        ContentionValues(snap.kind, snap.go_minor, r.count, r.cycles,
                         snap.ticks_per_second, snap.rate);
    if (!sample_options.Keep(r.stack, static_cast<double>(count))) continue;
    labels.clear();
    sample_options.AppendLabels(&labels);
    b.AddSample(locator.CountCycleLocations(r.stack, snap.go_minor),
                {count, ns}, labels);
  }
  sample_options.Report("contentions", &b);
  return b.SerializeGzip();
}

}  // namespace gspy
