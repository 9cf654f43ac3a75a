#include "daemon/api/capture_service.h"

#include <utility>

#include "daemon/api/request_checks.h"

namespace gspy {
namespace {

grpc::Status NoStore() {
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      "gspyd takes no captures: it runs without "
                      "--capture-rule");
}

}  // namespace

grpc::Status CaptureService::ListCaptures(
    grpc::ServerContext* /*context*/,
    const gspy::v1::ListCapturesRequest* /*request*/,
    gspy::v1::ListCapturesResponse* response) {
  if (store_ == nullptr) return NoStore();
  for (gspy::v1::CaptureInfo& info : store_->List()) {
    *response->add_captures() = std::move(info);
  }
  return grpc::Status::OK;
}

grpc::Status CaptureService::GetCapture(
    grpc::ServerContext* context, const gspy::v1::GetCaptureRequest* request,
    gspy::v1::GetCaptureResponse* response) {
  if (store_ == nullptr) return NoStore();
  absl::StatusOr<Admission::PullSlot> slot =
      admission_->AdmitPull(ClientOf(*context));
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  absl::StatusOr<gspy::v1::GetCaptureResponse> got = store_->Get(request->id());
  if (!got.ok()) return ToGrpcStatus(got.status());
  *response = *std::move(got);
  return grpc::Status::OK;
}

}  // namespace gspy
