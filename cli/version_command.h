// `gspy version` / `gspy --version`: gspy's version and API version, then
// gspyd's, asked at --server with GetVersion. A daemon that does not answer
// is a line saying so, not an error: the exit code is 0 either way, since
// gspy's own version, what --version is asked for, was printed.
#ifndef GSPY_CLI_VERSION_COMMAND_H_
#define GSPY_CLI_VERSION_COMMAND_H_

#include <string>

#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

// "gspy 0.1.0 (api gspy.v1)".
std::string CliVersionLine();

// The line about the daemon, from GetVersion's answer or its error.
std::string DaemonVersionLine(const std::string& server,
                              const grpc::Status& status,
                              const gspy::v1::GetVersionResponse& response);

int PrintVersion(gspy::v1::Profiler::Stub& stub, const std::string& server);

}  // namespace gspy

#endif  // GSPY_CLI_VERSION_COMMAND_H_
