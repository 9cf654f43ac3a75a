// `gspy goroutines`: a goroutine dump from gspyd (--pid, --exe, pods), or read
// straight from a core file (--core=F --exe=F, no daemon). Printed like Go's
// debug=2 traceback, or written as a pprof goroutine profile.
#ifndef GSPY_CLI_GOROUTINES_COMMAND_H_
#define GSPY_CLI_GOROUTINES_COMMAND_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "golang/goroutines/goroutines_stream.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

// With --watch=DURATION, LeakWatchCommand (cli/leak_watch_command.h).
int GoroutinesCommand(gspy::v1::Profiler::Stub& stub, const CommandLine& cl);

// The GetGoroutines request the selector flags (--pid, --exe, --pod,
// --namespace, --selector), --filter and --system ask for.
absl::StatusOr<gspy::v1::GetGoroutinesRequest> GoroutinesRequestFromFlags(
    const CommandLine& cl);

// GetGoroutines' stream, read whole and joined; an RPC error with its code.
absl::StatusOr<GoroutinesDumps> ReadGoroutines(
    gspy::v1::Profiler::Stub& stub,
    const gspy::v1::GetGoroutinesRequest& request, absl::Duration deadline);

// The dump in Go's debug=2 format: "goroutine N [status, M minutes]:", the
// frames with file:line and pc offset, "created by F in goroutine P".
std::string FormatGoroutinesText(const gspy::v1::ProcessGoroutines& p);

// The same text, handed to `write` in pieces of about 1 MiB as it is made.
// Goroutines that share a label set get it once from gspyd but print it
// each, so the text can be many times the dump's size (1200 goroutines of a
// 256 KiB label set: 300 MB): written as it goes, it is never held whole.
void WriteGoroutinesText(const gspy::v1::ProcessGoroutines& p,
                         absl::FunctionRef<void(std::string_view)> write);

}  // namespace gspy

#endif  // GSPY_CLI_GOROUTINES_COMMAND_H_
