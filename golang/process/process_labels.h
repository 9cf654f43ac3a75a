// Where a process runs, as labels: the Kubernetes namespace, pod, container
// and node (k8s), added to every profile of the process, and the pod's
// own labels, which selectors match. An interface, so process discovery does
// not depend on how the metadata is found.
#ifndef GSPY_GOLANG_PROCESS_PROCESS_LABELS_H_
#define GSPY_GOLANG_PROCESS_PROCESS_LABELS_H_

#include <string>
#include <utility>
#include <vector>

namespace gspy {

using LabelList = std::vector<std::pair<std::string, std::string>>;

struct ProcessMetadata {
  LabelList labels;      // e.g. {namespace, shop}, {pod, checkout-7d9f}, ...
  LabelList pod_labels;  // the pod's metadata.labels, e.g. {app, checkout}
};

class ProcessLabeler {
 public:
  virtual ~ProcessLabeler() = default;
  // Thread-safe. Empty when nothing is known of pid.
  virtual ProcessMetadata MetadataFor(int pid) const = 0;
};

}  // namespace gspy

#endif  // GSPY_GOLANG_PROCESS_PROCESS_LABELS_H_
