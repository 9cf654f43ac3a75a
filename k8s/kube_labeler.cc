#include "k8s/kube_labeler.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "k8s/cgroup_parser.h"

namespace gspy {

ProcessMetadata KubeLabeler::MetadataFor(int pid) const {
  ProcessMetadata out;
  std::ifstream in(absl::StrCat(proc_root_, "/", pid, "/cgroup"));
  std::stringstream text;
  text << in.rdbuf();
  std::optional<ContainerRef> ref = ParseCgroupFile(text.str());
  if (!ref.has_value()) {
    if (!node_.empty()) out.labels.emplace_back("node", node_);
    return out;
  }
  std::optional<PodInfo> pod;
  if (pods_ != nullptr && !ref->pod_uid.empty()) {
    pod = pods_->ByUid(ref->pod_uid);
  }
  if (pod.has_value()) {
    out.labels.emplace_back("namespace", pod->namespace_name);
    out.labels.emplace_back("pod", pod->name);
    auto c = pod->containers.find(ref->container_id);
    if (c != pod->containers.end()) {
      out.labels.emplace_back("container", c->second);
    }
    out.pod_labels = pod->labels;
  }
  out.labels.emplace_back("container_id", ref->container_id.substr(0, 12));
  const std::string& node =
      pod.has_value() && !pod->node.empty() ? pod->node : node_;
  if (!node.empty()) out.labels.emplace_back("node", node);
  return out;
}

}  // namespace gspy
