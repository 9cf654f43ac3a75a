// PodWatcher: keeps a PodCache in step with the API server for the pods of
// one node: a list (fieldSelector=spec.nodeName=NODE), then a watch from the
// list's resourceVersion; on any error it backs off (1 s doubling to 30 s)
// and lists again.
#ifndef GSPY_K8S_POD_WATCHER_H_
#define GSPY_K8S_POD_WATCHER_H_

#include <atomic>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "k8s/kube_client.h"
#include "k8s/pod_cache.h"

namespace gspy {

class PodWatcher {
 public:
  PodWatcher(KubeApiConfig config, PodCache* cache);
  ~PodWatcher();  // stops the thread
  void Start();

  // Whether a list has succeeded since the last error, and the last error.
  bool synced() const { return synced_; }
  std::string last_error() const;
  uint64_t errors() const { return errors_; }

 private:
  void Run();
  // One list, then watches until an error or the destructor.
  absl::Status ListAndWatch();

  const KubeApiConfig config_;
  PodCache* cache_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::atomic<uint64_t> errors_{0};
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  KubeClient* active_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace gspy

#endif  // GSPY_K8S_POD_WATCHER_H_
