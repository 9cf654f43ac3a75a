#include "golang/books/time_histogram.h"

#include <cstring>
#include <limits>

#include "absl/status/status.h"

namespace gspy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Go 1.18, 1.19: timeHistSubBucketBits=4, timeHistNumSuperBuckets=45. The
// first super-bucket is linear (0..15 ns), each next one covers
// [2^(i+4), 2^(i+5)) ns in 16 steps. Values past the range land in the last
// bucket, so it reaches +Inf.
std::vector<double> OldBoundaries() {
  std::vector<double> b;
  b.push_back(-kInf);
  for (uint64_t i = 0; i < 16; ++i) b.push_back(static_cast<double>(i) / 1e9);
  for (uint64_t i = 0; i < 44; ++i) {
    for (uint64_t j = 0; j < 16; ++j) {
      b.push_back(static_cast<double>((uint64_t{1} << (i + 4)) | (j << i)) /
                  1e9);
    }
  }
  b.push_back(kInf);
  return b;
}

// Go 1.20+: timeHistMinBucketBits=9, timeHistMaxBucketBits=48,
// timeHistSubBucketBits=2. Bucket 0 is [0, 2^9) ns in 4 steps; bucket i
// covers [2^(i-1), 2^i) ns in 4 steps; overflow is [2^47 ns, +Inf).
std::vector<double> NewBoundaries() {
  std::vector<double> b;
  b.push_back(-kInf);
  for (uint64_t j = 0; j < 4; ++j) {
    b.push_back(static_cast<double>(j << 6) / 1e9);
  }
  for (uint64_t i = 9; i < 48; ++i) {
    for (uint64_t j = 0; j < 4; ++j) {
      b.push_back(
          static_cast<double>((uint64_t{1} << (i - 1)) | (j << (i - 3))) / 1e9);
    }
  }
  b.push_back(static_cast<double>(uint64_t{1} << 47) / 1e9);
  b.push_back(kInf);
  return b;
}

}  // namespace

const std::vector<double>& TimeHistogramBoundaries(int minor) {
  static const auto* old_b = new std::vector<double>(OldBoundaries());
  static const auto* new_b = new std::vector<double>(NewBoundaries());
  return minor <= 19 ? *old_b : *new_b;
}

int TimeHistogramSize(const BooksLayout& layout) {
  if (layout.time_histogram_buckets() == 0) return 0;
  return (layout.th_overflow >= 0 ? layout.th_overflow : layout.th_underflow) +
         8;
}

absl::StatusOr<std::vector<uint64_t>> TimeHistogramCounts(
    std::string_view bytes, const BooksLayout& layout) {
  const int n = layout.time_histogram_buckets();
  if (n == 0) return absl::InvalidArgumentError("no timeHistogram layout");
  if (bytes.size() < static_cast<size_t>(TimeHistogramSize(layout))) {
    return absl::InvalidArgumentError("timeHistogram bytes too short");
  }
  auto u64 = [&](int off) {
    uint64_t v;
    std::memcpy(&v, bytes.data() + off, 8);
    return v;
  };
  std::vector<uint64_t> out;
  out.reserve(n + 2);
  out.push_back(u64(layout.th_underflow));
  for (int i = 0; i < n; ++i) out.push_back(u64(layout.th_counts + 8 * i));
  if (layout.th_overflow >= 0) out.push_back(u64(layout.th_overflow));
  return out;
}

}  // namespace gspy
