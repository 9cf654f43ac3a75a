#include "k8s/kube_client.h"

#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "proto/k8s/objects.pb.h"

namespace gspy {
namespace {

constexpr char kServiceAccount[] =
    "/var/run/secrets/kubernetes.io/serviceaccount";

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(s.str()));
}

absl::Status HttpError(const std::string& what, int status,
                       const std::string& body) {
  const std::string msg =
      absl::StrCat(what, ": HTTP ", status, " ", body.substr(0, 200));
  switch (status) {
    case 401:
    case 403:
      return absl::PermissionDeniedError(msg);
    case 404:
      return absl::NotFoundError(msg);
    default:
      return absl::UnknownError(msg);
  }
}

}  // namespace

absl::StatusOr<KubeApiConfig> InClusterConfig(std::string node_name) {
  const char* host = getenv("KUBERNETES_SERVICE_HOST");
  const char* port = getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    return absl::FailedPreconditionError(
        "not in a Kubernetes pod: KUBERNETES_SERVICE_HOST/PORT are not set "
        "(give --kube-api instead)");
  }
  KubeApiConfig c;
  const std::string h(host);
  c.server = absl::StrCat(
      "https://",
      h.find(':') != std::string::npos ? absl::StrCat("[", h, "]") : h, ":",
      port);
  c.token_file = absl::StrCat(kServiceAccount, "/token");
  c.ca_file = absl::StrCat(kServiceAccount, "/ca.crt");
  c.node_name = std::move(node_name);
  return c;
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "%",
                      absl::Hex(static_cast<uint8_t>(c), absl::kZeroPad2));
    }
  }
  return out;
}

template <typename Message>
absl::Status ParseKubeJson(absl::string_view json, Message* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                            out, options);
  if (!status.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the API server's JSON does not parse: ", status.ToString()));
  }
  return absl::OkStatus();
}
template absl::Status ParseKubeJson(absl::string_view, k8s::Pod*);
template absl::Status ParseKubeJson(absl::string_view, k8s::PodList*);
template absl::Status ParseKubeJson(absl::string_view, k8s::WatchEvent*);
template absl::Status ParseKubeJson(absl::string_view, k8s::TokenReview*);
template absl::Status ParseKubeJson(absl::string_view,
                                    k8s::SubjectAccessReview*);

KubeClient::KubeClient(const KubeApiConfig& config)
    : server_(config.server),
      client_(std::make_unique<httplib::Client>(config.server)) {
  if (!config.ca_file.empty()) {
    client_->set_ca_cert_path(config.ca_file.c_str());
    client_->enable_server_certificate_verification(true);
  }
  if (!config.token_file.empty()) {
    client_->set_bearer_token_auth(ReadTrimmed(config.token_file).c_str());
  }
  client_->set_connection_timeout(10);
  client_->set_read_timeout(config.watch_timeout_seconds + 30);
}

KubeClient::~KubeClient() = default;

void KubeClient::Stop() { client_->stop(); }

absl::StatusOr<std::string> KubeClient::Get(const std::string& path) {
  httplib::Result r = client_->Get(path);
  if (!r) {
    return absl::UnavailableError(absl::StrCat("GET ", server_, path, ": ",
                                               httplib::to_string(r.error())));
  }
  if (r->status != 200) {
    return HttpError(absl::StrCat("GET ", server_, path), r->status, r->body);
  }
  return std::move(r->body);
}

absl::StatusOr<std::string> KubeClient::PostJson(const std::string& path,
                                                 const std::string& body) {
  httplib::Result r = client_->Post(path, body, "application/json");
  if (!r) {
    return absl::UnavailableError(absl::StrCat("POST ", server_, path, ": ",
                                               httplib::to_string(r.error())));
  }
  if (r->status != 200 && r->status != 201) {
    return HttpError(absl::StrCat("POST ", server_, path), r->status, r->body);
  }
  return std::move(r->body);
}

absl::Status KubeClient::Stream(
    const std::string& path,
    const std::function<bool(absl::string_view)>& on_line) {
  std::string pending;
  bool stopped = false;
  httplib::Result r = client_->Get(path, [&](const char* data, size_t n) {
    pending.append(data, n);
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      const bool go_on = on_line(absl::string_view(pending).substr(0, nl));
      pending.erase(0, nl + 1);
      if (!go_on) {
        stopped = true;
        return false;
      }
    }
    return true;
  });
  if (stopped) return absl::OkStatus();
  if (!r) {
    return absl::UnavailableError(absl::StrCat("GET ", server_, path, ": ",
                                               httplib::to_string(r.error())));
  }
  if (r->status != 200) {
    return HttpError(absl::StrCat("GET ", server_, path), r->status, r->body);
  }
  return absl::OkStatus();
}

}  // namespace gspy
