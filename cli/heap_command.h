// `gspy profile heap --pid=PID -o FILE`: the process's heap profile, read
// here from the Go runtime's own profile buckets (runtime.mbuckets) with
// process_vm_readv, without gspyd and without stopping or probing the
// process (needs CAP_SYS_PTRACE). The pprof equals what the program's own
// /debug/pprof/heap (runtime/pprof.WriteHeapProfile) would write at that
// moment. --delta=10s: the allocations made during the next 10 s instead
// of since the start (in use as at the end).
#ifndef GSPY_CLI_HEAP_COMMAND_H_
#define GSPY_CLI_HEAP_COMMAND_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/command_line.h"

namespace gspy {

// The pprof (gzip-compressed) for the command line. FAILED_PRECONDITION
// when the process keeps no heap profile (the message says why and what
// the owner can do).
absl::StatusOr<std::string> HeapProfileFor(const CommandLine& cl);

}  // namespace gspy

#endif  // GSPY_CLI_HEAP_COMMAND_H_
