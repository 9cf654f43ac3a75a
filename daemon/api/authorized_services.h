// The gspy.v1 services behind authentication and authorization: each RPC
// first authenticates the caller's bearer token and checks what its request
// needs (request_access.h), then runs the wrapped service. Wrappers, not an
// interceptor: the check needs the request's selector, and a gRPC C++
// interceptor cannot end a call with a status of its own. The gRPC health
// service is registered apart and stays open.
#ifndef GSPY_DAEMON_API_AUTHORIZED_SERVICES_H_
#define GSPY_DAEMON_API_AUTHORIZED_SERVICES_H_

#include <string>

#include "daemon/auth/kube_auth.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

// Authenticates the caller of `context`, then checks each of `needs`: OK, or
// UNAUTHENTICATED / PERMISSION_DENIED / UNAVAILABLE saying what is missing.
grpc::Status CheckCaller(KubeAuth& auth, const grpc::ServerContext& context,
                         const std::vector<k8s::ResourceAttributes>& needs);

class AuthorizedProfiler final : public gspy::v1::Profiler::Service {
 public:
  // `node`: this daemon's node, the name node-wide checks name.
  AuthorizedProfiler(gspy::v1::Profiler::Service* inner, KubeAuth* auth,
                     std::string node)
      : inner_(inner), auth_(auth), node_(std::move(node)) {}

  grpc::Status ListTargets(grpc::ServerContext* context,
                           const gspy::v1::ListTargetsRequest* request,
                           gspy::v1::ListTargetsResponse* response) override;
  grpc::Status GetProfile(grpc::ServerContext* context,
                          const gspy::v1::GetProfileRequest* request,
                          gspy::v1::GetProfileResponse* response) override;
  grpc::Status PullProfile(
      grpc::ServerContext* context, const gspy::v1::GetProfileRequest* request,
      grpc::ServerWriter<gspy::v1::PullProfileMessage>* writer) override;
  grpc::Status GetGoroutines(
      grpc::ServerContext* context,
      const gspy::v1::GetGoroutinesRequest* request,
      grpc::ServerWriter<gspy::v1::GetGoroutinesResponse>* writer) override;
  grpc::Status GetVersion(grpc::ServerContext* context,
                          const gspy::v1::GetVersionRequest* request,
                          gspy::v1::GetVersionResponse* response) override;

 private:
  gspy::v1::Profiler::Service* const inner_;
  KubeAuth* const auth_;
  const std::string node_;
};

class AuthorizedGcPauses final : public gspy::v1::GcPauses::Service {
 public:
  AuthorizedGcPauses(gspy::v1::GcPauses::Service* inner, KubeAuth* auth,
                     std::string node)
      : inner_(inner), auth_(auth), node_(std::move(node)) {}

  grpc::Status WatchGcPauses(
      grpc::ServerContext* context,
      const gspy::v1::WatchGcPausesRequest* request,
      grpc::ServerWriter<gspy::v1::GcPauseEvent>* writer) override;

 private:
  gspy::v1::GcPauses::Service* const inner_;
  KubeAuth* const auth_;
  const std::string node_;
};

// Captures span processes and pods: node-wide access, as ListTargets.
class AuthorizedCaptures final : public gspy::v1::Captures::Service {
 public:
  AuthorizedCaptures(gspy::v1::Captures::Service* inner, KubeAuth* auth,
                     std::string node)
      : inner_(inner), auth_(auth), node_(std::move(node)) {}

  grpc::Status ListCaptures(grpc::ServerContext* context,
                            const gspy::v1::ListCapturesRequest* request,
                            gspy::v1::ListCapturesResponse* response) override;
  grpc::Status GetCapture(grpc::ServerContext* context,
                          const gspy::v1::GetCaptureRequest* request,
                          gspy::v1::GetCaptureResponse* response) override;

 private:
  gspy::v1::Captures::Service* const inner_;
  KubeAuth* const auth_;
  const std::string node_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_API_AUTHORIZED_SERVICES_H_
