#include "daemon/export/metrics/runtime_histogram.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace gspy {
namespace {

// Bounds shaped like Go's time histograms (go1.20+): underflow below 0,
// then four sub-buckets per power of two nanoseconds from 2^9 to 2^48, in
// seconds as runtime/metrics computes them, then +Inf.
std::vector<double> GoTimeBounds() {
  std::vector<double> b = {-std::numeric_limits<double>::infinity(), 0};
  for (int e = 9; e < 48; ++e) {
    for (int sub = 0; sub < 4; ++sub) {
      const uint64_t ns = (uint64_t{1} << e) + sub * (uint64_t{1} << (e - 2));
      b.push_back(static_cast<double>(ns) / 1e9);
    }
  }
  b.push_back(std::numeric_limits<double>::infinity());
  return b;
}

TEST(RuntimeHistogramTest, CoarseSecondsKeepOneGoBoundPerDoubling) {
  const std::vector<double> b = GoTimeBounds();
  const std::vector<double> upper(b.begin() + 1, b.end() - 1);
  const std::vector<size_t> kept =
      KeptUpperBounds(upper, "seconds", HistogramBuckets::kCoarse);
  ASSERT_EQ(kept.size(), 25u) << "2^10 to 2^34 ns";
  EXPECT_EQ(upper[kept.front()], 1024 / 1e9);
  EXPECT_EQ(upper[kept.back()], static_cast<double>(uint64_t{1} << 34) / 1e9);
  for (size_t i = 1; i < kept.size(); ++i) {
    EXPECT_DOUBLE_EQ(upper[kept[i]] / upper[kept[i - 1]], 2);
  }
  EXPECT_EQ(KeptUpperBounds(upper, "seconds", HistogramBuckets::kGo).size(),
            upper.size());
}

TEST(RuntimeHistogramTest, CoarseBytesArePowersOfTwo) {
  // Size classes (the first few of /gc/heap/allocs-by-size:bytes).
  const std::vector<double> upper = {8.5,  16.5, 24.5,  32.5,  48.5,
                                     64.5, 80.5, 128.5, 256.5, 257.5};
  const std::vector<size_t> kept =
      KeptUpperBounds(upper, "bytes", HistogramBuckets::kCoarse);
  std::vector<double> got;
  for (size_t k : kept) got.push_back(upper[k]);
  EXPECT_EQ(got, (std::vector<double>{8.5, 16.5, 32.5, 64.5, 128.5, 256.5}));
  EXPECT_EQ(KeptUpperBounds(upper, "objects", HistogramBuckets::kCoarse).size(),
            upper.size())
      << "other units are kept whole";
}

// Each cumulative count at a kept bound equals Go's own at that bound, and
// nothing is lost: +Inf holds every observation.
TEST(RuntimeHistogramTest, CountsStayExactAtEachKeptBound) {
  const std::vector<double> b = GoTimeBounds();
  BooksHistogram h;
  h.boundaries = &b;
  h.counts.resize(b.size() - 1);
  for (size_t i = 0; i < h.counts.size(); ++i) h.counts[i] = (i * 37) % 11;
  MetricFamily coarse("c_seconds", MetricType::kHistogram, "c");
  AddRuntimeHistogram(&coarse, {}, h, "seconds", HistogramBuckets::kCoarse);
  const std::string text = WriteFamilies({coarse});
  uint64_t total = 0;
  for (uint64_t c : h.counts) total += c;
  // Go's cumulative count at 2^20 ns: every bucket whose upper bound is at
  // or below it.
  const double bound = static_cast<double>(uint64_t{1} << 20) / 1e9;
  uint64_t below = 0;
  for (size_t i = 0; i < h.counts.size() && b[i + 1] <= bound; ++i) {
    below += h.counts[i];
  }
  EXPECT_NE(text.find("c_seconds_bucket{le=\"+Inf\"} " + std::to_string(total) +
                      "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("c_seconds_bucket{le=\"0.001048576\"} " +
                      std::to_string(below) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("c_seconds_count " + std::to_string(total) + "\n"),
            std::string::npos);
  size_t buckets = 0;
  for (size_t at = 0; (at = text.find("_bucket{", at)) != std::string::npos;
       ++at) {
    ++buckets;
  }
  EXPECT_EQ(buckets, 26u) << "25 bounds and +Inf";
}

TEST(RuntimeHistogramTest, FlagValues) {
  HistogramBuckets b = HistogramBuckets::kCoarse;
  std::string error;
  EXPECT_TRUE(AbslParseFlag("go", &b, &error));
  EXPECT_EQ(b, HistogramBuckets::kGo);
  EXPECT_EQ(AbslUnparseFlag(b), "go");
  EXPECT_FALSE(AbslParseFlag("fine", &b, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace gspy
