#include "k8s/pod_cache.h"

#include <algorithm>

namespace gspy {

std::string StripRuntimePrefix(const std::string& container_id) {
  const size_t pos = container_id.find("://");
  return pos == std::string::npos ? container_id : container_id.substr(pos + 3);
}

void PodCache::Put(const k8s::Pod& pod) {
  const std::string& uid = pod.metadata().uid();
  if (uid.empty()) return;
  if (!pods_.contains(uid) && pods_.size() >= kMaxPods) {
    ++overflow_;
    return;
  }
  PodInfo info;
  info.name = pod.metadata().name();
  info.namespace_name = pod.metadata().namespace_();
  info.uid = uid;
  info.node = pod.spec().node_name();
  info.labels.assign(pod.metadata().labels().begin(),
                     pod.metadata().labels().end());
  std::sort(info.labels.begin(), info.labels.end());
  for (const auto* statuses : {&pod.status().container_statuses(),
                               &pod.status().init_container_statuses(),
                               &pod.status().ephemeral_container_statuses()}) {
    for (const k8s::ContainerStatus& c : *statuses) {
      if (c.container_id().empty()) continue;  // not started yet
      info.containers[StripRuntimePrefix(c.container_id())] = c.name();
    }
  }
  pods_[uid] = std::move(info);
}

void PodCache::Replace(const k8s::PodList& list) {
  absl::MutexLock lock(&mu_);
  pods_.clear();
  for (const k8s::Pod& pod : list.items()) Put(pod);
}

void PodCache::Apply(const k8s::WatchEvent& event) {
  absl::MutexLock lock(&mu_);
  if (event.type() == "ADDED" || event.type() == "MODIFIED") {
    Put(event.object());
  } else if (event.type() == "DELETED") {
    pods_.erase(event.object().metadata().uid());
  }
}

std::optional<PodInfo> PodCache::ByUid(const std::string& uid) const {
  absl::MutexLock lock(&mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return std::nullopt;
  return it->second;
}

size_t PodCache::size() const {
  absl::MutexLock lock(&mu_);
  return pods_.size();
}

size_t PodCache::overflow() const {
  absl::MutexLock lock(&mu_);
  return overflow_;
}

}  // namespace gspy
