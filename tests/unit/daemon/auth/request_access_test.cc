#include "daemon/auth/request_access.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

std::vector<std::string> Describe(const gspy::v1::Selector& s) {
  std::vector<std::string> out;
  for (const k8s::ResourceAttributes& a : SelectorAccess(s, "node-1")) {
    out.push_back(DescribeAccess(a));
  }
  return out;
}

TEST(SelectorAccess, PodsNeedPodsProfileInTheirNamespaces) {
  gspy::v1::Selector s;
  s.add_pods("shop/checkout-1");
  s.add_pods("shop/checkout-2");
  s.add_pods("bank/ledger-0");
  EXPECT_EQ(Describe(s),
            (std::vector<std::string>{
                "get pods/profile (gspy.dev) in namespace \"shop\"",
                "get pods/profile (gspy.dev) in namespace \"bank\"",
            }));
}

TEST(SelectorAccess, NamespaceAndLabelSelector) {
  gspy::v1::Selector s;
  s.set_namespace_("shop");
  s.set_pod_label_selector("app=checkout");
  EXPECT_EQ(Describe(s),
            (std::vector<std::string>{
                "get pods/profile (gspy.dev) in namespace \"shop\""}));
  // Labels over every namespace: access in all of them.
  s.clear_namespace_();
  EXPECT_EQ(Describe(s), (std::vector<std::string>{
                             "get pods/profile (gspy.dev) in all namespaces"}));
}

TEST(SelectorAccess, PidsExecutablesAndNothingAreNodeWide) {
  const std::string node = "get nodes/profile (gspy.dev) on node \"node-1\"";
  gspy::v1::Selector empty;
  EXPECT_EQ(Describe(empty), std::vector<std::string>{node});
  gspy::v1::Selector pid;
  pid.add_pids(42);
  EXPECT_EQ(Describe(pid), std::vector<std::string>{node});
  gspy::v1::Selector exe;
  exe.add_exe_paths("/usr/bin/app");
  EXPECT_EQ(Describe(exe), std::vector<std::string>{node});
  // A pod does not narrow a request that also names pids.
  gspy::v1::Selector mixed;
  mixed.add_pods("shop/checkout-1");
  mixed.add_pids(42);
  EXPECT_EQ(Describe(mixed), std::vector<std::string>{node});
}

TEST(SelectorAccess, MalformedPodNeedsAllNamespaces) {
  gspy::v1::Selector s;
  s.add_pods("no-namespace");
  EXPECT_EQ(Describe(s), (std::vector<std::string>{
                             "get pods/profile (gspy.dev) in all namespaces"}));
}

TEST(SelectorAccess, AttributesAreWhatTheChartGrants) {
  const k8s::ResourceAttributes pod = PodProfileAccess("shop");
  EXPECT_EQ(pod.verb(), "get");
  EXPECT_EQ(pod.group(), "gspy.dev");
  EXPECT_EQ(pod.resource(), "pods");
  EXPECT_EQ(pod.subresource(), "profile");
  EXPECT_EQ(pod.namespace_(), "shop");
  const k8s::ResourceAttributes node = NodeProfileAccess("n");
  EXPECT_EQ(node.resource(), "nodes");
  EXPECT_EQ(node.name(), "n");
  EXPECT_TRUE(node.namespace_().empty());
  const k8s::ResourceAttributes metrics = NodeMetricsAccess("n");
  EXPECT_EQ(metrics.group(), "");
  EXPECT_EQ(metrics.subresource(), "metrics");
}

}  // namespace
}  // namespace gspy
