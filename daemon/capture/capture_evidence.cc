#include "daemon/capture/capture_evidence.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/client_context.h"

namespace gspy {
namespace {

absl::Status FromGrpc(const grpc::Status& s, const char* what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

void SetDeadline(grpc::ClientContext* ctx, absl::Duration d) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(d));
}

}  // namespace

absl::StatusOr<std::string> GrpcCaptureEvidence::GoroutineDump(int pid) {
  gspy::v1::GetGoroutinesRequest request;
  request.mutable_selector()->add_pids(pid);
  request.set_format(gspy::v1::GOROUTINES_FORMAT_PPROF);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(30));
  auto reader = stub_->GetGoroutines(&ctx, request);
  gspy::v1::GetGoroutinesResponse part;
  std::string pprof;
  std::vector<std::string> warnings;
  while (reader->Read(&part)) {
    pprof += part.pprof();
    for (const std::string& w : part.warnings()) warnings.push_back(w);
  }
  if (grpc::Status s = reader->Finish(); !s.ok()) {
    return FromGrpc(s, "goroutine dump");
  }
  if (pprof.empty()) {
    return absl::UnavailableError(absl::StrCat("goroutine dump: none read: ",
                                               absl::StrJoin(warnings, "; ")));
  }
  return pprof;
}

absl::StatusOr<std::string> GrpcCaptureEvidence::Profile(
    int pid, gspy::v1::ProfileType type, absl::Duration duration) {
  gspy::v1::GetProfileRequest request;
  request.mutable_selector()->add_pids(pid);
  request.set_type(type);
  request.mutable_duration()->set_seconds(absl::ToInt64Seconds(duration));
  request.mutable_duration()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(duration % absl::Seconds(1))));
  grpc::ClientContext ctx;
  SetDeadline(&ctx, duration + absl::Seconds(30));
  gspy::v1::GetProfileResponse response;
  if (grpc::Status s = stub_->GetProfile(&ctx, request, &response); !s.ok()) {
    return FromGrpc(s, gspy::v1::ProfileType_Name(type).c_str());
  }
  return std::move(*response.mutable_pprof());
}

}  // namespace gspy
