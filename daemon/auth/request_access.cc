#include "daemon/auth/request_access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

k8s::ResourceAttributes Get(const char* group, const char* resource,
                            const char* subresource) {
  k8s::ResourceAttributes a;
  a.set_verb("get");
  a.set_group(group);
  a.set_resource(resource);
  a.set_subresource(subresource);
  return a;
}

}  // namespace

k8s::ResourceAttributes NodeProfileAccess(const std::string& node) {
  k8s::ResourceAttributes a = Get(kAccessGroup, "nodes", "profile");
  a.set_name(node);
  return a;
}

k8s::ResourceAttributes NodeMetricsAccess(const std::string& node) {
  k8s::ResourceAttributes a = Get("", "nodes", "metrics");
  a.set_name(node);
  return a;
}

k8s::ResourceAttributes PodProfileAccess(const std::string& ns) {
  k8s::ResourceAttributes a = Get(kAccessGroup, "pods", "profile");
  a.set_namespace_(ns);
  return a;
}

std::vector<k8s::ResourceAttributes> SelectorAccess(
    const gspy::v1::Selector& selector, const std::string& node) {
  const bool pod_part = !selector.pods().empty() ||
                        !selector.namespace_().empty() ||
                        !selector.pod_label_selector().empty();
  if (!pod_part || !selector.pids().empty() || !selector.exe_paths().empty()) {
    return {NodeProfileAccess(node)};
  }
  std::vector<std::string> namespaces;
  auto add = [&namespaces](const std::string& ns) {
    if (std::find(namespaces.begin(), namespaces.end(), ns) ==
        namespaces.end()) {
      namespaces.push_back(ns);
    }
  };
  for (const std::string& pod : selector.pods()) {
    // "namespace/name"; a malformed one is refused later by the selector's
    // parser, and meanwhile needs access in all namespaces.
    const size_t slash = pod.find('/');
    add(slash == std::string::npos || slash == 0 ? "" : pod.substr(0, slash));
  }
  // A namespace, or a label selector over all namespaces ("").
  if (!selector.namespace_().empty() ||
      !selector.pod_label_selector().empty()) {
    add(selector.namespace_());
  }
  std::vector<k8s::ResourceAttributes> out;
  out.reserve(namespaces.size());
  for (const std::string& ns : namespaces) out.push_back(PodProfileAccess(ns));
  return out;
}

std::string DescribeAccess(const k8s::ResourceAttributes& a) {
  std::string out = absl::StrCat(a.verb(), " ", a.resource());
  if (!a.subresource().empty()) absl::StrAppend(&out, "/", a.subresource());
  if (!a.group().empty()) absl::StrAppend(&out, " (", a.group(), ")");
  if (a.resource() == "nodes") {
    absl::StrAppend(&out, " on node \"", a.name(), "\"");
  } else if (a.namespace_().empty()) {
    absl::StrAppend(&out, " in all namespaces");
  } else {
    absl::StrAppend(&out, " in namespace \"", a.namespace_(), "\"");
  }
  return out;
}

}  // namespace gspy
