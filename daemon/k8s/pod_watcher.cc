#include "daemon/k8s/pod_watcher.h"

#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"

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

template <typename Message>
absl::Status ParseJson(absl::string_view json, Message* out) {
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

PodWatcher::PodWatcher(KubeApiConfig config, PodCache* cache)
    : config_(std::move(config)), cache_(cache) {}

PodWatcher::~PodWatcher() {
  stop_ = true;
  {
    absl::MutexLock lock(&mu_);
    if (active_ != nullptr) active_->stop();
  }
  if (thread_.joinable()) thread_.join();
}

void PodWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

std::string PodWatcher::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

std::unique_ptr<httplib::Client> PodWatcher::NewClient() const {
  auto client = std::make_unique<httplib::Client>(config_.server);
  if (!config_.ca_file.empty()) {
    client->set_ca_cert_path(config_.ca_file.c_str());
    client->enable_server_certificate_verification(true);
  }
  if (!config_.token_file.empty()) {
    client->set_bearer_token_auth(ReadTrimmed(config_.token_file).c_str());
  }
  client->set_connection_timeout(10);
  client->set_read_timeout(config_.watch_timeout_seconds + 30);
  return client;
}

absl::Status PodWatcher::ListAndWatch() {
  std::unique_ptr<httplib::Client> client = NewClient();
  {
    absl::MutexLock lock(&mu_);
    active_ = client.get();
  }
  auto done = [&](absl::Status s) {
    absl::MutexLock lock(&mu_);
    active_ = nullptr;
    return s;
  };
  std::string selector;
  if (!config_.node_name.empty()) {
    selector = absl::StrCat("fieldSelector=",
                            UrlEncode("spec.nodeName=" + config_.node_name));
  }
  httplib::Result list = client->Get(absl::StrCat("/api/v1/pods?", selector));
  if (!list) {
    return done(absl::UnavailableError(
        absl::StrCat("listing pods at ", config_.server, ": ",
                     httplib::to_string(list.error()))));
  }
  if (list->status != 200) {
    return done(absl::PermissionDeniedError(
        absl::StrCat("listing pods at ", config_.server, ": HTTP ",
                     list->status, " ", list->body.substr(0, 200))));
  }
  k8s::PodList pods;
  if (absl::Status s = ParseJson(list->body, &pods); !s.ok()) return done(s);
  cache_->Replace(pods);
  synced_ = true;

  std::string version = pods.metadata().resource_version();
  absl::Status watch_status = absl::OkStatus();
  std::string pending;
  while (!stop_ && watch_status.ok()) {
    const std::string path = absl::StrCat(
        "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=",
        UrlEncode(version), "&timeoutSeconds=", config_.watch_timeout_seconds,
        selector.empty() ? "" : "&", selector);
    pending.clear();
    httplib::Result watch = client->Get(path, [&](const char* data, size_t n) {
      pending.append(data, n);
      for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        k8s::WatchEvent event;
        absl::Status s = ParseJson(pending.substr(0, nl), &event);
        pending.erase(0, nl + 1);
        if (!s.ok()) {
          watch_status = s;
          return false;
        }
        if (event.type() == "ERROR") {
          // Typically 410 Gone: our resourceVersion is too old. Relist.
          watch_status = absl::AbortedError("the watch was ended (ERROR)");
          return false;
        }
        if (!event.object().metadata().resource_version().empty()) {
          version = event.object().metadata().resource_version();
        }
        cache_->Apply(event);
      }
      return !stop_.load();
    });
    if (!watch && watch_status.ok() && !stop_) {
      watch_status = absl::UnavailableError(
          absl::StrCat("watching pods: ", httplib::to_string(watch.error())));
    } else if (watch && watch->status != 200 && watch_status.ok()) {
      watch_status = absl::UnavailableError(
          absl::StrCat("watching pods: HTTP ", watch->status));
    }
  }
  return done(watch_status);
}

void PodWatcher::Run() {
  absl::Duration backoff = absl::Seconds(1);
  while (!stop_) {
    absl::Status s = ListAndWatch();
    if (stop_) break;
    // A watch that ran after a good list was a healthy connection: start the
    // backoff over.
    if (synced_.exchange(false)) backoff = absl::Seconds(1);
    ++errors_;
    {
      absl::MutexLock lock(&mu_);
      last_error_ = std::string(s.message());
    }
    fprintf(stderr, "gspyd: kubernetes: %s (retrying in %s)\n",
            std::string(s.message()).c_str(),
            absl::FormatDuration(backoff).c_str());
    for (absl::Time until = absl::Now() + backoff;
         !stop_ && absl::Now() < until;) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
}

}  // namespace gspy
