#include "profile/filter/sample_filter.h"

#include <gtest/gtest.h>

namespace gspy {
namespace {

struct Subject {
  std::vector<std::pair<std::string, std::string>> labels;
  std::string status, reason;
  std::vector<absl::string_view> functions;
  FilterSubject view() const { return {labels, status, reason, functions}; }
};

bool Match(absl::string_view filter, const Subject& s) {
  absl::StatusOr<SampleFilter> f = SampleFilter::Parse(filter);
  EXPECT_TRUE(f.ok()) << filter << ": " << f.status();
  return f.ok() && f->Matches(s.view());
}

const Subject kCheckoutWaiting{{{"handler", "checkout"}, {"pod", "shop-1"}},
                               "waiting",
                               "chan receive",
                               {"runtime.gopark", "runtime.chanrecv1",
                                "net/http.(*conn).serve", "main.checkout"}};

TEST(SampleFilterTest, TheIssuesExampleAndEachField) {
  EXPECT_TRUE(
      Match(R"(label:handler=checkout status:waiting stack:~net/http\.)",
            kCheckoutWaiting));
  EXPECT_FALSE(Match("label:handler=search", kCheckoutWaiting));
  EXPECT_TRUE(Match("label:handler!=search", kCheckoutWaiting));
  EXPECT_FALSE(Match("label:handler!=checkout", kCheckoutWaiting));
  EXPECT_TRUE(Match("label:missing!=x", kCheckoutWaiting));
  EXPECT_TRUE(Match("label:handler=~^check", kCheckoutWaiting));
  EXPECT_TRUE(Match("label:pod", kCheckoutWaiting));
  EXPECT_FALSE(Match("label:tenant", kCheckoutWaiting));
  EXPECT_FALSE(Match("status:running", kCheckoutWaiting));
  EXPECT_TRUE(Match(R"(reason:"chan receive")", kCheckoutWaiting));
  EXPECT_TRUE(Match("reason:~^chan", kCheckoutWaiting));
  EXPECT_FALSE(Match("reason:select", kCheckoutWaiting));
  EXPECT_TRUE(Match("stack:main.checkout", kCheckoutWaiting));
  EXPECT_FALSE(Match("stack:main.check", kCheckoutWaiting));  // exact
  EXPECT_TRUE(Match("stack:~main\\.check", kCheckoutWaiting));
  EXPECT_TRUE(Match("-stack:~^runtime\\.mallocgc$", kCheckoutWaiting));
  EXPECT_FALSE(Match("-label:handler=checkout", kCheckoutWaiting));
  EXPECT_TRUE(Match("", kCheckoutWaiting));
  EXPECT_TRUE(Match("   ", kCheckoutWaiting));
}

TEST(SampleFilterTest, BadFiltersSayWhy) {
  for (absl::string_view bad :
       {"handler=checkout", "label:", "label:=x", "color:red", "stack:~(",
        "reason:\"chan receive", "status:"}) {
    absl::StatusOr<SampleFilter> f = SampleFilter::Parse(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(f.status())) << bad;
  }
  absl::StatusOr<SampleFilter> f = SampleFilter::Parse("stack:~(");
  EXPECT_NE(f.status().message().find("RE2"), absl::string_view::npos)
      << f.status();
}

TEST(SampleFilterTest, LabelKeysOfLabelTermsOnly) {
  absl::StatusOr<SampleFilter> f = SampleFilter::Parse(
      "label:user=alice -label:tenant stack:~x status:waiting");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->label_keys(), (std::vector<std::string>{"user", "tenant"}));
  EXPECT_TRUE(SampleFilter::Parse("stack:~x")->label_keys().empty());
}

TEST(SampleFilterTest, UsesStackOnlyWithAStackTerm) {
  EXPECT_FALSE(SampleFilter::Parse("label:a=b status:x")->uses_stack());
  EXPECT_TRUE(SampleFilter::Parse("-stack:x")->uses_stack());
}

}  // namespace
// A filter comes from any client: its terms and its RE2 memory are bounded,
// and the refusal says which limit (before any pattern is compiled, for the
// terms).
TEST(SampleFilterTest, LimitsOnTermsAndRegexMemory) {
  FilterLimits limits;
  limits.max_terms = 3;
  limits.max_regex_bytes = 1 << 20;
  FilterLimitHit hit = FilterLimitHit::kNone;
  absl::StatusOr<SampleFilter> f =
      SampleFilter::Parse("stack:~a stack:~b stack:~c", limits, &hit);
  EXPECT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(hit, FilterLimitHit::kNone);

  f = SampleFilter::Parse("stack:~a stack:~b stack:~c stack:~(", limits, &hit);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(hit, FilterLimitHit::kTerms);
  EXPECT_NE(f.status().message().find("--max-filter-terms=3"),
            absl::string_view::npos)
      << f.status();

  // One large Unicode pattern fits in 1 MiB alone, not in a third of it.
  const std::string big = R"(stack:~\pL{20})";
  f = SampleFilter::Parse(big, limits, &hit);
  EXPECT_TRUE(f.ok()) << f.status();
  f = SampleFilter::Parse(big + " " + big + " " + big, limits, &hit);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kResourceExhausted)
      << f.status();
  EXPECT_EQ(hit, FilterLimitHit::kRegexMemory);
  EXPECT_NE(f.status().message().find("--max-filter-regex-memory"),
            absl::string_view::npos)
      << f.status();

  // A bad pattern is still INVALID_ARGUMENT, not a limit.
  f = SampleFilter::Parse("stack:~(", limits, &hit);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hit, FilterLimitHit::kNone);
}

}  // namespace gspy
