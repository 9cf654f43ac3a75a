#include "daemon/api/authorized_services.h"

#include <vector>

#include "daemon/api/request_checks.h"
#include "daemon/auth/request_access.h"

namespace gspy {

grpc::Status CheckCaller(KubeAuth& auth, const grpc::ServerContext& context,
                         const std::vector<k8s::ResourceAttributes>& needs) {
  absl::string_view authorization;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<k8s::UserInfo> user = auth.Authenticate(authorization);
  if (!user.ok()) return ToGrpcStatus(user.status());
  for (const k8s::ResourceAttributes& access : needs) {
    if (absl::Status s = auth.Authorize(*user, access); !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return grpc::Status::OK;
}

grpc::Status AuthorizedProfiler::ListTargets(
    grpc::ServerContext* context, const gspy::v1::ListTargetsRequest* request,
    gspy::v1::ListTargetsResponse* response) {
  // Every process of the node: node-wide.
  grpc::Status s = CheckCaller(*auth_, *context, {NodeProfileAccess(node_)});
  if (!s.ok()) return s;
  return inner_->ListTargets(context, request, response);
}

grpc::Status AuthorizedProfiler::GetProfile(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest* request,
    gspy::v1::GetProfileResponse* response) {
  grpc::Status s =
      CheckCaller(*auth_, *context, SelectorAccess(request->selector(), node_));
  if (!s.ok()) return s;
  return inner_->GetProfile(context, request, response);
}

grpc::Status AuthorizedProfiler::PullProfile(
    grpc::ServerContext* context, const gspy::v1::GetProfileRequest* request,
    grpc::ServerWriter<gspy::v1::PullProfileMessage>* writer) {
  // The same request as GetProfile: the same access.
  grpc::Status s =
      CheckCaller(*auth_, *context, SelectorAccess(request->selector(), node_));
  if (!s.ok()) return s;
  return inner_->PullProfile(context, request, writer);
}

grpc::Status AuthorizedProfiler::GetGoroutines(
    grpc::ServerContext* context, const gspy::v1::GetGoroutinesRequest* request,
    grpc::ServerWriter<gspy::v1::GetGoroutinesResponse>* writer) {
  grpc::Status s =
      CheckCaller(*auth_, *context, SelectorAccess(request->selector(), node_));
  if (!s.ok()) return s;
  return inner_->GetGoroutines(context, request, writer);
}

grpc::Status AuthorizedProfiler::GetVersion(
    grpc::ServerContext* context, const gspy::v1::GetVersionRequest* request,
    gspy::v1::GetVersionResponse* response) {
  // Any authenticated caller, as the API server's /version.
  grpc::Status s = CheckCaller(*auth_, *context, {});
  if (!s.ok()) return s;
  return inner_->GetVersion(context, request, response);
}

grpc::Status AuthorizedGcPauses::WatchGcPauses(
    grpc::ServerContext* context, const gspy::v1::WatchGcPausesRequest* request,
    grpc::ServerWriter<gspy::v1::GcPauseEvent>* writer) {
  grpc::Status s =
      CheckCaller(*auth_, *context, SelectorAccess(request->selector(), node_));
  if (!s.ok()) return s;
  return inner_->WatchGcPauses(context, request, writer);
}

grpc::Status AuthorizedCaptures::ListCaptures(
    grpc::ServerContext* context, const gspy::v1::ListCapturesRequest* request,
    gspy::v1::ListCapturesResponse* response) {
  grpc::Status s = CheckCaller(*auth_, *context, {NodeProfileAccess(node_)});
  if (!s.ok()) return s;
  return inner_->ListCaptures(context, request, response);
}

grpc::Status AuthorizedCaptures::GetCapture(
    grpc::ServerContext* context, const gspy::v1::GetCaptureRequest* request,
    gspy::v1::GetCaptureResponse* response) {
  grpc::Status s = CheckCaller(*auth_, *context, {NodeProfileAccess(node_)});
  if (!s.ok()) return s;
  return inner_->GetCapture(context, request, response);
}

}  // namespace gspy
