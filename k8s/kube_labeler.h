// KubeLabeler: a process's Kubernetes namespace, pod, container and node,
// from its cgroup (/proc/PID/cgroup: container id and pod UID) and the pod
// cache. Outside Kubernetes, a containerized process still gets its
// container id.
#ifndef GSPY_K8S_KUBE_LABELER_H_
#define GSPY_K8S_KUBE_LABELER_H_

#include <string>

#include "k8s/pod_cache.h"
#include "golang/process/process_labels.h"

namespace gspy {

class KubeLabeler : public ProcessLabeler {
 public:
  // `pods` may be null (no API server): container ids only. `node` is this
  // node's name, added as label "node" (may be empty). `proc_root` is where
  // /proc is (tests point it elsewhere).
  KubeLabeler(const PodCache* pods, std::string node,
              std::string proc_root = "/proc")
      : pods_(pods), node_(std::move(node)), proc_root_(std::move(proc_root)) {}

  ProcessMetadata MetadataFor(int pid) const override;

 private:
  const PodCache* pods_;
  const std::string node_;
  const std::string proc_root_;
};

}  // namespace gspy

#endif  // GSPY_K8S_KUBE_LABELER_H_
