#include "base/prometheus_text.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;

std::string Text(MetricFamily f) {
  std::vector<MetricFamily> fs;
  fs.push_back(std::move(f));
  return WriteFamilies(std::move(fs));
}

// One gauge sample's text, to see how a value is written.
std::string ValueText(double value) {
  MetricFamily f("v", MetricType::kGauge, "v");
  f.Add({}, value);
  const std::string text = Text(std::move(f));
  const std::string prefix = "# HELP v v\n# TYPE v gauge\nv ";
  EXPECT_EQ(text.substr(0, prefix.size()), prefix);
  return text.substr(prefix.size(), text.size() - prefix.size() - 1);
}

TEST(PrometheusEscapeTest, LabelValueEscapesBackslashQuoteNewline) {
  MetricFamily f("m", MetricType::kGauge, "m");
  f.Add({{"plain", "/usr/bin/x"},
         {"backslash", "a\\b"},
         {"quote", "say \"hi\""},
         {"newline", "two\nlines"},
         // Other bytes, UTF-8 included, are written as they are.
         {"other", "tab\there \xc3\xa9"}},
        1);
  EXPECT_THAT(Text(std::move(f)),
              HasSubstr("m{plain=\"/usr/bin/x\",backslash=\"a\\\\b\","
                        "quote=\"say \\\"hi\\\"\",newline=\"two\\nlines\","
                        "other=\"tab\there \xc3\xa9\"} 1\n"));
}

TEST(PrometheusEscapeTest, HelpEscapesBackslashAndNewlineOnly) {
  EXPECT_EQ(EscapeHelp("a \"quoted\" \\ text\nmore"),
            "a \"quoted\" \\\\ text\\nmore");
}

TEST(PrometheusFormatTest, Values) {
  EXPECT_EQ(ValueText(0), "0");
  EXPECT_EQ(ValueText(42), "42");
  EXPECT_EQ(ValueText(-3), "-3");
  EXPECT_EQ(ValueText(12345678901234.0), "12345678901234");
  EXPECT_EQ(ValueText(0.25), "0.25");
  EXPECT_EQ(ValueText(1e-4), "0.0001");
  EXPECT_EQ(ValueText(1e-5), "1e-05");
  EXPECT_EQ(ValueText(2.5e-3), "0.0025");
  EXPECT_EQ(ValueText(1e300), "1e+300");
  EXPECT_EQ(ValueText(1.0 / 0.0), "+Inf");
  EXPECT_EQ(ValueText(-1.0 / 0.0), "-Inf");
  // prometheus-cpp spells it "Nan"; Prometheus parses floats with Go's
  // strconv.ParseFloat, which takes any case.
  EXPECT_EQ(ValueText(0.0 / 0.0), "Nan");
  // 16 significant digits: close enough for any sample, exact for bucket
  // bounds people write (0.1 stays 0.1, not 0.10000000000000001).
  EXPECT_EQ(ValueText(0.1), "0.1");
  EXPECT_DOUBLE_EQ(std::stod(ValueText(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(PrometheusHistogramTest, BucketsAreLessOrEqual) {
  Histogram h({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 5.0, 6.0, 100.0}) h.Observe(v);
  EXPECT_THAT(h.bucket_counts(), ::testing::ElementsAre(2, 2, 2, 2));
  EXPECT_EQ(h.count(), 8u);
  EXPECT_DOUBLE_EQ(h.sum(), 120.0);
}

// The whole text of a counter, a gauge and a histogram, as Prometheus'
// text format 0.0.4 wants it (prometheus-cpp writes a histogram's _count
// and _sum before its buckets; the order within a group is free).
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
gspy_test_pause_seconds_count{pid="7"} 4
gspy_test_pause_seconds_sum{pid="7"} 2.0515
gspy_test_pause_seconds_bucket{pid="7",le="0.001"} 2
gspy_test_pause_seconds_bucket{pid="7",le="0.01"} 2
gspy_test_pause_seconds_bucket{pid="7",le="0.1"} 3
gspy_test_pause_seconds_bucket{pid="7",le="+Inf"} 4
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
  const std::string text = Text(std::move(f));
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
  EXPECT_EQ(Text(std::move(a)),
            "# HELP m m\n# TYPE m gauge\nm{k=\"a\"} 1\nm{k=\"b\"} 2\n");
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
gspy_test_lat_seconds_count{pid="7"} 7
gspy_test_lat_seconds_sum{pid="7"} 1.5
gspy_test_lat_seconds_bucket{pid="7",le="0"} 1
gspy_test_lat_seconds_bucket{pid="7",le="0.5"} 3
gspy_test_lat_seconds_bucket{pid="7",le="+Inf"} 7
)");
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

// Drops the "tenant" label, as gspyd's --drop-labels does.
void DropTenant(MetricLabels* labels) {
  std::erase_if(*labels, [](const auto& l) { return l.first == "tenant"; });
}

// Two series told apart only by a dropped label become one, summed, never
// two equal series (which Prometheus refuses as a duplicate).
TEST(MetricFamilyTest, RewriteSumsSeriesThatBecomeEqual) {
  MetricFamily f("gspy_test_total", MetricType::kCounter, "T.");
  f.Add({{"pod", "p"}, {"tenant", "acme"}}, 2);
  f.Add({{"pod", "p"}, {"tenant", "initech"}}, 3);
  f.Add({{"pod", "q"}, {"tenant", "acme"}}, 5);
  f.RewriteLabels(DropTenant);
  EXPECT_EQ(WriteFamilies({f}),
            R"(# HELP gspy_test_total T.
# TYPE gspy_test_total counter
gspy_test_total{pod="p"} 5
gspy_test_total{pod="q"} 5
)");
}

TEST(MetricFamilyTest, RewriteSumsHistogramsBucketByBucket) {
  MetricFamily f("gspy_test_seconds", MetricType::kHistogram, "S.");
  f.AddHistogramCounts({{"tenant", "a"}}, {0.5}, {1, 2}, 1.25);
  f.AddHistogramCounts({{"tenant", "b"}}, {0.5}, {4, 8}, 2.5);
  f.RewriteLabels(DropTenant);
  EXPECT_EQ(WriteFamilies({f}),
            R"(# HELP gspy_test_seconds S.
# TYPE gspy_test_seconds histogram
gspy_test_seconds_count 15
gspy_test_seconds_sum 3.75
gspy_test_seconds_bucket{le="0.5"} 5
gspy_test_seconds_bucket{le="+Inf"} 15
)");
}

// Label sets that would look alike if joined naively stay apart.
TEST(MetricFamilyTest, RewriteKeepsDistinctSeries) {
  MetricFamily f("gspy_test", MetricType::kGauge, "G.");
  f.Add({{"a", "x"}, {"b", "y"}}, 1);
  f.Add({{"a", "xb"}, {"b", ""}}, 2);
  f.Add({{"a", std::string("x\0b", 3)}, {"b", "y"}}, 4);
  f.RewriteLabels([](MetricLabels*) {});
  const std::string text = WriteFamilies({f});
  EXPECT_THAT(text, HasSubstr("} 1\n"));
  EXPECT_THAT(text, HasSubstr("} 2\n"));
  EXPECT_THAT(text, HasSubstr("} 4\n"));
}

}  // namespace
}  // namespace gspy
