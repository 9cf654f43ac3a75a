// Cluster-wide pulls: the gspy CLI finds, through the Kubernetes API server,
// the nodes that run the selected pods and the gspy daemon pod on each, pulls
// the profile from each daemon at once and merges the results into one.
#ifndef GSPY_CLI_CLUSTER_PULL_H_
#define GSPY_CLI_CLUSTER_PULL_H_

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k8s/kube_client.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

struct ClusterOptions {
  KubeApiConfig api;
  // Where the gspy DaemonSet's pods are, and the container port to use.
  std::string gspy_namespace = "gspy";
  std::string gspy_selector = "app.kubernetes.io/name=gspy";
  std::string port_name = "grpc";
  // A channel to one node's gspyd at HOST:PORT (TLS, credentials); null:
  // plaintext.
  std::function<std::shared_ptr<grpc::Channel>(const std::string& address)>
      dial;
};

// `request`'s selector must name pods (--pod, --namespace, --selector) and no
// pids or executables, which only mean something on one node. The response
// holds the merged profile; warnings name the node they come from. Errors:
// INVALID_ARGUMENT (selector), NOT_FOUND (no pod matches, or no gspy pod on
// their nodes), the API server's error, or the first node's error when every
// node failed.
absl::StatusOr<gspy::v1::GetProfileResponse> ClusterPull(
    const ClusterOptions& options, const gspy::v1::GetProfileRequest& request,
    absl::Duration timeout);

}  // namespace gspy

#endif  // GSPY_CLI_CLUSTER_PULL_H_
