// What a gspy request needs to be allowed, as Kubernetes resource attributes
// for a SubjectAccessReview. One place defines gspy's access model; the
// chart's ClusterRoles grant exactly these:
//   - pulls and dumps of pods (a Selector naming pods, a namespace or a pod
//     label selector): get pods/profile in API group gspy.dev, in each
//     namespace named (no namespace: in all namespaces);
//   - everything else reaches any process of the node (pids, executables,
//     an empty selector, the target list): get nodes/profile in gspy.dev,
//     named after the node;
//   - /metrics: get nodes/metrics (core group), as the kubelet's.
// gspy.dev rather than the core group: these are not API server resources,
// and a future core subresource of the same name must not grant them.
#ifndef GSPY_DAEMON_AUTH_REQUEST_ACCESS_H_
#define GSPY_DAEMON_AUTH_REQUEST_ACCESS_H_

#include <string>
#include <vector>

#include "proto/gspy/v1/profiler.pb.h"
#include "proto/k8s/objects.pb.h"

namespace gspy {

inline constexpr char kAccessGroup[] = "gspy.dev";

// get nodes/profile (gspy.dev) on `node`.
k8s::ResourceAttributes NodeProfileAccess(const std::string& node);
// get nodes/metrics (core) on `node`.
k8s::ResourceAttributes NodeMetricsAccess(const std::string& node);
// get pods/profile (gspy.dev) in `ns` ("" = all namespaces).
k8s::ResourceAttributes PodProfileAccess(const std::string& ns);

// The checks a request for `selector` on `node` needs, each once: all must
// allow it. Decided from the request alone, before any process is looked up,
// so a refusal says nothing about the processes.
std::vector<k8s::ResourceAttributes> SelectorAccess(
    const gspy::v1::Selector& selector, const std::string& node);

// For messages: `get pods/profile (gspy.dev) in namespace "b"`,
// `get nodes/profile (gspy.dev) on node "n1"`.
std::string DescribeAccess(const k8s::ResourceAttributes& a);

}  // namespace gspy

#endif  // GSPY_DAEMON_AUTH_REQUEST_ACCESS_H_
