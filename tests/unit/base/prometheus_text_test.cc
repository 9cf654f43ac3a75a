#include "base/prometheus_text.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;

TEST(PrometheusEscapeTest, LabelValueEscapesBackslashQuoteNewline) {
  EXPECT_EQ(EscapeLabelValue("plain /usr/bin/x"), "plain /usr/bin/x");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
  // Other bytes, UTF-8 included, are written as they are.
  EXPECT_EQ(EscapeLabelValue("tab\there \xc3\xa9"), "tab\there \xc3\xa9");
}

TEST(PrometheusEscapeTest, HelpEscapesBackslashAndNewlineOnly) {
  EXPECT_EQ(EscapeHelp("a \"quoted\" \\ text\nmore"),
            "a \"quoted\" \\\\ text\\nmore");
}

TEST(PrometheusFormatTest, Values) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(12345678901234.0), "12345678901234");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(1e-4), "0.0001");
  EXPECT_EQ(FormatMetricValue(1e-5), "1e-05");
  EXPECT_EQ(FormatMetricValue(2.5e-3), "0.0025");
  EXPECT_EQ(FormatMetricValue(1e300), "1e+300");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatMetricValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatMetricValue(0.0 / 0.0), "NaN");
  // Shortest form that reads back the same double.
  EXPECT_EQ(std::stod(FormatMetricValue(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(PrometheusNameTest, MetricAndLabelNames) {
  EXPECT_TRUE(IsValidMetricName("gspy_go_gc_cycles_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_TRUE(IsValidLabelName("go_version"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(PrometheusHistogramTest, BucketsAreLessOrEqual) {
  Histogram h({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 5.0, 6.0, 100.0}) h.Observe(v);
  EXPECT_THAT(h.bucket_counts(), ::testing::ElementsAre(2, 2, 2, 2));
  EXPECT_EQ(h.count(), 8u);
  EXPECT_DOUBLE_EQ(h.sum(), 120.0);
}

// The whole text of a counter, a gauge and a histogram, as Prometheus'
// text format 0.0.4 wants it.
TEST(WriteFamiliesTest, Golden) {
  std::vector<MetricFamily> families;
  MetricFamily counter("gspy_test_calls_total", MetricType::kCounter,
                       "Calls, by \\ path.\nSecond line.");
  counter.Add({{"method", "Get"}, {"path", "C:\\dir \"x\"\n"}}, 3);
  counter.Add({}, 1);
  families.push_back(std::move(counter));
  MetricFamily gauge("gspy_test_ratio", MetricType::kGauge, "A ratio.");
  gauge.Add({{"pid", "7"}}, 0.5);
  families.push_back(std::move(gauge));
  MetricFamily hist("gspy_test_pause_seconds", MetricType::kHistogram,
                    "Pauses.");
  Histogram h({0.001, 0.01, 0.1});
  h.Observe(0.0005);
  h.Observe(0.001);
  h.Observe(0.05);
  h.Observe(2);
  hist.AddHistogram({{"pid", "7"}}, h);
  families.push_back(std::move(hist));
  MetricFamily empty("gspy_test_empty", MetricType::kGauge, "Nothing yet.");
  families.push_back(std::move(empty));

  EXPECT_EQ(WriteFamilies(families),
            R"(# HELP gspy_test_calls_total Calls, by \\ path.\nSecond line.
# TYPE gspy_test_calls_total counter
gspy_test_calls_total{method="Get",path="C:\\dir \"x\"\n"} 3
gspy_test_calls_total 1
# HELP gspy_test_ratio A ratio.
# TYPE gspy_test_ratio gauge
gspy_test_ratio{pid="7"} 0.5
# HELP gspy_test_pause_seconds Pauses.
# TYPE gspy_test_pause_seconds histogram
gspy_test_pause_seconds_bucket{pid="7",le="0.001"} 2
gspy_test_pause_seconds_bucket{pid="7",le="0.01"} 2
gspy_test_pause_seconds_bucket{pid="7",le="0.1"} 3
gspy_test_pause_seconds_bucket{pid="7",le="+Inf"} 4
gspy_test_pause_seconds_sum{pid="7"} 2.0515
gspy_test_pause_seconds_count{pid="7"} 4
# HELP gspy_test_empty Nothing yet.
# TYPE gspy_test_empty gauge
)");
}

// Buckets are cumulative and end at +Inf with the count, whatever the
// observations.
TEST(WriteFamiliesTest, HistogramBucketsAreCumulative) {
  Histogram h({1, 2, 3, 4});
  for (int i = 0; i < 1000; ++i) h.Observe((i * 7919 % 1000) / 200.0);
  MetricFamily f("x_seconds", MetricType::kHistogram, "x");
  f.AddHistogram({}, h);
  std::vector<MetricFamily> fs;
  fs.push_back(std::move(f));
  const std::string text = WriteFamilies(fs);
  uint64_t last = 0;
  int buckets = 0;
  size_t pos = 0;
  while ((pos = text.find("x_seconds_bucket{", pos)) != std::string::npos) {
    const size_t space = text.find(' ', pos);
    const size_t nl = text.find('\n', space);
    const uint64_t v = std::stoull(text.substr(space + 1, nl - space - 1));
    EXPECT_GE(v, last);
    last = v;
    ++buckets;
    pos = nl;
  }
  EXPECT_EQ(buckets, 5);
  EXPECT_EQ(last, 1000u);
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"+Inf\"} 1000\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_count 1000\n"));
}

TEST(MetricFamilyTest, MergeKeepsBothSamples) {
  MetricFamily a("m", MetricType::kGauge, "m");
  a.Add({{"k", "a"}}, 1);
  MetricFamily b("m", MetricType::kGauge, "m");
  b.Add({{"k", "b"}}, 2);
  a.Merge(std::move(b));
  std::string text;
  a.AppendText(&text);
  EXPECT_EQ(text, "# HELP m m\n# TYPE m gauge\nm{k=\"a\"} 1\nm{k=\"b\"} 2\n");
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

// Counts kept elsewhere (a Go runtime histogram): per bucket in, cumulative
// out, the last count in +Inf, _count their total.
TEST(PrometheusTextTest, HistogramFromCounts) {
  MetricFamily f("gspy_test_lat_seconds", MetricType::kHistogram, "Lat.");
  f.AddHistogramCounts({{"pid", "7"}}, {0, 0.5}, {1, 2, 4}, 1.5);
  EXPECT_EQ(WriteFamilies({f}),
            R"(# HELP gspy_test_lat_seconds Lat.
# TYPE gspy_test_lat_seconds histogram
gspy_test_lat_seconds_bucket{pid="7",le="0"} 1
gspy_test_lat_seconds_bucket{pid="7",le="0.5"} 3
gspy_test_lat_seconds_bucket{pid="7",le="+Inf"} 7
gspy_test_lat_seconds_sum{pid="7"} 1.5
gspy_test_lat_seconds_count{pid="7"} 7
)");
}

}  // namespace
}  // namespace gspy
