#include "daemon/api/admission.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/api/request_checks.h"
#include "tests/unit/daemon/api/refused_count.h"

namespace gspy {
namespace {

using testing::Refused;

TEST(AdmissionTest, PullsInAllAndPerClient) {
  AdmissionLimits limits;
  limits.max_concurrent_pulls = 3;
  limits.max_concurrent_pulls_per_client = 2;
  Admission a(limits);
  std::vector<Admission::PullSlot> held;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Admission::PullSlot> s = a.AdmitPull("alice");
    ASSERT_TRUE(s.ok()) << s.status();
    held.push_back(*std::move(s));
  }
  absl::StatusOr<Admission::PullSlot> third = a.AdmitPull("alice");
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(
      third.status().message().find("--max-concurrent-pulls-per-client=2"),
      absl::string_view::npos)
      << third.status();
  {
    absl::StatusOr<Admission::PullSlot> bob = a.AdmitPull("bob");
    ASSERT_TRUE(bob.ok()) << bob.status();
    absl::StatusOr<Admission::PullSlot> carol = a.AdmitPull("carol");
    EXPECT_EQ(carol.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(carol.status().message().find("--max-concurrent-pulls=3"),
              absl::string_view::npos)
        << carol.status();
  }
  // Bob's slot went with its scope: carol gets in now, and alice once one
  // of hers ends.
  EXPECT_TRUE(a.AdmitPull("carol").ok());
  held.pop_back();
  EXPECT_TRUE(a.AdmitPull("alice").ok());
  EXPECT_EQ(Refused(a, "client_concurrent_pulls"), 1);
  EXPECT_EQ(Refused(a, "concurrent_pulls"), 1);
  EXPECT_EQ(Refused(a, "pids"), 0);
}

TEST(AdmissionTest, PidsAreCountedAfterDeduplication) {
  AdmissionLimits limits;
  limits.max_pids_per_request = 3;
  Admission a(limits);
  gspy::v1::Selector repeated;
  for (int i = 0; i < 100000; ++i) repeated.add_pids(1 + i % 3);
  absl::StatusOr<TargetSelector> s = ParseSelector(repeated, a);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->pids().size(), 3u);
  gspy::v1::Selector four;
  for (int pid : {1, 2, 3, 4}) four.add_pids(pid);
  s = ParseSelector(four, a);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("--max-pids-per-request=3"),
            absl::string_view::npos)
      << s.status();
  EXPECT_EQ(Refused(a, "pids"), 1);
}

TEST(AdmissionTest, FilterLimitsAreCountedByReason) {
  AdmissionLimits limits;
  limits.max_filter_terms = 2;
  Admission a(limits);
  EXPECT_TRUE(ParseFilter("stack:~a stack:~b", a).ok());
  EXPECT_EQ(ParseFilter("stack:~a stack:~b stack:~c", a).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ParseFilter("stack:~(", a).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Refused(a, "filter_terms"), 1);
  EXPECT_EQ(Refused(a, "filter_regex_memory"), 0);
}

}  // namespace
}  // namespace gspy
