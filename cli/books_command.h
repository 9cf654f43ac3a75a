// `gspy books --pid=PID`: the Go runtime's own books (what runtime/metrics
// reports) read straight from the process's memory, without gspyd and
// without stopping or probing it (needs CAP_SYS_PTRACE). Prints every
// metric by its runtime/metrics name, and the GC pause ring; --json for
// programs (the e2e test compares it with the target's own metrics.Read).
#ifndef GSPY_CLI_BOOKS_COMMAND_H_
#define GSPY_CLI_BOOKS_COMMAND_H_

#include "cli/command_line.h"

namespace gspy {

int BooksCommand(const CommandLine& cl);

}  // namespace gspy

#endif  // GSPY_CLI_BOOKS_COMMAND_H_
