// MetricsServer: serves a MetricsRegistry over HTTP for Prometheus
// (GET /metrics) and liveness checks (GET /healthz), with cpp-httplib on a
// thread of its own, apart from the gRPC server.
#ifndef GSPY_DAEMON_EXPORT_METRICS_METRICS_SERVER_H_
#define GSPY_DAEMON_EXPORT_METRICS_METRICS_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/metrics_registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace gspy {

// Content type of the text exposition format.
inline constexpr char kPrometheusContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// "HOST:PORT" or "[V6HOST]:PORT" split into host and port; an empty host is
// every interface. INVALID_ARGUMENT names what is wrong.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(
    absl::string_view address);

// Decides whether a scrape of /metrics may proceed, from its Authorization
// header ("" when absent): OK, or UNAUTHENTICATED (401), PERMISSION_DENIED
// (403), another code (503), with the message as the body.
using ScrapeAuthorizer = std::function<absl::Status(absl::string_view)>;

class MetricsServer {
 public:
  // Binds `address` (port 0 picks a free port) and starts serving. The error
  // says why the address cannot be used: not HOST:PORT, an unknown host, or
  // the bind's errno (e.g. "Address already in use").
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      absl::string_view address, MetricsRegistry* registry,
      ScrapeAuthorizer authorize = nullptr);
  ~MetricsServer();  // Stop()

  // The bound port (the chosen one when asked for 0).
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  // Stops accepting, waits for requests in progress, joins the thread.
  // Idempotent.
  void Stop();

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::string host_;
  int port_ = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_METRICS_SERVER_H_
