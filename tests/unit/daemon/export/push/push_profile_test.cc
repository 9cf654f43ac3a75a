#include "daemon/export/push/push_profile.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>

#include "daemon/export/push/exporter.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

GoProcess Process() {
  GoProcess p;
  p.pid = 4242;
  p.exe_path = "/usr/local/bin/checkout";
  p.comm = "checkout";
  return p;
}

TEST(PushLabelsTest, NameServicePidExeAndMetadataSorted) {
  ProcessMetadata md;
  md.labels = {{"namespace", "shop"}, {"pod", "checkout-7d9f"}};
  PushLabelOptions o;
  o.static_labels = {{"cluster", "prod"}};
  const LabelList got = PushLabels(Process(), md, o);
  const LabelList want = {{"__name__", "process_cpu"},
                          {"cluster", "prod"},
                          {"exe", "/usr/local/bin/checkout"},
                          {"namespace", "shop"},
                          {"pid", "4242"},
                          {"pod", "checkout-7d9f"},
                          {"service_name", "checkout"}};
  EXPECT_EQ(got, want);
}

TEST(PushLabelsTest, OverridesAndPrecedence) {
  ProcessMetadata md;
  md.labels = {{"cluster", "from-metadata"}, {"pid", "spoofed"},
               {"app.kubernetes.io/name", "x"}};
  PushLabelOptions o;
  o.service_name = "shop/checkout";
  o.static_labels = {{"cluster", "static"}};
  const LabelList got = PushLabels(Process(), md, o);
  auto value = [&](const std::string& k) {
    for (const auto& [name, v] : got) {
      if (name == k) return v;
    }
    return std::string("<none>");
  };
  EXPECT_EQ(value("service_name"), "shop/checkout");
  EXPECT_EQ(value("cluster"), "from-metadata");
  EXPECT_EQ(value("pid"), "4242");
  // Names the backends would reject are made valid.
  EXPECT_EQ(value("app_kubernetes_io_name"), "x");
  std::set<std::string> names;
  for (const auto& [k, v] : got) EXPECT_TRUE(names.insert(k).second) << k;
}

TEST(ServiceNameOfTest, ExeNameWithoutBinaryOrDeleted) {
  GoProcess p = Process();
  EXPECT_EQ(ServiceNameOf(p), "checkout");
  p.exe_path = "/tmp/server (deleted)";
  EXPECT_EQ(ServiceNameOf(p), "server");
  p.exe_path = "";
  EXPECT_EQ(ServiceNameOf(p), "checkout");  // comm
}

TEST(NewProfileIdTest, UuidV4AndDistinct) {
  const std::regex uuid(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewProfileId();
    EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ParseEndpointUrlTest, SchemesAndPorts) {
  auto p = ParseEndpointUrl("https://pyroscope.example:4040");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->target, "pyroscope.example:4040");
  EXPECT_TRUE(p->tls);
  p = ParseEndpointUrl("http://127.0.0.1:4040/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->target, "127.0.0.1:4040");
  EXPECT_FALSE(p->tls);
  p = ParseEndpointUrl("parca.example:7070");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->tls);
  p = ParseEndpointUrl("https://grpc.example");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->target, "grpc.example:443");
  p = ParseEndpointUrl("http://[::1]");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->target, "[::1]:80");
  EXPECT_FALSE(ParseEndpointUrl("ftp://x:1").ok());
  EXPECT_FALSE(ParseEndpointUrl("https://x:1/pyroscope").ok());
  EXPECT_FALSE(ParseEndpointUrl("").ok());
}

TEST(BearerTokenTest, ReadAgainWhenTheFileChanges) {
  char dir[] = "/tmp/gspy-token-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/token";
  std::ofstream(path) << "first\n";
  BearerToken token(path);
  EXPECT_EQ(*token.Get(), "first");
  // A Secret update: a new file renamed over the old one.
  std::ofstream(path + ".new") << "second-token";
  ASSERT_EQ(rename((path + ".new").c_str(), path.c_str()), 0);
  EXPECT_EQ(*token.Get(), "second-token");
  unlink(path.c_str());
  EXPECT_FALSE(token.Get().ok());
  rmdir(dir);
}

}  // namespace
}  // namespace gspy
