// A Go runtime histogram (runtime/metrics' Float64Histogram, read from the
// process's books) as a Prometheus histogram.
//
// Go's own boundaries are fine-grained: 160 buckets for each time histogram
// (four per doubling, from 1 ns to hours), about 70 for the size classes.
// With the scheduler and pause histograms that is about 1000 series per
// process, too many to watch every process of every node. The coarse
// buckets (the default) keep a subset of Go's own boundaries: for seconds,
// one per doubling from about 1 us to about 17 s (2^10 to 2^34 ns), the rest
// in +Inf; for bytes, one per power of two, as Prometheus' client_golang
// re-buckets them. Because the bounds kept are Go's, each cumulative count
// equals runtime/metrics' at that bound exactly: coarser, never approximate.
#ifndef GSPY_DAEMON_EXPORT_METRICS_RUNTIME_HISTOGRAM_H_
#define GSPY_DAEMON_EXPORT_METRICS_RUNTIME_HISTOGRAM_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/prometheus_text.h"
#include "golang/books/runtime_books.h"

namespace gspy {

enum class HistogramBuckets { kCoarse, kGo };

// As a flag value: "coarse" or "go" (absl flags' extension points).
bool AbslParseFlag(absl::string_view text, HistogramBuckets* buckets,
                   std::string* error);
std::string AbslUnparseFlag(HistogramBuckets buckets);

// Which of Go's upper bounds stay, as indices into `upper`: the runtime
// buckets' upper bounds but the last (whose bucket goes to +Inf), in
// ascending order. `unit` is the metric name's unit ("seconds", "bytes");
// other units keep every bound.
std::vector<size_t> KeptUpperBounds(const std::vector<double>& upper,
                                    std::string_view unit,
                                    HistogramBuckets buckets);

// Adds `h` to `family` under `labels`. The runtime keeps no sum: _sum adds
// each bucket's lower bound (0 for underflow), a lower estimate, computed
// from Go's own buckets whatever the re-bucketing.
void AddRuntimeHistogram(MetricFamily* family, MetricLabels labels,
                         const BooksHistogram& h, std::string_view unit,
                         HistogramBuckets buckets);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_RUNTIME_HISTOGRAM_H_
