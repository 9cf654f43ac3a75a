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

// `gspy gc --books --pid=PID [--duration=60s] [--interval=100ms]`: every GC
// cycle's pause from the process's pause ring (what MemStats.PauseNs and
// PauseEnd hold), the ring's current contents first, then each new cycle
// as it ends; cycles that left the 256-entry ring between two reads are
// counted as lost. No gspyd, no probe.
int BooksGcCommand(const CommandLine& cl);

}  // namespace gspy

#endif  // GSPY_CLI_BOOKS_COMMAND_H_
