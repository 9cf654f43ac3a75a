// SampledPids: the CPU sampler's per-pid references and what they write to
// the BPF targets map, checked on an in-memory map (no root).
#include "daemon/sources/cpu/sampled_pids.h"

#include "daemon/sources/kernel/fake_bpf_map.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

gspy_target_config Config(bool kernel) {
  gspy_target_config c{};
  c.g_goid = 152;
  c.want_kernel_stack = kernel ? 1 : 0;
  return c;
}

gspy_target_config Written(const FakeBpfMap& map, uint32_t pid) {
  gspy_target_config c{};
  EXPECT_TRUE(map.Get(pid, &c)) << "pid " << pid << " not in the map";
  return c;
}

TEST(SampledPidsTest, LastHolderRemovesThePid) {
  FakeBpfMap map;
  SampledPids pids(&map);
  ASSERT_TRUE(pids.Acquire(7, Config(false)).ok());
  ASSERT_TRUE(pids.Acquire(7, Config(false)).ok());
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(Written(map, 7).g_goid, 152u);
  pids.Release(7, false);
  EXPECT_EQ(map.size(), 1u);
  pids.Release(7, false);
  EXPECT_EQ(map.size(), 0u);
  EXPECT_TRUE(pids.empty());
}

TEST(SampledPidsTest, KernelStacksAreOredAcrossHolders) {
  FakeBpfMap map;
  SampledPids pids(&map);
  ASSERT_TRUE(pids.Acquire(7, Config(false)).ok());
  EXPECT_EQ(Written(map, 7).want_kernel_stack, 0u);
  ASSERT_TRUE(pids.Acquire(7, Config(true)).ok());
  EXPECT_EQ(Written(map, 7).want_kernel_stack, 1u);
  // A third holder without kernel stacks does not turn them off.
  ASSERT_TRUE(pids.Acquire(7, Config(false)).ok());
  EXPECT_EQ(Written(map, 7).want_kernel_stack, 1u);
  // The kernel-stack holder leaves: the others did not want them.
  pids.Release(7, true);
  EXPECT_EQ(Written(map, 7).want_kernel_stack, 0u);
}

TEST(SampledPidsTest, FullMapLeavesNoHolder) {
  FakeBpfMap map(/*capacity=*/1);
  SampledPids pids(&map);
  ASSERT_TRUE(pids.Acquire(1, Config(false)).ok());
  absl::Status s = pids.Acquire(2, Config(false));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pids.size(), 1u);
  pids.Release(2, false);  // no holder: nothing happens
  EXPECT_EQ(map.size(), 1u);
}

}  // namespace
}  // namespace gspy
