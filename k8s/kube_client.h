// KubeClient: GET requests to a Kubernetes API server with a bearer token
// and a CA bundle (KubeApiConfig), JSON parsed by protobuf into the objects
// of proto/k8s/objects.proto. Shared by the daemon's pod watcher and the
// CLI's cluster-wide pulls.
#ifndef GSPY_K8S_KUBE_CLIENT_H_
#define GSPY_K8S_KUBE_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Client;
}

namespace gspy {

struct KubeApiConfig {
  std::string server;      // "https://10.96.0.1:443" or "http://127.0.0.1:8001"
  std::string token_file;  // bearer token, re-read for every client
  std::string ca_file;     // CA bundle for the server's certificate
  std::string node_name;   // the daemon's node (pod watcher)
  // Restarts a watch this often even when quiet (the server ends it too).
  int watch_timeout_seconds = 300;
};

// From the service account mounted in a pod: KUBERNETES_SERVICE_HOST/PORT,
// /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}.
// FAILED_PRECONDITION outside a cluster.
absl::StatusOr<KubeApiConfig> InClusterConfig(std::string node_name);

// Percent-encodes a query parameter value.
std::string UrlEncode(absl::string_view s);

// Parses the API server's JSON into `out`, ignoring fields it lacks.
template <typename Message>
absl::Status ParseKubeJson(absl::string_view json, Message* out);

class KubeClient {
 public:
  explicit KubeClient(const KubeApiConfig& config);
  ~KubeClient();

  // The body of GET path (e.g. "/api/v1/pods?..."). UNAVAILABLE when the
  // server cannot be reached, NOT_FOUND on 404, PERMISSION_DENIED on
  // 401/403, UNKNOWN on other statuses; the message names the request.
  absl::StatusOr<std::string> Get(const std::string& path);

  // The body of POST path with a JSON `body` (TokenReview,
  // SubjectAccessReview: 201 Created). Errors as Get's.
  absl::StatusOr<std::string> PostJson(const std::string& path,
                                       const std::string& body);

  // Streams GET path: `on_line` gets each newline-terminated line and
  // returns false to stop. Returns when the server ends the response, on an
  // error, or when stopped.
  absl::Status Stream(const std::string& path,
                      const std::function<bool(absl::string_view)>& on_line);

  // Aborts a Get or Stream in progress (from another thread).
  void Stop();

 private:
  const std::string server_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace gspy

#endif  // GSPY_K8S_KUBE_CLIENT_H_
