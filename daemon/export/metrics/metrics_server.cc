#include "daemon/export/metrics/metrics_server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace gspy {
namespace {

// Only SO_REUSEADDR (restart while old connections linger in TIME_WAIT).
// httplib's default also sets SO_REUSEPORT, which would let a second gspyd
// bind the same port silently instead of failing at startup.
void MetricsSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(
    absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\" is not HOST:PORT"));
  }
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", address, "\": write an IPv6 host in brackets, [::1]:PORT"));
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\": bad port \"", port_text, "\""));
  }
  return std::make_pair(
      host.empty() ? std::string("0.0.0.0") : std::string(host), port);
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    absl::string_view address, MetricsRegistry* registry,
    ScrapeAuthorizer authorize) {
  absl::StatusOr<std::pair<std::string, int>> hp = ParseHostPort(address);
  if (!hp.ok()) return hp.status();
  auto [host, port] = *std::move(hp);
  // Resolve first: httplib reports a failed lookup and a failed bind alike,
  // and an unknown host deserves its own message.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("metrics address ", address,
                                                   ": host \"", host,
                                                   "\": ", gai_strerror(rc)));
  }
  freeaddrinfo(found);

  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->http_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *s->http_;
  // Scrapes are seconds apart; two workers are plenty (httplib's default is
  // one per core, at least eight).
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.set_socket_options(MetricsSocketOptions);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.Get("/metrics", [registry, authorize](const httplib::Request& req,
                                             httplib::Response& res) {
    if (authorize != nullptr) {
      absl::Status s = authorize(req.get_header_value("Authorization"));
      if (!s.ok()) {
        res.status = s.code() == absl::StatusCode::kUnauthenticated    ? 401
                     : s.code() == absl::StatusCode::kPermissionDenied ? 403
                                                                       : 503;
        res.set_content(absl::StrCat(s.message(), "\n"),
                        "text/plain; charset=utf-8");
        return;
      }
    }
    res.set_content(registry->Scrape(), kPrometheusContentType);
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  errno = 0;
  if (port == 0) {
    port = http.bind_to_any_port(host);
  } else if (!http.bind_to_port(host, port)) {
    port = -1;
  }
  if (port < 0) {
    const int err = errno;
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, " for metrics",
                     err != 0 ? absl::StrCat(": ", strerror(err)) : ""));
  }
  s->host_ = host;
  s->port_ = port;
  s->thread_ = std::thread([p = s.get()] {
    p->http_->listen_after_bind();
    p->listen_returned_ = true;
  });
  // httplib's stop() does nothing until the listen loop has started, so a
  // Stop() right after Start() would leave the thread running forever.
  while (!http.is_running() && !s->listen_returned_) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return s;
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

}  // namespace gspy
