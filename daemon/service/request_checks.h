// What every gspy RPC that profiles or watches processes does with its
// request: validate the window and the pids, resolve the selector into
// processes, and turn errors into gRPC statuses. One implementation, so every
// RPC answers bad input with the same codes and messages.
#ifndef GSPY_DAEMON_SERVICE_REQUEST_CHECKS_H_
#define GSPY_DAEMON_SERVICE_REQUEST_CHECKS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/filter/sample_filter.h"
#include "daemon/process/go_process.h"
#include "grpcpp/support/status.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

// absl::Status -> grpc::Status, keeping the code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The request's duration, or INVALID_ARGUMENT unless it is in (0, max].
absl::StatusOr<absl::Duration> CheckDuration(int64_t seconds, int32_t nanos,
                                             absl::Duration max);

// INVALID_ARGUMENT for a pid that cannot exist (<= 0) or a Kubernetes part
// that does not parse (see PodSelector).
absl::Status CheckSelector(const gspy::v1::Selector& selector);

// Whether the selector names pids and nothing else: then a pull ends when
// they have all exited, and no new process can join it.
bool SelectsPidsOnly(const gspy::v1::Selector& selector);

// The processes a selector names, each once: every --pid (the first bad one
// is the error: NOT_FOUND, FAILED_PRECONDITION, ...), every Go process of an
// --exe or of a selected pod, or every Go process for an empty selector
// (NOT_FOUND when that finds none). `what` names the action in messages
// ("profile", "watch").
absl::StatusOr<std::vector<GoProcess>> ResolveSelector(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    absl::string_view what);

// The request's filter, parsed; null for an empty one. INVALID_ARGUMENT
// saying what is wrong.
absl::StatusOr<std::shared_ptr<const SampleFilter>> ParseFilter(
    const std::string& text);

// A request's checked window and the processes it names.
struct CheckedTargets {
  absl::Duration duration;
  std::vector<GoProcess> processes;
};

// CheckDuration, CheckSelector and ResolveSelector, in that order: what every
// pull or watch request goes through first.
absl::StatusOr<CheckedTargets> CheckTargetsRequest(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    int64_t duration_seconds, int32_t duration_nanos, absl::Duration max,
    absl::string_view what);

// Processes of the selector's --exe and pod parts (or all Go processes for
// an empty selector) for which `known` is false: those started since the
// request began. Empty for a selector of pids only.
std::vector<GoProcess> NewSelectorMatches(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    const std::function<bool(int pid)>& known);

// What every profile pull checks first: CheckTargetsRequest and ParseFilter.
struct CheckedPull {
  CheckedTargets targets;
  std::shared_ptr<const SampleFilter> filter;  // null: keep everything
};
absl::StatusOr<CheckedPull> CheckPullRequest(
    const ProcessTable& processes, const gspy::v1::GetProfileRequest& request,
    absl::Duration max_duration);

}  // namespace gspy

#endif  // GSPY_DAEMON_SERVICE_REQUEST_CHECKS_H_
