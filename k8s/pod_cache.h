// PodCache: the pods of this node as the API server last described them, by
// UID, fed by the watcher (a full list, then watch events). Bounded.
#ifndef GSPY_K8S_POD_CACHE_H_
#define GSPY_K8S_POD_CACHE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "golang/process/process_labels.h"
#include "proto/k8s/objects.pb.h"

namespace gspy {

struct PodInfo {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string node;
  LabelList labels;  // metadata.labels, sorted by key
  // Container id (no runtime prefix) -> container name.
  absl::flat_hash_map<std::string, std::string> containers;
};

class PodCache {
 public:
  static constexpr size_t kMaxPods = 20'000;

  // Replaces everything with a fresh list.
  void Replace(const k8s::PodList& list);
  // ADDED, MODIFIED, DELETED; other types are ignored.
  void Apply(const k8s::WatchEvent& event);

  std::optional<PodInfo> ByUid(const std::string& uid) const;
  size_t size() const;
  // Pods left out because the cache was full.
  size_t overflow() const;

 private:
  void Put(const k8s::Pod& pod) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, PodInfo> pods_ ABSL_GUARDED_BY(mu_);
  size_t overflow_ ABSL_GUARDED_BY(mu_) = 0;
};

// "containerd://abc" -> "abc".
std::string StripRuntimePrefix(const std::string& container_id);

}  // namespace gspy

#endif  // GSPY_K8S_POD_CACHE_H_
