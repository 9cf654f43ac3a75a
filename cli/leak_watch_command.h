// `gspy goroutines --watch=DURATION`: goroutine leak detection. Takes a
// goroutine dump (GetGoroutines) of the selected processes every --interval
// for the watch, feeds them to the LeakDetector
// (golang/goroutines/leak_detector.h) and reports, per process, the
// goroutine groups (creator and stack) that kept growing.
//
// Flags: --watch (required), --interval (default watch/12, at least 1s),
// --min-growth (10), --min-r2 (0.8), --min-snapshots (6), --format=text|json,
// and the selector flags, --filter and --system of `gspy goroutines`.
// Progress goes to stderr. A process that exits mid-watch (or SIGINT) ends
// the watch early with a warning, and what was seen is reported. The exit
// code is 0 whether or not anything grows; 1 when no dump could be taken.
#ifndef GSPY_CLI_LEAK_WATCH_COMMAND_H_
#define GSPY_CLI_LEAK_WATCH_COMMAND_H_

#include "cli/command_line.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

int LeakWatchCommand(gspy::v1::Profiler::Stub& stub, const CommandLine& cl);

}  // namespace gspy

#endif  // GSPY_CLI_LEAK_WATCH_COMMAND_H_
