// The gspy.v1.Captures gRPC service: the captures gspyd took on its own
// (daemon/capture), listed and fetched (`gspy captures list`,
// `gspy captures get ID -o DIR`). A fetch counts as a pull for the
// admission limits: a capture can be megabytes.
#ifndef GSPY_DAEMON_API_CAPTURE_SERVICE_H_
#define GSPY_DAEMON_API_CAPTURE_SERVICE_H_

#include "daemon/api/admission.h"
#include "daemon/capture/capture_store.h"
#include "grpcpp/server_context.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

class CaptureService final : public gspy::v1::Captures::Service {
 public:
  // `store` null: gspyd runs without --capture-rule; every call is then
  // FAILED_PRECONDITION saying so. Neither is owned.
  CaptureService(const CaptureStore* store, Admission* admission)
      : store_(store), admission_(admission) {}

  grpc::Status ListCaptures(grpc::ServerContext* context,
                            const gspy::v1::ListCapturesRequest* request,
                            gspy::v1::ListCapturesResponse* response) override;
  grpc::Status GetCapture(grpc::ServerContext* context,
                          const gspy::v1::GetCaptureRequest* request,
                          gspy::v1::GetCaptureResponse* response) override;

 private:
  const CaptureStore* const store_;
  Admission* const admission_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_API_CAPTURE_SERVICE_H_
