// `gspy view FILE -o OUT` and `gspy diff BASE NEW -o OUT`: render pprof files
// (gspy's or any other, e.g. Go's runtime/pprof) as an interactive HTML
// flame graph, an SVG or folded stacks; diff colours the frames of NEW by
// their change in share from BASE. No gspyd involved.
#ifndef GSPY_CLI_VIEW_COMMAND_H_
#define GSPY_CLI_VIEW_COMMAND_H_

#include "cli/command_line.h"

namespace gspy {

// Exit codes: 0 written, 1 failed (the message on stderr says why).
int ViewCommand(const CommandLine& cl);
int DiffCommand(const CommandLine& cl);

}  // namespace gspy

#endif  // GSPY_CLI_VIEW_COMMAND_H_
