#include "daemon/api/request_checks.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::StatusOr<absl::Duration> CheckDuration(
    const google::protobuf::Duration& duration, absl::Duration max) {
  const int64_t seconds = duration.seconds();
  const int32_t nanos = duration.nanos();
  if (nanos <= -1'000'000'000 || nanos >= 1'000'000'000 ||
      (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration {seconds: ", seconds, ", nanos: ", nanos,
                     "} is not a valid google.protobuf.Duration"));
  }
  const absl::Duration d = absl::Seconds(seconds) + absl::Nanoseconds(nanos);
  if (d <= absl::ZeroDuration() || d > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration ", absl::FormatDuration(d), " is not in (0, ",
                     absl::FormatDuration(max), "]"));
  }
  return d;
}

absl::StatusOr<std::shared_ptr<const SampleFilter>> ParseFilter(
    const std::string& text) {
  absl::StatusOr<SampleFilter> filter = SampleFilter::Parse(text);
  if (!filter.ok()) return filter.status();
  if (filter->empty()) return nullptr;
  return std::make_shared<const SampleFilter>(*std::move(filter));
}

absl::StatusOr<CheckedTargets> CheckTargetsRequest(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    const google::protobuf::Duration& requested, absl::Duration max,
    absl::string_view what) {
  absl::StatusOr<absl::Duration> duration = CheckDuration(requested, max);
  if (!duration.ok()) return duration.status();
  absl::StatusOr<TargetSelector> parsed = TargetSelector::Parse(selector);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<std::vector<GoProcess>> targets =
      parsed->Resolve(processes, what);
  if (!targets.ok()) return targets.status();
  return CheckedTargets{*duration, *std::move(parsed), *std::move(targets)};
}

absl::StatusOr<CheckedPull> CheckPullRequest(
    const ProcessTable& processes, const gspy::v1::GetProfileRequest& request,
    absl::Duration max_duration) {
  absl::StatusOr<CheckedTargets> targets =
      CheckTargetsRequest(processes, request.selector(), request.duration(),
                          max_duration, "profile");
  if (!targets.ok()) return targets.status();
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request.filter());
  if (!filter.ok()) return filter.status();
  return CheckedPull{*std::move(targets), *std::move(filter)};
}

}  // namespace gspy
