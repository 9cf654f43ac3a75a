// Which container, and which Kubernetes pod, a process runs in, from its
// /proc/PID/cgroup: cgroup v1 and v2, the systemd and cgroupfs drivers, and
// the containerd, CRI-O and Docker layouts.
#ifndef GSPY_K8S_CGROUP_PARSER_H_
#define GSPY_K8S_CGROUP_PARSER_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace gspy {

struct ContainerRef {
  std::string container_id;  // 64 hex digits
  std::string runtime;       // "containerd", "cri-o", "docker", "" if unknown
  std::string pod_uid;       // dashed UID; empty outside Kubernetes
};

// Examples it recognizes (one line of /proc/PID/cgroup each):
//   0::/kubepods.slice/kubepods-burstable.slice/
//      kubepods-burstable-pod1b2c..._4d5e.slice/cri-containerd-<id>.scope
//   0::/kubepods/besteffort/pod1b2c...-4d5e/<id>            (cgroupfs driver)
//   11:memory:/kubepods/pod1b2c...-4d5e/<id>                (cgroup v1)
//   0::/system.slice/docker-<id>.scope, 0::/docker/<id>     (plain Docker)
//   .../crio-<id>.scope                                     (CRI-O)
// nullopt when the process is in no container (or one we do not know).
std::optional<ContainerRef> ParseCgroupFile(absl::string_view text);

}  // namespace gspy

#endif  // GSPY_K8S_CGROUP_PARSER_H_
