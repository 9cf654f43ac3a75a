// The profile types continuous mode pushes (--push-profiles), and the names
// each backend knows them by. Both backends name a series' profile type
// NAME:SAMPLE_TYPE:SAMPLE_UNIT:PERIOD_TYPE:PERIOD_UNIT, NAME from the
// series' __name__ label and the rest from the pprof (one type per sample
// type); Parca appends ":delta" when the pprof's duration_nanos > 0
// (parca-dev/parca pkg/parcacol/querier.go, ProfileTypes). What gspy sends:
//
//   type   Pyroscope                                  Parca
//   cpu    process_cpu:cpu:nanoseconds:cpu:nanoseconds process_cpu:...:delta
//   block  block:delay:nanoseconds:contentions:count  the same + :delta
//          block:contentions:count:contentions:count
//   wall   wall:wall:nanoseconds:wall:nanoseconds     wall:time:nanoseconds:
//          wall:samples:count:wall:nanoseconds wallclock:nanoseconds:delta
//                                                     wall:samples:count:
//                                                       wallclock:nanoseconds:delta
//   heap   memory:{alloc,inuse}_{objects,space}:      memory:alloc_*:...:space:
//            {count,bytes}:space:bytes                  bytes:delta (a window)
//                                                     memory:inuse_*:...:space:bytes
//   goroutine goroutines:goroutine:count: goroutine:goroutine:count:
//            goroutine:count                            goroutine:count (a
//            moment)
//
// Sources: Pyroscope's list of Go profile types (grafana/pyroscope
// pkg/model, Test_ParseProfileTypeSelector_ValidProfileTypes, copied from
// grafana/profiles-drilldown's profile-metrics.json) for process_cpu, block
// and memory; its wall type is the one its Java, .NET and Node.js SDKs push
// (wall:wall:nanoseconds:wall:nanoseconds, e.g. pkg/ingester/pyroscope
// JFR tests). Parca's well-known types (parca-dev/parca ui
// ProfileTypeSelector.tsx): block:*:contentions:count,
// memory:alloc_*:space:bytes:delta, memory:inuse_*:space:bytes, and for Go
// wall-clock time fgprof's sample and period types (samples:count,
// time:nanoseconds over wallclock:nanoseconds, delta). Goroutines: the
// name Pyroscope's Go SDK (grafana/pyroscope-go) pushes them by,
// "goroutines", and the one Parca scrapes /debug/pprof/goroutine as,
// "goroutine" (parca-dev/parca ui's goroutine:goroutine:count:goroutine:
// count, "Goroutines").
#ifndef GSPY_DAEMON_EXPORT_PUSH_PUSH_TYPES_H_
#define GSPY_DAEMON_EXPORT_PUSH_PUSH_TYPES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {

struct PushTypes {
  bool cpu = false;
  bool block = false;  // sampled waiting time (zero traps)
  bool wall = false;   // CPU + sampled waiting and runnable time
  bool heap = false;   // the runtime's heap buckets (zero traps)
  // The goroutines at each cut, one sample per stack and label set, read
  // from outside (zero traps).
  bool goroutine = false;
  bool sampled() const { return block || wall; }
  // "cpu,block,wall,heap,goroutine"
  std::string ToString() const;
};

// --push-profiles: names from cpu, block, wall, heap, goroutine (and
// "all").
absl::StatusOr<PushTypes> ParsePushTypes(const std::vector<std::string>& names);

// The series names (__name__), one place for each.
inline constexpr char kCpuProfileName[] = "process_cpu";
inline constexpr char kBlockProfileName[] = "block";
inline constexpr char kWallProfileName[] = "wall";
inline constexpr char kHeapProfileName[] = "memory";
inline constexpr char kPyroscopeGoroutineProfileName[] = "goroutines";
inline constexpr char kParcaGoroutineProfileName[] = "goroutine";

// A wall profile (MergeWallParts) renamed to Parca's convention for Go
// wall-clock time (fgprof's): samples/count and time/nanoseconds over
// wallclock/nanoseconds.
void RenameWallForParca(perftools::profiles::Profile* profile);

// Keeps the sample types named in `keep` (and their values), in order.
// For Parca, which tells delta profiles by duration_nanos: the heap's
// alloc_* (a window) and inuse_* (a moment) go as two profiles.
void KeepSampleTypes(perftools::profiles::Profile* profile,
                     const std::vector<std::string>& keep);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_PUSH_TYPES_H_
