#include "k8s/pod_watcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/log.h"

namespace gspy {

PodWatcher::PodWatcher(KubeApiConfig config, PodCache* cache)
    : config_(std::move(config)), cache_(cache) {}

PodWatcher::~PodWatcher() {
  stop_ = true;
  {
    absl::MutexLock lock(&mu_);
    if (active_ != nullptr) active_->Stop();
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

absl::Status PodWatcher::ListAndWatch() {
  KubeClient client(config_);  // a new one: the token may have rotated
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::OkStatus();
    active_ = &client;
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
  absl::StatusOr<std::string> body =
      client.Get(absl::StrCat("/api/v1/pods?", selector));
  if (!body.ok()) return done(body.status());
  k8s::PodList pods;
  if (absl::Status s = ParseKubeJson(*body, &pods); !s.ok()) return done(s);
  cache_->Replace(pods);
  synced_ = true;

  std::string version = pods.metadata().resource_version();
  absl::Status status = absl::OkStatus();
  while (!stop_ && status.ok()) {
    const std::string path = absl::StrCat(
        "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=",
        UrlEncode(version), "&timeoutSeconds=", config_.watch_timeout_seconds,
        selector.empty() ? "" : "&", selector);
    absl::Status parse = absl::OkStatus();
    status = client.Stream(path, [&](absl::string_view line) {
      k8s::WatchEvent event;
      parse = ParseKubeJson(line, &event);
      if (!parse.ok()) return false;
      if (event.type() == "ERROR") {
        // Typically 410 Gone: our resourceVersion is too old. Relist.
        parse = absl::AbortedError("the API server ended the watch (ERROR)");
        return false;
      }
      if (!event.object().metadata().resource_version().empty()) {
        version = event.object().metadata().resource_version();
      }
      cache_->Apply(event);
      return !stop_.load();
    });
    if (status.ok()) status = parse;
  }
  return done(status);
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
    GSPY_LOG(WARNING) << "kubernetes: " << s.message() << " (retrying in "
                      << absl::FormatDuration(backoff) << ")";
    for (absl::Time until = absl::Now() + backoff;
         !stop_ && absl::Now() < until;) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
}

}  // namespace gspy
