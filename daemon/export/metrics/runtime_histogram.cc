#include "daemon/export/metrics/runtime_histogram.h"

#include <cmath>
#include <utility>

namespace gspy {
namespace {

// Coarse bounds for seconds: powers of two nanoseconds in [2^10, 2^34].
constexpr double kMinSeconds = 1024e-9;
constexpr double kMaxSeconds = 17179869184e-9;
// Go computes its bounds in float64, not always bit-equal to ours: a bound
// within this relative distance below a power of two counts as reaching it.
constexpr double kTolerance = 1e-9;

}  // namespace

bool AbslParseFlag(absl::string_view text, HistogramBuckets* buckets,
                   std::string* error) {
  if (text == "coarse") {
    *buckets = HistogramBuckets::kCoarse;
  } else if (text == "go") {
    *buckets = HistogramBuckets::kGo;
  } else {
    *error = "want coarse or go";
    return false;
  }
  return true;
}

std::string AbslUnparseFlag(HistogramBuckets buckets) {
  return buckets == HistogramBuckets::kGo ? "go" : "coarse";
}

std::vector<size_t> KeptUpperBounds(const std::vector<double>& upper,
                                    std::string_view unit,
                                    HistogramBuckets buckets) {
  std::vector<size_t> kept;
  const bool seconds = unit == "seconds";
  if (buckets == HistogramBuckets::kGo || !(seconds || unit == "bytes")) {
    for (size_t i = 0; i < upper.size(); ++i) kept.push_back(i);
    return kept;
  }
  double target = seconds ? kMinSeconds : 1;
  for (size_t i = 0; i < upper.size(); ++i) {
    const double b = upper[i];
    if (!std::isfinite(b) || b < target * (1 - kTolerance)) continue;
    if (seconds && b > kMaxSeconds * (1 + kTolerance)) break;
    kept.push_back(i);
    while (target * (1 - kTolerance) <= b) target *= 2;
  }
  return kept;
}

void AddRuntimeHistogram(MetricFamily* family, MetricLabels labels,
                         const BooksHistogram& h, std::string_view unit,
                         HistogramBuckets buckets) {
  const std::vector<double>& b = *h.boundaries;
  const size_t n = h.counts.size();
  if (n == 0 || b.size() < n) return;  // not a histogram the books make
  double sum = 0;
  for (size_t i = 1; i < n; ++i) {
    sum += static_cast<double>(h.counts[i]) * b[i];
  }
  // Runtime bucket i's upper bound is b[i+1], at all[i]; it lands in the
  // first kept bound at or above it, past the last one in +Inf.
  const std::vector<double> all(b.begin() + 1, b.begin() + n);
  const std::vector<size_t> kept = KeptUpperBounds(all, unit, buckets);
  std::vector<double> upper;
  std::vector<uint64_t> counts(kept.size() + 1, 0);
  upper.reserve(kept.size());
  for (size_t k : kept) upper.push_back(all[k]);
  size_t j = 0;
  for (size_t i = 0; i < n; ++i) {
    while (j < kept.size() && kept[j] < i) ++j;
    counts[j] += h.counts[i];
  }
  family->AddHistogramCounts(std::move(labels), std::move(upper),
                             std::move(counts), sum);
}

}  // namespace gspy
