// Selectors parsed once: pids, executables, pods; resolved to Go processes.
#include "daemon/targets/target_selector.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "daemon/targets/pod_selector.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(TargetSelectorTest, PidsMustBePositiveAndAreKeptOnce) {
  gspy::v1::Selector selector;
  selector.add_pids(1);
  selector.add_pids(1);
  selector.add_pids(2);
  absl::StatusOr<TargetSelector> parsed = TargetSelector::Parse(selector);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->pids(), (std::vector<int>{1, 2}));
  EXPECT_TRUE(parsed->pids_only());
  EXPECT_FALSE(parsed->all());
  selector.add_pids(0);
  EXPECT_TRUE(
      absl::IsInvalidArgument(TargetSelector::Parse(selector).status()));
}

TEST(TargetSelectorTest, ResolveNamesTheBadPid) {
  BinaryCache cache;
  ProcessTable table(&cache);
  gspy::v1::Selector gone;
  gone.add_pids(0x7ffffff0);
  absl::Status s =
      TargetSelector::Parse(gone)->Resolve(table, "profile").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  // This test binary is C++, not Go.
  gspy::v1::Selector self;
  self.add_pids(getpid());
  s = TargetSelector::Parse(self)->Resolve(table, "profile").status();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("not a Go process"), absl::string_view::npos) << s;
  // The client may not be allowed to see the process: nothing about it, not
  // even its executable, is in the message (gspyd's log has it).
  char exe[4096] = {};
  ASSERT_GT(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
  EXPECT_EQ(s.message().find(exe), absl::string_view::npos) << s;
  EXPECT_EQ(s.message().find("target_selector_test"), absl::string_view::npos)
      << s;
}

TEST(TargetSelectorTest, AnExeNothingRunsIsNotFound) {
  BinaryCache cache;
  ProcessTable table(&cache);
  gspy::v1::Selector selector;
  selector.add_exe_paths("/nonexistent/gspy-test-binary");
  absl::StatusOr<TargetSelector> parsed = TargetSelector::Parse(selector);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->all());
  EXPECT_FALSE(parsed->pids_only());
  absl::Status s = parsed->Resolve(table, "watch").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find("/nonexistent/gspy-test-binary"),
            absl::string_view::npos);
  EXPECT_TRUE(parsed->NewMatches(table, [](int) { return false; }).empty());
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

ProcessMetadata InPod(const std::string& ns, const std::string& pod,
                      LabelList pod_labels) {
  return {{{"namespace", ns}, {"pod", pod}}, std::move(pod_labels)};
}

TEST(PodSelectorTest, PodsByNameAndByNamespaceAndLabels) {
  gspy::v1::Selector s;
  s.add_pods("shop/checkout-1");
  absl::StatusOr<PodSelector> by_name = PodSelector::Parse(s);
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_TRUE(by_name->Matches(InPod("shop", "checkout-1", {})));
  EXPECT_FALSE(by_name->Matches(InPod("shop", "checkout-2", {})));
  EXPECT_FALSE(by_name->Matches(InPod("other", "checkout-1", {})));
  EXPECT_FALSE(by_name->Matches({}));  // not in a pod

  gspy::v1::Selector l;
  l.set_namespace_("shop");
  l.set_pod_label_selector("app=checkout, tier!=batch,canary,!debug");
  absl::StatusOr<PodSelector> by_labels = PodSelector::Parse(l);
  ASSERT_TRUE(by_labels.ok()) << by_labels.status();
  EXPECT_TRUE(by_labels->Matches(
      InPod("shop", "a", {{"app", "checkout"}, {"canary", ""}})));
  EXPECT_TRUE(by_labels->Matches(InPod(
      "shop", "a", {{"app", "checkout"}, {"canary", "1"}, {"tier", "web"}})));
  EXPECT_FALSE(by_labels->Matches(InPod(
      "shop", "a", {{"app", "checkout"}, {"tier", "batch"}, {"canary", ""}})));
  EXPECT_FALSE(by_labels->Matches(InPod("shop", "a", {{"app", "checkout"}})));
  EXPECT_FALSE(by_labels->Matches(InPod(
      "shop", "a", {{"app", "checkout"}, {"canary", ""}, {"debug", ""}})));
  EXPECT_FALSE(by_labels->Matches(
      InPod("prod", "a", {{"app", "checkout"}, {"canary", ""}})));
  EXPECT_EQ(by_labels->Describe(),
            "namespace shop, pods app=checkout, tier!=batch,canary,!debug");
}

TEST(PodSelectorTest, BadInputIsInvalidArgument) {
  for (const std::string& pod : {"checkout", "/x", "shop/", "a/b/c"}) {
    gspy::v1::Selector s;
    s.add_pods(pod);
    EXPECT_TRUE(absl::IsInvalidArgument(TargetSelector::Parse(s).status()))
        << pod;
  }
  for (const std::string& sel : {"=x", "a b=c", "!", "app=x,,=y"}) {
    gspy::v1::Selector s;
    s.set_pod_label_selector(sel);
    EXPECT_TRUE(absl::IsInvalidArgument(TargetSelector::Parse(s).status()))
        << sel;
  }
  gspy::v1::Selector empty;
  EXPECT_TRUE(PodSelector::Parse(empty)->empty());
  EXPECT_FALSE(TargetSelector::Parse(empty)->pids_only());
  EXPECT_TRUE(TargetSelector::Parse(empty)->all());
}

}  // namespace
}  // namespace gspy
