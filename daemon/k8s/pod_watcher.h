// PodWatcher: keeps a PodCache in step with the API server for the pods of
// one node: a list (fieldSelector=spec.nodeName=NODE), then a watch from the
// list's resourceVersion; on any error it backs off (1 s doubling to 30 s)
// and lists again. In-cluster credentials by default.
#ifndef GSPY_DAEMON_K8S_POD_WATCHER_H_
#define GSPY_DAEMON_K8S_POD_WATCHER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/k8s/pod_cache.h"

namespace httplib {
class Client;
}

namespace gspy {

struct KubeApiConfig {
  std::string server;      // "https://10.96.0.1:443" or "http://127.0.0.1:8080"
  std::string token_file;  // bearer token, re-read at every (re)connection
  std::string ca_file;     // CA bundle for the server's certificate
  std::string node_name;   // only this node's pods
  // Restarts a watch this often even when quiet (the server ends it too).
  int watch_timeout_seconds = 300;
};

// From the service account mounted in a pod: KUBERNETES_SERVICE_HOST/PORT,
// /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}.
// FAILED_PRECONDITION outside a cluster.
absl::StatusOr<KubeApiConfig> InClusterConfig(std::string node_name);

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
  // One list then watch until an error or Stop. Returns the error.
  absl::Status ListAndWatch();
  std::unique_ptr<httplib::Client> NewClient() const;

  const KubeApiConfig config_;
  PodCache* cache_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::atomic<uint64_t> errors_{0};
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  httplib::Client* active_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_K8S_POD_WATCHER_H_
