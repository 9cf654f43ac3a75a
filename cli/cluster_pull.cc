#include "cli/cluster_pull.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "profile/pprof/profile_builder.h"
#include "profile/pprof/profile_merge.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"
#include "proto/k8s/objects.pb.h"

namespace gspy {
namespace {

absl::StatusOr<k8s::PodList> ListPods(KubeClient& client, const std::string& ns,
                                      const std::string& label_selector) {
  std::string path =
      ns.empty() ? "/api/v1/pods"
                 : absl::StrCat("/api/v1/namespaces/", UrlEncode(ns), "/pods");
  if (!label_selector.empty()) {
    absl::StrAppend(&path, "?labelSelector=", UrlEncode(label_selector));
  }
  absl::StatusOr<std::string> body = client.Get(path);
  if (!body.ok()) return body.status();
  k8s::PodList list;
  if (absl::Status s = ParseKubeJson(*body, &list); !s.ok()) return s;
  return list;
}

// The nodes running the pods the selector names.
absl::StatusOr<std::set<std::string>> SelectedNodes(
    KubeClient& client, const gspy::v1::Selector& selector) {
  std::set<std::string> nodes;
  for (const std::string& p : selector.pods()) {
    const size_t slash = p.find('/');
    if (slash == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("pod \"", p, "\" is not written namespace/name"));
    }
    absl::StatusOr<std::string> body = client.Get(
        absl::StrCat("/api/v1/namespaces/", UrlEncode(p.substr(0, slash)),
                     "/pods/", UrlEncode(p.substr(slash + 1))));
    if (!body.ok()) return body.status();
    k8s::Pod pod;
    if (absl::Status s = ParseKubeJson(*body, &pod); !s.ok()) return s;
    if (pod.spec().node_name().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("pod ", p, " is not scheduled on a node yet"));
    }
    nodes.insert(pod.spec().node_name());
  }
  if (!selector.namespace_().empty() ||
      !selector.pod_label_selector().empty()) {
    absl::StatusOr<k8s::PodList> pods =
        ListPods(client, selector.namespace_(), selector.pod_label_selector());
    if (!pods.ok()) return pods.status();
    for (const k8s::Pod& pod : pods->items()) {
      if (!pod.spec().node_name().empty()) nodes.insert(pod.spec().node_name());
    }
  }
  return nodes;
}

struct Daemon {
  std::string pod;      // namespace/name of the gspy pod
  std::string address;  // host:port of its gRPC service
};

// The gspy daemon of each node, by node name.
absl::StatusOr<std::map<std::string, Daemon>> GspyDaemons(
    KubeClient& client, const ClusterOptions& options) {
  absl::StatusOr<k8s::PodList> pods =
      ListPods(client, options.gspy_namespace, options.gspy_selector);
  if (!pods.ok()) return pods.status();
  std::map<std::string, Daemon> out;
  for (const k8s::Pod& pod : pods->items()) {
    const std::string ip = !pod.status().pod_ip().empty()
                               ? pod.status().pod_ip()
                               : pod.status().host_ip();
    if (pod.spec().node_name().empty() || ip.empty()) continue;
    int port = 0;
    for (const k8s::Container& c : pod.spec().containers()) {
      for (const k8s::ContainerPort& p : c.ports()) {
        if (p.name() == options.port_name) port = p.container_port();
      }
    }
    if (port == 0) continue;
    const std::string host =
        ip.find(':') != std::string::npos ? absl::StrCat("[", ip, "]") : ip;
    out[pod.spec().node_name()] = {
        absl::StrCat(pod.metadata().namespace_(), "/", pod.metadata().name()),
        absl::StrCat(host, ":", port)};
  }
  return out;
}

}  // namespace

absl::StatusOr<gspy::v1::GetProfileResponse> ClusterPull(
    const ClusterOptions& options, const gspy::v1::GetProfileRequest& request,
    absl::Duration timeout) {
  const gspy::v1::Selector& selector = request.selector();
  if (!selector.pids().empty() || !selector.exe_paths().empty()) {
    return absl::InvalidArgumentError(
        "a cluster-wide pull selects pods (--pod, --namespace, --selector): "
        "pids and executables only mean something on one node");
  }
  if (selector.pods().empty() && selector.namespace_().empty() &&
      selector.pod_label_selector().empty()) {
    return absl::InvalidArgumentError(
        "a cluster-wide pull needs --pod, --namespace or --selector");
  }
  KubeClient client(options.api);
  absl::StatusOr<std::set<std::string>> nodes = SelectedNodes(client, selector);
  if (!nodes.ok()) return nodes.status();
  if (nodes->empty()) {
    return absl::NotFoundError("no scheduled pod matches the selector");
  }
  absl::StatusOr<std::map<std::string, Daemon>> daemons =
      GspyDaemons(client, options);
  if (!daemons.ok()) return daemons.status();

  struct NodePull {
    std::string node;
    Daemon daemon;
    grpc::Status status;
    gspy::v1::GetProfileResponse response;
  };
  std::vector<NodePull> pulls;
  gspy::v1::GetProfileResponse merged;
  for (const std::string& node : *nodes) {
    auto it = daemons->find(node);
    if (it == daemons->end()) {
      merged.add_warnings(
          absl::StrCat("node ", node, " runs selected pods but no gspy pod (",
                       options.gspy_namespace, ", ", options.gspy_selector,
                       ", port \"", options.port_name, "\"): not profiled"));
      continue;
    }
    pulls.push_back({node, it->second, grpc::Status::OK, {}});
  }
  if (pulls.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no gspy pod runs on the nodes of the selected pods (",
                     absl::StrJoin(*nodes, ", "), ")"));
  }
  std::vector<std::thread> threads;
  threads.reserve(pulls.size());
  for (NodePull& p : pulls) {
    threads.emplace_back([&p, &request, &options, timeout] {
      auto stub = gspy::v1::Profiler::NewStub(
          options.dial != nullptr
              ? options.dial(p.daemon.address)
              : grpc::CreateChannel(p.daemon.address,
                                    grpc::InsecureChannelCredentials()));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoSeconds(timeout));
      p.status = stub->GetProfile(&ctx, request, &p.response);
    });
  }
  for (std::thread& t : threads) t.join();

  std::vector<perftools::profiles::Profile> profiles;
  const NodePull* first_failure = nullptr;
  double ratio = 1;
  for (const NodePull& p : pulls) {
    const std::string where = absl::StrCat("node ", p.node, " (", p.daemon.pod,
                                           " at ", p.daemon.address, ")");
    if (!p.status.ok()) {
      if (first_failure == nullptr) first_failure = &p;
      merged.add_warnings(absl::StrCat(
          where, ": ",
          absl::StatusCodeToString(
              static_cast<absl::StatusCode>(p.status.error_code())),
          ": ", p.status.error_message()));
      continue;
    }
    for (const std::string& w : p.response.warnings()) {
      merged.add_warnings(absl::StrCat(where, ": ", w));
    }
    absl::StatusOr<perftools::profiles::Profile> profile =
        DecodeProfile(p.response.pprof());
    if (!profile.ok()) {
      merged.add_warnings(absl::StrCat(where, ": its profile does not decode: ",
                                       profile.status().message()));
      continue;
    }
    profiles.push_back(*std::move(profile));
    merged.set_samples(merged.samples() + p.response.samples());
    merged.set_lost_samples(merged.lost_samples() + p.response.lost_samples());
    if (p.response.sampling_ratio() > 0) {
      ratio = std::min(ratio, p.response.sampling_ratio());
    }
    // Sampled on some node: the slowest sweep rate is the one to state.
    merged.set_sample_interval_nanos(std::max(
        merged.sample_interval_nanos(), p.response.sample_interval_nanos()));
  }
  if (profiles.empty()) {
    if (first_failure != nullptr) {
      return absl::Status(
          static_cast<absl::StatusCode>(first_failure->status.error_code()),
          absl::StrCat("every node failed; node ", first_failure->node, ": ",
                       first_failure->status.error_message()));
    }
    return absl::UnknownError("no node returned a profile");
  }
  absl::StatusOr<perftools::profiles::Profile> one = MergeProfiles(profiles);
  if (!one.ok()) return one.status();
  merged.set_pprof(GzipCompress(one->SerializeAsString()));
  merged.set_sampling_ratio(ratio);
  return merged;
}

}  // namespace gspy
