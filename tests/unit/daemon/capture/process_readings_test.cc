#include "daemon/capture/process_readings.h"

#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(HistogramQuantileTest, UpperBoundOfTheBucketHoldingTheRank) {
  const std::vector<double> b = {-kInf, 0, 1e-3, 1e-2, 1e-1, kInf};
  // 100 waits: 98 under 1ms, 1 under 10ms, 1 under 100ms.
  const std::vector<uint64_t> counts = {0, 98, 1, 1, 0};
  EXPECT_DOUBLE_EQ(HistogramQuantile(counts, b, 0.5), 1e-3);
  EXPECT_DOUBLE_EQ(HistogramQuantile(counts, b, 0.99), 1e-2);
  EXPECT_DOUBLE_EQ(HistogramQuantile(counts, b, 1), 1e-1);
}

TEST(HistogramQuantileTest, OverflowBucketGivesItsLowerBound) {
  const std::vector<double> b = {-kInf, 0, 1, kInf};
  EXPECT_DOUBLE_EQ(HistogramQuantile({0, 0, 5}, b, 0.99), 1);
}

TEST(HistogramQuantileTest, EmptyOrMismatchedIsZero) {
  const std::vector<double> b = {-kInf, 0, 1, kInf};
  EXPECT_EQ(HistogramQuantile({0, 0, 0}, b, 0.99), 0);
  EXPECT_EQ(HistogramQuantile({1, 2}, b, 0.99), 0);
}

TEST(ParseStatCpuTicksTest, UserPlusSystemAfterTheCommand) {
  // A command name with spaces and parentheses, as a process may choose.
  const std::string stat =
      "1234 (my (odd) app) S 1 1234 1234 0 -1 4194560 100 0 0 0 "
      "250 50 0 0 20 0 8 0 12345 1000000 200";
  absl::StatusOr<uint64_t> t = ParseStatCpuTicks(stat);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, 300u);
}

TEST(ParseStatCpuTicksTest, GarbageIsAnError) {
  EXPECT_FALSE(ParseStatCpuTicks("").ok());
  EXPECT_FALSE(ParseStatCpuTicks("1 (x) S 1 2").ok());
  EXPECT_FALSE(ParseStatCpuTicks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ab cd 0").ok());
}

}  // namespace
}  // namespace gspy
