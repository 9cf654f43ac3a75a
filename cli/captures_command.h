// gspy captures list / gspy captures get ID -o DIR: the captures gspyd took
// on its own when one of its --capture-rule held.
#ifndef GSPY_CLI_CAPTURES_COMMAND_H_
#define GSPY_CLI_CAPTURES_COMMAND_H_

#include <string>

#include "absl/status/status.h"
#include "cli/command_line.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

// One line per capture: id, time (UTC), rule, process or pod, what was
// measured when it fired, its files' size.
std::string FormatCaptureList(const gspy::v1::ListCapturesResponse& list);

// Writes `capture`'s files into `dir` (created if missing). A file name
// that is not a plain name (from a hostile server) is an error and nothing
// is written outside `dir`.
absl::Status WriteCaptureFiles(const gspy::v1::GetCaptureResponse& capture,
                               const std::string& dir);

int CapturesCommand(gspy::v1::Captures::StubInterface& stub,
                    const CommandLine& cl);

}  // namespace gspy

#endif  // GSPY_CLI_CAPTURES_COMMAND_H_
