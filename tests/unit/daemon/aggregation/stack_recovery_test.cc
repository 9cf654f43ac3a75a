#include "daemon/aggregation/stack_recovery.h"

#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy {
namespace {

using testing::FakeGoBinary;

FakeGoBinary Binary() {
  return FakeGoBinary({{"main.leaf", 0x1000, 0x1100, 0, ""},
                       {"main.framed", 0x2000, 0x2100, 24, ""},
                       {"main.caller", 0x3000, 0x3100, 40, ""},
                       {"main.main", 0x4000, 0x4100, 40, ""}});
}

TEST(StackRecoveryTest, InsertsTheCallerOfAFramelessLeaf) {
  FakeGoBinary bin = Binary();
  // The FP walk skipped main.caller: it went from the leaf to main.main.
  std::vector<uint64_t> got =
      RecoverUserStack({0x1010, 0x4020}, /*sp_word=*/0x3050, bin, 0);
  EXPECT_EQ(got, (std::vector<uint64_t>{0x1010, 0x3050, 0x4020}));
}

TEST(StackRecoveryTest, KeepsTheWalkWhenTheLeafHasAFrame) {
  FakeGoBinary bin = Binary();
  std::vector<uint64_t> got =
      RecoverUserStack({0x2010, 0x3050, 0x4020}, 0xdead, bin, 0);
  EXPECT_EQ(got, (std::vector<uint64_t>{0x2010, 0x3050, 0x4020}));
}

TEST(StackRecoveryTest, IgnoresAWordThatIsNotAReturnAddressIntoGo) {
  FakeGoBinary bin = Binary();
  std::vector<uint64_t> got =
      RecoverUserStack({0x1010, 0x4020}, 0x9999, bin, 0);
  EXPECT_EQ(got, (std::vector<uint64_t>{0x1010, 0x4020}));
}

TEST(StackRecoveryTest, DoesNotDuplicateACallerAlreadyThere) {
  FakeGoBinary bin = Binary();
  std::vector<uint64_t> got =
      RecoverUserStack({0x1010, 0x3050, 0x4020}, 0x3050, bin, 0);
  EXPECT_EQ(got, (std::vector<uint64_t>{0x1010, 0x3050, 0x4020}));
}

TEST(StackRecoveryTest, AppliesTheLoadBias) {
  FakeGoBinary bin = Binary();
  const uint64_t bias = 0x555500000000;
  std::vector<uint64_t> got = RecoverUserStack({bias + 0x1010, bias + 0x4020},
                                               bias + 0x3050, bin, bias);
  EXPECT_EQ(got, (std::vector<uint64_t>{bias + 0x1010, bias + 0x3050,
                                        bias + 0x4020}));
}

}  // namespace
}  // namespace gspy
