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
    const std::string& text, Admission& admission) {
  FilterLimits limits;
  limits.max_terms = admission.limits().max_filter_terms;
  limits.max_regex_bytes = admission.limits().max_filter_regex_bytes;
  FilterLimitHit hit = FilterLimitHit::kNone;
  absl::StatusOr<SampleFilter> filter = SampleFilter::Parse(text, limits, &hit);
  if (hit == FilterLimitHit::kTerms)
    admission.CountRefusal(Refusal::kFilterTerms);
  if (hit == FilterLimitHit::kRegexMemory) {
    admission.CountRefusal(Refusal::kFilterRegexMemory);
  }
  if (!filter.ok()) return filter.status();
  if (filter->empty()) return nullptr;
  return std::make_shared<const SampleFilter>(*std::move(filter));
}

absl::StatusOr<TargetSelector> ParseSelector(const gspy::v1::Selector& selector,
                                             Admission& admission) {
  absl::StatusOr<TargetSelector> parsed = TargetSelector::Parse(selector);
  if (!parsed.ok()) return parsed.status();
  const size_t max = admission.limits().max_pids_per_request;
  if (parsed->pids().size() > max) {
    admission.CountRefusal(Refusal::kPids);
    return absl::InvalidArgumentError(absl::StrCat(
        "the selector names ", parsed->pids().size(),
        " distinct pids, more than the limit (--max-pids-per-request=", max,
        ")"));
  }
  return parsed;
}

absl::StatusOr<CheckedTargets> CheckTargetsRequest(
    const ProcessTable& processes, const gspy::v1::Selector& selector,
    const google::protobuf::Duration& requested, absl::Duration max,
    absl::string_view what, Admission& admission) {
  absl::StatusOr<absl::Duration> duration = CheckDuration(requested, max);
  if (!duration.ok()) return duration.status();
  absl::StatusOr<TargetSelector> parsed = ParseSelector(selector, admission);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<std::vector<GoProcess>> targets =
      parsed->Resolve(processes, what);
  if (!targets.ok()) return targets.status();
  return CheckedTargets{*duration, *std::move(parsed), *std::move(targets)};
}

absl::StatusOr<CheckedPull> CheckPullRequest(
    const ProcessTable& processes, const gspy::v1::GetProfileRequest& request,
    absl::Duration max_duration, Admission& admission) {
  // The filter first: it costs nothing to refuse, and resolving the
  // selector reads every selected process's binary.
  absl::StatusOr<std::shared_ptr<const SampleFilter>> filter =
      ParseFilter(request.filter(), admission);
  if (!filter.ok()) return filter.status();
  absl::StatusOr<CheckedTargets> targets =
      CheckTargetsRequest(processes, request.selector(), request.duration(),
                          max_duration, "profile", admission);
  if (!targets.ok()) return targets.status();
  return CheckedPull{*std::move(targets), *std::move(filter)};
}

}  // namespace gspy
