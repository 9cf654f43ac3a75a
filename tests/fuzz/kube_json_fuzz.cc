// libFuzzer target for the API server's JSON as the pod watcher consumes it:
// ParseKubeJson into a PodList (the list), a WatchEvent (each line of the
// watch stream), then PodCache::Replace / Apply and lookups, as
// k8s/pod_watcher.cc does; and the TokenReview and SubjectAccessReview
// answers gspyd's authentication reads (k8s/access_review.cc). Seeds:
// corpus/kube_json/ (a PodList, watch events and reviews as the API server
// sends them).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "k8s/kube_client.h"
#include "k8s/pod_cache.h"
#include "proto/k8s/objects.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  gspy::PodCache cache;
  gspy::k8s::PodList list;
  if (gspy::ParseKubeJson(json, &list).ok()) {
    cache.Replace(list);
    for (const gspy::k8s::Pod& pod : list.items()) {
      std::optional<gspy::PodInfo> info = cache.ByUid(pod.metadata().uid());
      if (pod.metadata().uid().empty()) continue;
      if (!info.has_value()) __builtin_trap();
    }
  }
  gspy::k8s::WatchEvent event;
  if (gspy::ParseKubeJson(json, &event).ok()) {
    cache.Apply(event);
    cache.ByUid(event.object().metadata().uid());
  }
  gspy::k8s::Pod pod;
  (void)gspy::ParseKubeJson(json, &pod);
  gspy::k8s::TokenReview token_review;
  if (gspy::ParseKubeJson(json, &token_review).ok()) {
    // What KubeAuth keys and copies: the user, groups and extra values.
    for (const auto& [key, values] : token_review.status().user().extra()) {
      for (const auto& v : values.values()) (void)v.string_value();
    }
  }
  gspy::k8s::SubjectAccessReview access_review;
  (void)gspy::ParseKubeJson(json, &access_review);
  return 0;
}
