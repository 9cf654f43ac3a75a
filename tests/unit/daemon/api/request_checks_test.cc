#include "daemon/api/request_checks.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

google::protobuf::Duration ProtoDuration(int64_t seconds, int32_t nanos) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  d.set_nanos(nanos);
  return d;
}

TEST(RequestChecksTest, DurationMustBePositiveAndAtMostTheMaximum) {
  const absl::Duration max = absl::Minutes(5);
  EXPECT_EQ(*CheckDuration(ProtoDuration(10, 500'000'000), max),
            absl::Milliseconds(10500));
  EXPECT_EQ(*CheckDuration(ProtoDuration(0, 1), max), absl::Nanoseconds(1));
  EXPECT_TRUE(CheckDuration(ProtoDuration(300, 0), max).ok());
  for (auto [s, n] : {std::pair<int64_t, int32_t>{0, 0},
                      {-1, 0},
                      {0, -5},
                      {300, 1},
                      {100000, 0}}) {
    absl::StatusOr<absl::Duration> d = CheckDuration(ProtoDuration(s, n), max);
    EXPECT_TRUE(absl::IsInvalidArgument(d.status())) << s << "s " << n << "ns";
  }
  // Unset: zero.
  EXPECT_TRUE(absl::IsInvalidArgument(
      CheckDuration(google::protobuf::Duration(), max).status()));
}

TEST(RequestChecksTest, DurationMustBeAValidProtoDuration) {
  const absl::Duration max = absl::Minutes(5);
  // 1s + 1.5s would be a valid 2.5s to a lenient reader; not to the spec.
  for (auto [s, n] : {std::pair<int64_t, int32_t>{1, 1'500'000'000},
                      {2, -1},
                      {-2, 1},
                      {0, 1'000'000'000}}) {
    absl::StatusOr<absl::Duration> d = CheckDuration(ProtoDuration(s, n), max);
    EXPECT_TRUE(absl::IsInvalidArgument(d.status())) << s << "s " << n << "ns";
    EXPECT_TRUE(absl::StrContains(d.status().message(), "not a valid"))
        << d.status();
  }
}

}  // namespace
}  // namespace gspy
