#include "daemon/service/request_checks.h"

#include <unistd.h>

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

TEST(RequestChecksTest, PidsMustBePositive) {
  gspy::v1::Selector selector;
  selector.add_pids(1);
  EXPECT_TRUE(CheckPids(selector).ok());
  selector.add_pids(0);
  EXPECT_TRUE(absl::IsInvalidArgument(CheckPids(selector)));
}

TEST(RequestChecksTest, ResolveNamesTheBadPid) {
  BinaryCache cache;
  ProcessTable table(&cache);
  gspy::v1::Selector gone;
  gone.add_pids(0x7ffffff0);
  absl::Status s = ResolveSelector(table, gone, "profile").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  // This test binary is C++, not Go.
  gspy::v1::Selector self;
  self.add_pids(getpid());
  s = ResolveSelector(table, self, "profile").status();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("not a Go binary"), absl::string_view::npos) << s;
}

TEST(RequestChecksTest, AnExeNothingRunsIsNotFound) {
  BinaryCache cache;
  ProcessTable table(&cache);
  gspy::v1::Selector selector;
  selector.add_exe_paths("/nonexistent/gspy-test-binary");
  absl::Status s = ResolveSelector(table, selector, "watch").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find("/nonexistent/gspy-test-binary"),
            absl::string_view::npos);
  EXPECT_TRUE(
      NewSelectorMatches(table, selector, [](int) { return false; }).empty());
}

}  // namespace
}  // namespace gspy
