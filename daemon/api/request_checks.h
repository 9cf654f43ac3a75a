// What every gspy RPC that profiles or watches processes does with its
// request: validate the window and the pids, resolve the selector into
// processes, and turn errors into gRPC statuses. One implementation, so every
// RPC answers bad input with the same codes and messages.
#ifndef GSPY_DAEMON_API_REQUEST_CHECKS_H_
#define GSPY_DAEMON_API_REQUEST_CHECKS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/api/admission.h"
#include "daemon/targets/target_selector.h"
#include "golang/process/go_process.h"
#include "grpcpp/support/status.h"
#include "profile/filter/sample_filter.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

// absl::Status -> grpc::Status, keeping the code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The request's duration, or INVALID_ARGUMENT unless it is in (0, max] and
// a valid google.protobuf.Duration (nanos within a second, with the sign of
// seconds). An unset duration is 0.
absl::StatusOr<absl::Duration> CheckDuration(
    const google::protobuf::Duration& duration, absl::Duration max);

// The request's filter, parsed; null for an empty one. INVALID_ARGUMENT
// saying what is wrong; RESOURCE_EXHAUSTED naming the limit of `admission`
// it reaches (counted there).
absl::StatusOr<std::shared_ptr<const SampleFilter>> ParseFilter(
    const std::string& text, Admission& admission);

// TargetSelector::Parse, then INVALID_ARGUMENT (counted) when the distinct
// pids are more than admission's max_pids_per_request.
absl::StatusOr<TargetSelector> ParseSelector(const gspy::v1::Selector& selector,
                                             Admission& admission);

// A request's checked window, its parsed selector and the processes it names
// now.
struct CheckedTargets {
  absl::Duration duration;
  TargetSelector selector;
  std::vector<GoProcess> processes;
};

// CheckDuration, ParseSelector and Resolve, in that order: what every pull or
// watch request goes through first.
absl::StatusOr<CheckedTargets> CheckTargetsRequest(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    const google::protobuf::Duration& duration, absl::Duration max,
    absl::string_view what, Admission& admission);

// What every profile pull checks first: CheckTargetsRequest and ParseFilter.
struct CheckedPull {
  CheckedTargets targets;
  std::shared_ptr<const SampleFilter> filter;  // null: keep everything
};
absl::StatusOr<CheckedPull> CheckPullRequest(
    const ProcessTable& processes, const gspy::v1::GetProfileRequest& request,
    absl::Duration max_duration, Admission& admission);

}  // namespace gspy

#endif  // GSPY_DAEMON_API_REQUEST_CHECKS_H_
