#include "k8s/cgroup_parser.h"

#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr char kId[] =
    "3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a";
constexpr char kUid[] = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
constexpr char kUidUnderscores[] = "1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d";

TEST(CgroupParserTest, CgroupV2SystemdContainerd) {
  const std::string text = std::string(
                               "0::/kubepods.slice/kubepods-burstable.slice/"
                               "kubepods-burstable-pod") +
                           kUidUnderscores + ".slice/cri-containerd-" + kId +
                           ".scope\n";
  std::optional<ContainerRef> ref = ParseCgroupFile(text);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->container_id, kId);
  EXPECT_EQ(ref->runtime, "containerd");
  EXPECT_EQ(ref->pod_uid, kUid);
}

TEST(CgroupParserTest, CgroupV2SystemdCrioGuaranteedPod) {
  const std::string text = std::string("0::/kubepods.slice/kubepods-pod") +
                           kUidUnderscores + ".slice/crio-" + kId + ".scope\n";
  std::optional<ContainerRef> ref = ParseCgroupFile(text);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->runtime, "cri-o");
  EXPECT_EQ(ref->pod_uid, kUid);
}

TEST(CgroupParserTest, CgroupfsDriverAndCgroupV1) {
  const std::string v1 =
      std::string("12:pids:/kubepods/besteffort/pod") + kUid + "/" + kId +
      "\n11:memory:/kubepods/besteffort/pod" + kUid + "/" + kId +
      "\n1:name=systemd:/kubepods/besteffort/pod" + kUid + "/" + kId + "\n";
  std::optional<ContainerRef> ref = ParseCgroupFile(v1);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->container_id, kId);
  EXPECT_EQ(ref->pod_uid, kUid);
  EXPECT_EQ(ref->runtime, "");
}

TEST(CgroupParserTest, PlainDockerHasNoPod) {
  for (const std::string& text :
       {std::string("0::/system.slice/docker-") + kId + ".scope\n",
        std::string("0::/docker/") + kId + "\n"}) {
    std::optional<ContainerRef> ref = ParseCgroupFile(text);
    ASSERT_TRUE(ref.has_value()) << text;
    EXPECT_EQ(ref->container_id, kId);
    EXPECT_EQ(ref->runtime, "docker");
    EXPECT_EQ(ref->pod_uid, "");
  }
}

TEST(CgroupParserTest, NotInAContainer) {
  EXPECT_FALSE(ParseCgroupFile("0::/user.slice/user-0.slice/session-1.scope\n")
                   .has_value());
  EXPECT_FALSE(ParseCgroupFile("0::/\n").has_value());
  EXPECT_FALSE(ParseCgroupFile("").has_value());
  EXPECT_FALSE(ParseCgroupFile("garbage without colons").has_value());
  // A conmon scope of CRI-O is not the container.
  EXPECT_FALSE(ParseCgroupFile(std::string("0::/kubepods.slice/crio-conmon-") +
                               kId + ".scope\n")
                   .has_value());
  // Upper-case hex is not a runtime's container id.
  std::string upper(kId);
  upper[0] = 'F';
  EXPECT_FALSE(ParseCgroupFile("0::/docker/" + upper + "\n").has_value());
}

}  // namespace
}  // namespace gspy
