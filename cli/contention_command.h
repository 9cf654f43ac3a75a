// `gspy profile mutex --pid=PID -o F` and `gspy profile block
// --source=runtime --pid=PID -o F`: the mutex or block profile the program
// keeps itself (runtime.SetMutexProfileFraction / SetBlockProfileRate),
// read here from the Go runtime's own buckets with process_vm_readv,
// without gspyd and without stopping or probing the process (needs
// CAP_SYS_PTRACE). The pprof equals what the program's
// pprof.Lookup("mutex"/"block").WriteTo(w, 0) would write at that moment.
// (`gspy profile block` without --source=runtime is gspyd's eBPF block
// profile, which needs nothing from the program.)
#ifndef GSPY_CLI_CONTENTION_COMMAND_H_
#define GSPY_CLI_CONTENTION_COMMAND_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/command_line.h"
#include "golang/profiles/contention_profile.h"

namespace gspy {

// The pprof (gzip-compressed) for the command line. FAILED_PRECONDITION
// when the program has not turned the profile on (the message says what
// the owner can do).
absl::StatusOr<std::string> ContentionProfileFor(const CommandLine& cl,
                                                 ContentionKind kind);

}  // namespace gspy

#endif  // GSPY_CLI_CONTENTION_COMMAND_H_
