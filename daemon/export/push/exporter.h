// Where pushed profiles go: one backend, one request per batch. The gRPC
// exporters speak Pyroscope's push.v1.PusherService/Push, Parca's
// parca.profilestore.v1alpha1.ProfileStoreService/WriteRaw and OTLP's
// opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export.
#ifndef GSPY_DAEMON_EXPORT_PUSH_EXPORTER_H_
#define GSPY_DAEMON_EXPORT_PUSH_EXPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/export/push/push_profile.h"

namespace grpc {
class Channel;
}

namespace gspy {

class ProfileExporter {
 public:
  virtual ~ProfileExporter() = default;
  // "pyroscope", "parca" or "otlp": the backend label of the push metrics.
  virtual std::string backend() const = 0;
  // Sends the batch in one request that must finish within `timeout`. The
  // status carries the backend's gRPC code (UNAVAILABLE when unreachable).
  virtual absl::Status Export(
      const std::vector<std::shared_ptr<const PushProfile>>& batch,
      absl::Duration timeout) = 0;
};

// Whether a failed export may succeed if tried again (the backend is down,
// overloaded or slow), as opposed to a request it rejects.
bool RetryableExportError(const absl::Status& status);

// A bearer token read from a file, read again whenever the file changes (a
// mounted Secret is replaced on rotation).
class BearerToken {
 public:
  explicit BearerToken(std::string path) : path_(std::move(path)) {}
  // The token (whitespace trimmed), or why it cannot be read.
  absl::StatusOr<std::string> Get();

 private:
  const std::string path_;
  absl::Mutex mu_;
  int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t size_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t inode_ ABSL_GUARDED_BY(mu_) = 0;
  std::string token_ ABSL_GUARDED_BY(mu_);
};

struct EndpointOptions {
  // https://host:port (TLS), http://host:port (plaintext), or host:port
  // (TLS). A path is not allowed: gRPC has none.
  std::string url;
  std::string tls_ca_file;  // empty: the system's roots
  bool insecure_skip_verify = false;
  std::string bearer_token_file;  // empty: no Authorization header
};

// The gRPC target ("host:port") of a URL and whether it wants TLS.
struct ParsedEndpoint {
  std::string target;
  bool tls = true;
};
absl::StatusOr<ParsedEndpoint> ParseEndpointUrl(const std::string& url);

// A channel to the endpoint with its TLS settings (the CA file is read now).
absl::StatusOr<std::shared_ptr<grpc::Channel>> NewPushChannel(
    const EndpointOptions& options);

absl::StatusOr<std::unique_ptr<ProfileExporter>> NewPyroscopeExporter(
    const EndpointOptions& options);
absl::StatusOr<std::unique_ptr<ProfileExporter>> NewParcaExporter(
    const EndpointOptions& options);
absl::StatusOr<std::unique_ptr<ProfileExporter>> NewOtlpExporter(
    const EndpointOptions& options);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_EXPORTER_H_
