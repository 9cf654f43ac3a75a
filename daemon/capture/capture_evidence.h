// CaptureEvidence: how a capture gets its evidence, through gspyd's own API
// (the goroutines reader, the sampled wall pull, the perf sampler's CPU
// pull), so a capture is made by the code that serves users' pulls, with
// the same limits and the operator's redaction. GrpcCaptureEvidence calls
// it over an in-process channel; tests use a fake.
#ifndef GSPY_DAEMON_CAPTURE_CAPTURE_EVIDENCE_H_
#define GSPY_DAEMON_CAPTURE_CAPTURE_EVIDENCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {

class CaptureEvidence {
 public:
  virtual ~CaptureEvidence() = default;
  // The goroutines of `pid` now, as a gzip-compressed pprof goroutine
  // profile (Go's /debug/pprof/goroutine) with wait reasons as labels.
  virtual absl::StatusOr<std::string> GoroutineDump(int pid) = 0;
  // A profile of `pid` over the next `duration`, gzip-compressed pprof.
  virtual absl::StatusOr<std::string> Profile(int pid,
                                              gspy::v1::ProfileType type,
                                              absl::Duration duration) = 0;
};

class GrpcCaptureEvidence final : public CaptureEvidence {
 public:
  explicit GrpcCaptureEvidence(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(gspy::v1::Profiler::NewStub(channel)) {}

  absl::StatusOr<std::string> GoroutineDump(int pid) override;
  absl::StatusOr<std::string> Profile(int pid, gspy::v1::ProfileType type,
                                      absl::Duration duration) override;

 private:
  std::unique_ptr<gspy::v1::Profiler::Stub> stub_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_CAPTURE_CAPTURE_EVIDENCE_H_
