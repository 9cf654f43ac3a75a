#include "cli/progress_pull.h"

#include <memory>

#include "grpcpp/client_context.h"

namespace gspy {

grpc::Status PullWithProgress(gspy::v1::Profiler::StubInterface& stub,
                              std::chrono::system_clock::time_point deadline,
                              const gspy::v1::GetProfileRequest& request,
                              PullProgress* progress,
                              gspy::v1::GetProfileResponse* response) {
  bool have_result = false;
  grpc::Status status;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    std::unique_ptr<grpc::ClientReaderInterface<gspy::v1::PullProfileMessage>>
        reader = stub.PullProfile(&ctx, request);
    gspy::v1::PullProfileMessage message;
    while (reader->Read(&message)) {
      if (message.has_progress()) {
        progress->set_samples(message.progress().samples());
      } else if (message.has_result()) {
        *response = std::move(*message.mutable_result());
        have_result = true;
      }
    }
    status = reader->Finish();
  }
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    return stub.GetProfile(&ctx, request, response);
  }
  if (status.ok() && !have_result) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        "gspyd ended the pull without a profile");
  }
  return status;
}

}  // namespace gspy
