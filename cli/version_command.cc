#include "cli/version_command.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/version.h"

namespace gspy {
namespace {

// The API this gspy speaks: the proto package, the one place it is named.
const std::string& ApiVersion() {
  return gspy::v1::GetVersionResponse::descriptor()->file()->package();
}

// A daemon that answers at all answers this at once; long enough for a
// first TLS or cross-node connection.
constexpr auto kDeadline = std::chrono::seconds(5);

}  // namespace

std::string CliVersionLine() {
  return absl::StrCat("gspy ", kGspyVersion, " (api ", ApiVersion(), ")");
}

std::string DaemonVersionLine(const std::string& server,
                              const grpc::Status& status,
                              const gspy::v1::GetVersionResponse& response) {
  if (status.ok()) {
    std::string line = absl::StrCat("gspyd ", response.version(), " (api ",
                                    response.api_version(), ") at ", server);
    if (response.api_version() != ApiVersion()) {
      absl::StrAppend(&line, "; its API differs from gspy's");
    }
    return line;
  }
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return absl::StrCat("gspyd at ", server,
                        ": predates GetVersion (older than gspy)");
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  return absl::StrCat("gspyd at ", server, ": could not be reached (",
                      absl::StatusCodeToString(code), ": ",
                      status.error_message(), ")");
}

int PrintVersion(gspy::v1::Profiler::Stub& stub, const std::string& server) {
  printf("%s\n", CliVersionLine().c_str());
  fflush(stdout);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  gspy::v1::GetVersionResponse response;
  const grpc::Status s = stub.GetVersion(&ctx, {}, &response);
  printf("%s\n", DaemonVersionLine(server, s, response).c_str());
  return 0;
}

}  // namespace gspy
