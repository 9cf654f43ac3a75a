// A BooksSnapshot as runtime/metrics samples: the names, kinds and values
// that the target's own metrics.Read returns, for the metrics its Go version
// has. The CLI prints them, gspyd exports them to Prometheus; both take the
// names and conversions from here.
#ifndef GSPY_GOLANG_BOOKS_BOOKS_METRICS_H_
#define GSPY_GOLANG_BOOKS_BOOKS_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "golang/books/runtime_books.h"

namespace gspy {

enum class BooksValueKind { kUint64, kFloat64, kHistogram };

struct BooksMetric {
  std::string_view name;  // "/gc/heap/goal:bytes"
  std::string_view help;  // runtime/metrics' description, shortened
  BooksValueKind kind;
  bool cumulative;  // a counter (or a histogram of events)
  BooksSeries series;
  // The value, or why not (then the others are unset).
  absl::Status status;
  uint64_t u64 = 0;
  double f64 = 0;
  BooksHistogram histogram;
};

// One entry per metric that Go 1.minor's runtime/metrics has and gspy reads,
// in a fixed order; each with its value from `snap` or the status why not.
std::vector<BooksMetric> BooksMetrics(const BooksSnapshot& snap);

// client_golang's Go collector name for a runtime/metrics name, prefixed:
// "/sched/latencies:seconds" -> "gspy_go_sched_latencies_seconds",
// "/gc/cycles/total:gc-cycles" (cumulative) ->
// "gspy_go_gc_cycles_total_gc_cycles_total".
std::string BooksPrometheusName(std::string_view runtime_name, bool counter);

}  // namespace gspy

#endif  // GSPY_GOLANG_BOOKS_BOOKS_METRICS_H_
