#include "daemon/api/refusal_interceptor.h"

#include <grpcpp/support/interceptor.h>

#include <optional>

namespace gspy {
namespace {

// The message of gRPC's C++ synchronous server when no thread of its
// ResourceQuota is left for a call (kServerThreadpoolExhausted in
// src/cpp/server/server_cc.cc; not in gRPC's headers). The unit test
// provokes it on a real server, so a gRPC that words it otherwise fails
// there rather than going uncounted here.
constexpr absl::string_view kThreadpoolExhausted =
    "Server Threadpool Exhausted";

// One per call: it sees the status the server sends, whichever handler
// (ours, or gRPC's resource-exhausted one) produced it.
class RefusalCountingInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit RefusalCountingInterceptor(Admission* admission)
      : admission_(admission) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (std::optional<Refusal> r =
              GrpcOwnRefusal(status.error_code(), status.error_message())) {
        admission_->CountRefusal(*r);
      }
    }
    methods->Proceed();
  }

 private:
  Admission* const admission_;
};

class RefusalCountingFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RefusalCountingFactory(Admission* admission)
      : admission_(admission) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* /*info*/) override {
    return new RefusalCountingInterceptor(admission_);
  }

 private:
  Admission* const admission_;
};

}  // namespace

std::optional<Refusal> GrpcOwnRefusal(grpc::StatusCode code,
                                      absl::string_view message) {
  if (code == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      message == kThreadpoolExhausted) {
    return Refusal::kServerThreads;
  }
  return std::nullopt;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRefusalCountingInterceptorFactory(Admission* admission) {
  return std::make_unique<RefusalCountingFactory>(admission);
}

}  // namespace gspy
