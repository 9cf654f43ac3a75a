// A profile pull that shows gspyd's progress: PullProfile's progress
// messages feed the terminal's progress line with the samples so far.
#ifndef GSPY_CLI_PROGRESS_PULL_H_
#define GSPY_CLI_PROGRESS_PULL_H_

#include <chrono>

#include "cli/pull_progress.h"
#include "grpcpp/support/status.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

// GetProfile's answer through PullProfile, each progress message passed to
// `progress`. A gspyd older than PullProfile (UNIMPLEMENTED) is asked with
// GetProfile instead; the line then shows no samples.
grpc::Status PullWithProgress(gspy::v1::Profiler::StubInterface& stub,
                              std::chrono::system_clock::time_point deadline,
                              const gspy::v1::GetProfileRequest& request,
                              PullProgress* progress,
                              gspy::v1::GetProfileResponse* response);

}  // namespace gspy

#endif  // GSPY_CLI_PROGRESS_PULL_H_
