#include "daemon/api/request_checks.h"

#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(RequestChecksTest, DurationMustBePositiveAndAtMostTheMaximum) {
  const absl::Duration max = absl::Minutes(5);
  EXPECT_EQ(*CheckDuration(10, 500'000'000, max), absl::Milliseconds(10500));
  EXPECT_TRUE(CheckDuration(300, 0, max).ok());
  for (auto [s, n] :
       {std::pair<int64_t, int32_t>{0, 0}, {-1, 0}, {300, 1}, {100000, 0}}) {
    absl::StatusOr<absl::Duration> d = CheckDuration(s, n, max);
    EXPECT_TRUE(absl::IsInvalidArgument(d.status())) << s << "s " << n << "ns";
  }
}

}  // namespace
}  // namespace gspy
