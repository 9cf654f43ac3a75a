// BlockMaps: what the block tracker writes to the block probes' maps,
// checked on in-memory maps (no root).
#include "daemon/sources/block/block_maps.h"

#include <vector>

#include "daemon/sources/kernel/fake_bpf_map.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

class BlockMapsTest : public ::testing::Test {
 protected:
  FakeBpfMap targets_, config_, parked_, stacks_;
  BlockMaps maps_{&targets_, &config_, &parked_, &stacks_};

  void Park(uint32_t tgid, uint64_t goid) {
    ASSERT_EQ(parked_.Put(gspy_parked_key{tgid, 0, goid}, gspy_parked{}), 0);
  }
};

TEST_F(BlockMapsTest, AddTargetWritesTheLayout) {
  RuntimeLayout layout;
  layout.g_goid = 152;
  layout.g_labels = 360;
  layout.labels_layout = LabelsLayout::kSlice;
  ASSERT_EQ(maps_.AddTarget(42, layout), 0);
  gspy_block_target t{};
  ASSERT_TRUE(targets_.Get(uint32_t{42}, &t));
  EXPECT_EQ(t.g_goid, 152u);
  EXPECT_EQ(t.g_labels, 360u);
  EXPECT_EQ(t.labels_layout, static_cast<uint32_t>(GSPY_LABELS_SLICE));
}

TEST_F(BlockMapsTest, RemoveTargetForgetsOnlyItsParkedGoroutines) {
  ASSERT_EQ(maps_.AddTarget(1, RuntimeLayout{}), 0);
  ASSERT_EQ(maps_.AddTarget(2, RuntimeLayout{}), 0);
  Park(1, 10);
  Park(1, 11);
  Park(2, 10);
  maps_.RemoveTarget(1);
  EXPECT_EQ(targets_.size(), 1u);
  EXPECT_EQ(parked_.size(), 1u);
  gspy_parked p{};
  EXPECT_TRUE(parked_.Get(gspy_parked_key{2, 0, 10}, &p));
  maps_.ClearParked();
  EXPECT_EQ(parked_.size(), 0u);
}

TEST_F(BlockMapsTest, RecordingWeighsEachWaitByTheInverseFraction) {
  maps_.SetRecording(true, 1);
  gspy_block_config c{};
  ASSERT_TRUE(config_.Get(uint32_t{0}, &c));
  EXPECT_EQ(c.recording, 1u);
  EXPECT_EQ(c.weight_milli, 1000u);
  maps_.SetRecording(false, 0.25);
  ASSERT_TRUE(config_.Get(uint32_t{0}, &c));
  EXPECT_EQ(c.recording, 0u);
  EXPECT_EQ(c.weight_milli, 4000u);
  maps_.SetRecording(true, 0.3);
  ASSERT_TRUE(config_.Get(uint32_t{0}, &c));
  EXPECT_EQ(c.weight_milli, 3333u);
}

TEST_F(BlockMapsTest, StacksEndAtTheFirstZeroFrame) {
  uint64_t frames[GSPY_MAX_USER_FRAMES] = {0x401000, 0x402000, 0x403000};
  ASSERT_EQ(stacks_.Put(uint32_t{5}, frames), 0);
  std::vector<uint64_t> got;
  ASSERT_TRUE(maps_.Stack(5, &got));
  EXPECT_EQ(got, (std::vector<uint64_t>{0x401000, 0x402000, 0x403000}));
  EXPECT_FALSE(maps_.Stack(6, &got));    // not stored
  EXPECT_FALSE(maps_.Stack(-14, &got));  // the BPF side's error
  maps_.ClearStacks();
  EXPECT_FALSE(maps_.Stack(5, &got));
}

}  // namespace
}  // namespace gspy
