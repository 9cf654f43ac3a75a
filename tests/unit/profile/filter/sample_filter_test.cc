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
}  // namespace gspy
