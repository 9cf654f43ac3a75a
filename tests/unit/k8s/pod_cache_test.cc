#include "k8s/pod_cache.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "k8s/kube_labeler.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr char kId[] =
    "3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a";

// A pod as the API server writes it (trimmed), unknown fields included.
std::string PodJson(const std::string& uid, const std::string& name) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"shop","uid":")" +
         uid +
         R"(","resourceVersion":"42","labels":{"app":"checkout","tier":"web"},
  "creationTimestamp":"2026-11-23T05:00:00Z","ownerReferences":[{"kind":"ReplicaSet"}]},
  "spec":{"nodeName":"node-a","containers":[{"name":"app","image":"x"}]},
  "status":{"phase":"Running","containerStatuses":[{"name":"app","containerID":"containerd://)" +
         std::string(kId) + R"(","ready":true}]}})";
}

template <typename M>
M Parse(const std::string& json) {
  M m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &m, o).ok())
      << json;
  return m;
}

TEST(PodCacheTest, ListThenWatchEvents) {
  PodCache cache;
  cache.Replace(Parse<k8s::PodList>(
      R"({"kind":"PodList","metadata":{"resourceVersion":"41"},"items":[)" +
      PodJson("uid-1", "checkout-1") + "]}"));
  std::optional<PodInfo> pod = cache.ByUid("uid-1");
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(pod->name, "checkout-1");
  EXPECT_EQ(pod->namespace_name, "shop");
  EXPECT_EQ(pod->node, "node-a");
  EXPECT_EQ(pod->containers.at(kId), "app");
  EXPECT_EQ(pod->labels, (LabelList{{"app", "checkout"}, {"tier", "web"}}));

  cache.Apply(Parse<k8s::WatchEvent>(R"({"type":"ADDED","object":)" +
                                     PodJson("uid-2", "checkout-2") + "}"));
  EXPECT_EQ(cache.size(), 2u);
  cache.Apply(Parse<k8s::WatchEvent>(R"({"type":"DELETED","object":)" +
                                     PodJson("uid-1", "checkout-1") + "}"));
  EXPECT_FALSE(cache.ByUid("uid-1").has_value());
  // An ERROR event carries a Status, which parses as an empty pod: ignored.
  cache.Apply(Parse<k8s::WatchEvent>(
      R"({"type":"ERROR","object":{"kind":"Status","code":410}})"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(KubeLabelerTest, LabelsFromTheCgroupAndThePod) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() /
      ("gspy-k8s-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(root / "100");
  std::filesystem::create_directories(root / "200");
  std::ofstream(root / "100" / "cgroup")
      << "0::/kubepods.slice/kubepods-pod1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d"
         ".slice/cri-containerd-"
      << kId << ".scope\n";
  std::ofstream(root / "200" / "cgroup") << "0::/user.slice/session-1.scope\n";

  PodCache cache;
  cache.Apply(Parse<k8s::WatchEvent>(
      R"({"type":"ADDED","object":)" +
      PodJson("1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d", "checkout-1") + "}"));
  KubeLabeler labeler(&cache, "this-node", root.string());
  ProcessMetadata m = labeler.MetadataFor(100);
  EXPECT_EQ(m.labels, (LabelList{{"namespace", "shop"},
                                 {"pod", "checkout-1"},
                                 {"container", "app"},
                                 {"container_id", std::string(kId, 12)},
                                 {"node", "node-a"}}));
  EXPECT_EQ(m.pod_labels, (LabelList{{"app", "checkout"}, {"tier", "web"}}));
  // Not in a container: only the node. Gone: nothing.
  EXPECT_EQ(labeler.MetadataFor(200).labels,
            (LabelList{{"node", "this-node"}}));
  EXPECT_TRUE(
      KubeLabeler(&cache, "", root.string()).MetadataFor(300).labels.empty());
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace gspy
