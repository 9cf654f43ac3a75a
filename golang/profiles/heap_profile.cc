#include "golang/profiles/heap_profile.h"

#include <cmath>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "golang/binary/go_version.h"
#include "golang/profiles/stack_locations.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

// Go's int64 arithmetic wraps; hostile counts must not be undefined
// behaviour here.
int64_t Sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
int64_t Mul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}
// float64 -> int64, saturating (Go's conversion of an out-of-range value
// is implementation-defined; real profiles never get near it).
int64_t ToInt64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return static_cast<int64_t>(v);
}

}  // namespace

std::vector<HeapRecord> PublishedHeapRecords(const BucketList& list,
                                             uint32_t cycle) {
  // mProf_FlushLocked(cycle % 3): a flush between mProf_NextCycle and
  // mProf_Flush publishes future[cycle % 3] (zero once flushed).
  const size_t index = cycle % 3;
  std::vector<MemCycle> active(list.buckets.size());
  bool clear = true;
  for (size_t i = 0; i < list.buckets.size(); ++i) {
    active[i] = list.buckets[i].active;
    active[i].Add(list.buckets[i].future[index]);
    if (active[i].allocs != 0 || active[i].frees != 0) clear = false;
  }
  if (clear) {
    // No GC yet: the runtime adds up every cycle.
    for (size_t i = 0; i < list.buckets.size(); ++i) {
      for (size_t c = 0; c < 3; ++c) {
        if (c != index) active[i].Add(list.buckets[i].future[c]);
      }
    }
  }
  std::vector<HeapRecord> out;
  out.reserve(list.buckets.size());
  for (size_t i = 0; i < list.buckets.size(); ++i) {
    HeapRecord r;
    r.stack = list.buckets[i].stack;
    r.size = list.buckets[i].size;
    r.alloc_objects = static_cast<int64_t>(active[i].allocs);
    r.alloc_bytes = static_cast<int64_t>(active[i].alloc_bytes);
    r.free_objects = static_cast<int64_t>(active[i].frees);
    r.free_bytes = static_cast<int64_t>(active[i].free_bytes);
    out.push_back(std::move(r));
  }
  return out;
}

HeapSnapshot HeapDelta(const HeapSnapshot& before, const HeapSnapshot& after) {
  using Key = std::pair<std::vector<uint64_t>, uint64_t>;
  std::map<Key, const HeapRecord*> old;
  for (const HeapRecord& r : before.records) old[{r.stack, r.size}] = &r;
  HeapSnapshot out = after;
  out.records.clear();
  for (const HeapRecord& r : after.records) {
    HeapRecord d = r;
    if (auto it = old.find({r.stack, r.size}); it != old.end()) {
      d.alloc_objects = Sub(d.alloc_objects, it->second->alloc_objects);
      d.alloc_bytes = Sub(d.alloc_bytes, it->second->alloc_bytes);
      // In use stays as it is: free_* such that alloc - free is in use.
      d.free_objects =
          Sub(d.alloc_objects, Sub(r.alloc_objects, r.free_objects));
      d.free_bytes = Sub(d.alloc_bytes, Sub(r.alloc_bytes, r.free_bytes));
    }
    if (d.alloc_objects == 0 && r.alloc_objects == r.free_objects) continue;
    out.records.push_back(std::move(d));
  }
  return out;
}

namespace {

absl::StatusOr<uint64_t> ReadU32(const MemorySource& m, uint64_t addr) {
  uint32_t v;
  absl::Status st =
      m.Read(addr, absl::MakeSpan(reinterpret_cast<char*>(&v), 4));
  if (!st.ok()) return st;
  return v;
}

absl::StatusOr<int64_t> ReadRate(const MemorySource& memory,
                                 const ProfileGlobals& g) {
  absl::StatusOr<uint64_t> rate = memory.ReadU64(g.mem_profile_rate.addr);
  if (!rate.ok()) return rate.status();
  return static_cast<int64_t>(*rate);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HeapReader>> HeapReader::Open(
    const GoBinary& binary, const MemorySource& memory, uint64_t load_bias,
    HeapReaderOptions options) {
  absl::StatusOr<ProfileGlobals> g =
      FindProfileGlobals(binary, memory, load_bias, options.use_symtab);
  if (!g.ok()) return g.status();
  if (!g->memory_profiler_linked) {
    return absl::FailedPreconditionError(
        "heap profile unavailable: the program does not link Go's memory "
        "profiler (nothing in it references runtime.MemProfile, so the "
        "linker set runtime.disableMemoryProfiling and the runtime records "
        "no allocation); import runtime/pprof or net/http/pprof (even as "
        "`import _ \"net/http/pprof\"`) and rebuild");
  }
  if (!g->mem_profile_rate.found()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "heap profile unavailable: runtime.MemProfileRate not found: ",
        g->mem_profile_rate.how));
  }
  absl::StatusOr<int64_t> rate = ReadRate(memory, *g);
  if (!rate.ok()) return rate.status();
  if (*rate <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "heap profile unavailable: runtime.MemProfileRate is ", *rate,
        " in this process (the program set it, or GODEBUG=memprofilerate=0), "
        "so the runtime records no allocation; leave it at its default "
        "(512 KiB) or set it >0 at the start of main"));
  }
  if (!g->mbuckets.found()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "heap profile unavailable: runtime.mbuckets not found (no sampled "
        "allocation yet? retry later): ",
        g->mbuckets.how));
  }
  if (!g->cycle.found()) {
    return absl::FailedPreconditionError(
        absl::StrCat("heap profile unavailable: the heap profile cycle "
                     "(runtime.mProfCycle) not found: ",
                     g->cycle.how));
  }
  const int minor = GoMinorVersion(binary.build_info().go_version).value_or(0);
  options.limits.mem_cycle_words = minor >= 27 ? 2 : 4;
  return std::unique_ptr<HeapReader>(
      new HeapReader(*std::move(g), minor, options));
}

absl::StatusOr<HeapSnapshot> HeapReader::Read(
    const MemorySource& memory) const {
  HeapSnapshot snap;
  snap.go_minor = minor_;
  snap.time = absl::Now();
  absl::StatusOr<int64_t> rate = ReadRate(memory, globals_);
  if (!rate.ok()) return rate.status();
  snap.rate = *rate;
  // The cycle before and after the walk: a GC that publishes a cycle during
  // the walk would mix two views, so read again.
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<uint64_t> c0 = ReadU32(memory, globals_.cycle.addr);
    if (!c0.ok()) return c0.status();
    absl::StatusOr<BucketList> list = ReadBucketList(
        memory, globals_.mbuckets.addr, BucketType::kMemory, options_.limits);
    if (!list.ok()) return list.status();
    absl::StatusOr<uint64_t> c1 = ReadU32(memory, globals_.cycle.addr);
    if (!c1.ok()) return c1.status();
    if (*c0 != *c1 && attempt < 3) continue;
    const uint32_t cycle =
        static_cast<uint32_t>(globals_.cycle_shifted ? *c1 >> 1 : *c1);
    snap.records = PublishedHeapRecords(*list, cycle);
    snap.torn_records = list->torn_records;
    snap.bad_headers = list->bad_headers;
    return snap;
  }
}

absl::Status HeapProfileAvailable(const GoBinary& binary,
                                  const MemorySource& memory,
                                  uint64_t load_bias) {
  absl::StatusOr<std::unique_ptr<HeapReader>> r =
      HeapReader::Open(binary, memory, load_bias);
  return r.status();
}

const char* HeapUnavailableReason(const absl::Status& status) {
  if (status.ok()) return "";
  if (absl::IsNotFound(status)) return "process_gone";
  // HeapReader::Open's messages, above.
  if (absl::StrContains(status.message(), "does not link Go's memory")) {
    return "no_memory_profiler";
  }
  if (absl::StrContains(status.message(), "MemProfileRate is")) {
    return "memprofilerate_zero";
  }
  return "globals_not_found";
}

std::pair<int64_t, int64_t> ScaleHeapSample(int minor, int64_t count,
                                            int64_t bytes, int64_t size,
                                            int64_t rate) {
  if (minor >= 27) {
    // scaleHeapSample(count, avgSize = ObjectSize, rate).
    if (count == 0 || size == 0) return {0, 0};
    if (rate <= 1) return {count, Mul(count, size)};
    const double scale =
        1 /
        (1 - std::exp(-static_cast<double>(size) / static_cast<double>(rate)));
    return {ToInt64(static_cast<double>(count) * scale),
            ToInt64(static_cast<double>(Mul(count, size)) * scale)};
  }
  if (count == 0 || bytes == 0) return {0, 0};
  if (rate <= 1) return {count, bytes};
  const double avg = static_cast<double>(bytes) / static_cast<double>(count);
  const double scale = 1 / (1 - std::exp(-avg / static_cast<double>(rate)));
  return {ToInt64(static_cast<double>(count) * scale),
          ToInt64(static_cast<double>(bytes) * scale)};
}

std::string HeapPprof(const GoProcess& proc, const HeapSnapshot& snap,
                      absl::Duration delta_window,
                      const BucketPprofOptions& options) {
  ProfileBuilder b({{"alloc_objects", "count"},
                    {"alloc_space", "bytes"},
                    {"inuse_objects", "count"},
                    {"inuse_space", "bytes"}},
                   {"space", "bytes"}, snap.rate);
  b.SetTime(snap.time - delta_window, delta_window);
  b.AddComment(absl::StrCat(
      "gspy heap profile of pid ", proc.pid, " (",
      proc.binary->build_info().go_version,
      "), read from the runtime's profile buckets; values scaled as "
      "runtime/pprof does (one sample per MemProfileRate=",
      snap.rate, " bytes on average)"));
  if (delta_window > absl::ZeroDuration()) {
    b.AddComment(absl::StrCat("alloc_* are the allocations of the last ",
                              absl::FormatDuration(delta_window),
                              "; inuse_* are at the end of the window"));
  }
  if (snap.torn_records + snap.bad_headers > 0) {
    b.AddComment(absl::StrCat("dropped buckets: ", snap.torn_records,
                              " torn records, ", snap.bad_headers,
                              " implausible headers"));
  }
  const uint64_t mapping = AddExecutableMapping(proc, &b);
  StackLocator locator(proc, &b, mapping);
  SampleOptions sample_options(proc, options);
  for (const HeapRecord& r : snap.records) {
    if (!sample_options.Keep(r.stack, static_cast<double>(r.alloc_objects))) {
      continue;
    }
    std::vector<uint64_t> locs = locator.HeapLocations(r.stack, snap.go_minor);
    const int64_t size = static_cast<int64_t>(r.size);
    auto [ao, ab] = ScaleHeapSample(snap.go_minor, r.alloc_objects,
                                    r.alloc_bytes, size, snap.rate);
    auto [io, ib] =
        ScaleHeapSample(snap.go_minor, Sub(r.alloc_objects, r.free_objects),
                        Sub(r.alloc_bytes, r.free_bytes), size, snap.rate);
    std::vector<SampleLabel> labels;
    int64_t block = 0;
    if (snap.go_minor >= 27) {
      block = size;
    } else if (r.alloc_objects > 0) {
      block = r.alloc_bytes / r.alloc_objects;
    }
    if (block != 0) {
      labels.push_back(
          SampleLabel{.key = "bytes", .num = block, .is_num = true});
    }
    sample_options.AppendLabels(&labels);
    b.AddSample(locs, {ao, ab, io, ib}, labels);
  }
  sample_options.Report("sampled allocations", &b);
  return b.SerializeGzip();
}

}  // namespace gspy
