#include "daemon/capture/capture_rule.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;

TEST(CaptureRuleTest, ParsesEachMetricInItsUnit) {
  struct Case {
    const char* text;
    CaptureMetric metric;
    double threshold;
  } cases[] = {
      {"gc_pause>5ms", CaptureMetric::kGcPause, 5e-3},
      {"gc_pause>250us", CaptureMetric::kGcPause, 250e-6},
      {"gc_pause > 1.5s", CaptureMetric::kGcPause, 1.5},
      {"goroutines>50000", CaptureMetric::kGoroutines, 50000},
      {"goroutine_growth>100/s", CaptureMetric::kGoroutineGrowth, 100},
      {"sched_latency_p99>10ms", CaptureMetric::kSchedLatencyP99, 10e-3},
      {"cpu>80%", CaptureMetric::kCpu, 80},
      {"cpu>250%", CaptureMetric::kCpu, 250},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CaptureRule> r = ParseCaptureRule(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status();
    EXPECT_EQ(r->metric, c.metric) << c.text;
    EXPECT_DOUBLE_EQ(r->threshold, c.threshold) << c.text;
    EXPECT_EQ(r->text, c.text);
    EXPECT_EQ(r->selector.ByteSizeLong(), 0u) << c.text;
  }
}

TEST(CaptureRuleTest, ParsesSelectorParts) {
  absl::StatusOr<CaptureRule> r = ParseCaptureRule(
      "goroutines>10;exe=/srv/api;pod=shop/web-1;namespace=shop;"
      "selector=app=web,tier!=batch");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->selector.exe_paths_size(), 1);
  EXPECT_EQ(r->selector.exe_paths(0), "/srv/api");
  ASSERT_EQ(r->selector.pods_size(), 1);
  EXPECT_EQ(r->selector.pods(0), "shop/web-1");
  EXPECT_EQ(r->selector.namespace_(), "shop");
  EXPECT_EQ(r->selector.pod_label_selector(), "app=web,tier!=batch");
}

TEST(CaptureRuleTest, MistakesSayWhat) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"", "expected METRIC>VALUE"},
      {"gc_pause", "expected METRIC>VALUE"},
      {"heap>5", "unknown metric \"heap\""},
      {"gc_pause>5", "expected a duration"},
      {"gc_pause>5parsecs", "expected a duration"},
      {"gc_pause>-5ms", "expected a duration"},
      {"gc_pause>ms", "expected a duration"},
      {"goroutines>1.5", "whole number"},
      {"goroutines>1e9", "whole number"},
      {"goroutine_growth>100", "per second"},
      {"cpu>80", "percentage"},
      {"cpu>nan%", "percentage"},
      {"cpu>80%;", "empty selector part"},
      {"cpu>80%;exe", "expected exe=PATH"},
      {"cpu>80%;exe=relative/path", "absolute path"},
      {"cpu>80%;pod=noslash", "NAMESPACE/NAME"},
      {"cpu>80%;pid=12", "unknown selector key \"pid\""},
      {"cpu>80%;namespace=a;namespace=b", "given twice"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CaptureRule> r = ParseCaptureRule(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(c.says)) << c.text;
  }
  EXPECT_FALSE(ParseCaptureRule(std::string(5000, 'x')).ok());
}

TEST(CaptureRuleTest, FormatsValuesAsPeopleReadThem) {
  EXPECT_EQ(FormatCaptureValue(CaptureMetric::kGcPause, 0.0123), "12.3ms");
  EXPECT_EQ(FormatCaptureValue(CaptureMetric::kGcPause, 0.00025), "250.0us");
  EXPECT_EQ(FormatCaptureValue(CaptureMetric::kGoroutines, 51234), "51234");
  EXPECT_EQ(FormatCaptureValue(CaptureMetric::kGoroutineGrowth, 812.4),
            "812/s");
  EXPECT_EQ(FormatCaptureValue(CaptureMetric::kCpu, 93.46), "93.5%");
}

}  // namespace
}  // namespace gspy
