// The runtime's timeHistogram (sched.timeToRun, the stop-the-world
// histograms, memstats.gcPauseDist) and the Float64Histogram that
// runtime/metrics.Read makes of it: the same counts, in the same order, with
// boundaries in seconds that follow from the Go version's bucket geometry.
#ifndef GSPY_GOLANG_BOOKS_TIME_HISTOGRAM_H_
#define GSPY_GOLANG_BOOKS_TIME_HISTOGRAM_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/books_layout.h"

namespace gspy {

// metrics.Read's Buckets for Go 1.minor: -Inf first, +Inf last, one more
// than there are counts. 722 boundaries up to 1.19, 163 from 1.20.
const std::vector<double>& TimeHistogramBoundaries(int minor);

// The counts of the timeHistogram whose bytes are `bytes` (a copy of the
// struct), in metrics.Read's order: underflow, counts[0..n), and overflow
// where the version has it (1.20+). INVALID_ARGUMENT when `bytes` is too
// short for the layout or the layout has no timeHistogram.
absl::StatusOr<std::vector<uint64_t>> TimeHistogramCounts(
    std::string_view bytes, const BooksLayout& layout);

// Bytes of one timeHistogram: the counts, underflow and overflow.
int TimeHistogramSize(const BooksLayout& layout);

}  // namespace gspy

#endif  // GSPY_GOLANG_BOOKS_TIME_HISTOGRAM_H_
