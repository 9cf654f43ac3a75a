// GetGoroutines' stream (proto/gspy/v1/profiler.proto): a process's dump cut
// into messages of bounded size, and the messages joined again. gspyd cuts;
// the CLI joins, and cuts its own core-file dumps the same way so that both
// reach the printing through one path.
#ifndef GSPY_GOLANG_GOROUTINES_GOROUTINES_STREAM_H_
#define GSPY_GOLANG_GOROUTINES_GOROUTINES_STREAM_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

// A part's goroutines stop at the first that would take it past this
// (a part has at least one): well under gRPC's default 4 MiB message limit.
inline constexpr size_t kGoroutinesPartBytes = 1 << 20;

// Calls `emit` with each part of `process`, in order: every part has the
// pid and go_version; first come its label sets (shared_label_sets), then
// batches of goroutines; the last (last_part set) has the counts, warnings
// and dump_nanos too. `process` is consumed. Returns false
// as soon as `emit` does (the client went away).
bool EmitProcessParts(
    gspy::v1::ProcessGoroutines process, size_t part_bytes,
    const std::function<bool(const gspy::v1::GetGoroutinesResponse&)>& emit);

// Calls `emit` with `pprof` in pieces of at most `piece_bytes`.
bool EmitPprofPieces(
    const std::string& pprof, size_t piece_bytes,
    const std::function<bool(const gspy::v1::GetGoroutinesResponse&)>& emit);

// The stream joined again.
struct GoroutinesDumps {
  std::vector<gspy::v1::ProcessGoroutines> processes;  // whole, in order
  std::string pprof;
  std::vector<std::string> warnings;

  // Adds one message. INTERNAL when it cannot follow the messages before:
  // a part of another process before the last part of the one begun.
  absl::Status Add(gspy::v1::GetGoroutinesResponse message);
  // INTERNAL when a process's last part is missing (the stream ended early).
  absl::Status Finish() const;

 private:
  bool open_ = false;  // processes.back() awaits more parts
};

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_GOROUTINES_STREAM_H_
