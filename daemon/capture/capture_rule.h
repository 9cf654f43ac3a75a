// CaptureRule: one operator rule of --capture-rule, such as
// "gc_pause>5ms;exe=/srv/api": a metric read from outside the process, a
// threshold, and which processes it watches (the selector of the other
// requests). Parsed once at start; the text is outside input, so every
// mistake is an INVALID_ARGUMENT that says what and where.
//
//   RULE     := METRIC '>' VALUE (';' SELECTOR)*
//   METRIC   := gc_pause | sched_latency_p99   VALUE: a duration (ns us ms s)
//             | goroutines                      VALUE: a count
//             | goroutine_growth                VALUE: a count per second "/s"
//             | cpu                             VALUE: percent of one CPU "%"
//   SELECTOR := exe=PATH | pod=NAMESPACE/NAME | namespace=NS
//             | selector=LABELS (kubectl -l's language)
// Without a selector the rule watches every Go process.
#ifndef GSPY_DAEMON_CAPTURE_CAPTURE_RULE_H_
#define GSPY_DAEMON_CAPTURE_CAPTURE_RULE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

enum class CaptureMetric {
  kGcPause,          // the longest GC pause since the last look, seconds
  kGoroutines,       // live goroutines, system ones left out
  kGoroutineGrowth,  // goroutines added per second since the last look
  kSchedLatencyP99,  // p99 of the run-queue waits since the last look, s
  kCpu,              // CPU time per wall time since the last look, percent
};

// "gc_pause", ...: the rule's word, and the metric's label in /metrics.
const char* CaptureMetricName(CaptureMetric m);
// `value` in the metric's unit as a person reads it: "12.3ms", "51234",
// "812/s", "93.5%".
std::string FormatCaptureValue(CaptureMetric m, double value);

struct CaptureRule {
  std::string text;  // as written, for lists and logs
  CaptureMetric metric = CaptureMetric::kGcPause;
  // In the metric's unit: seconds, a count, per second, percent.
  double threshold = 0;
  gspy::v1::Selector selector;
};

// The longest rule text accepted.
inline constexpr size_t kMaxCaptureRuleBytes = 4096;

absl::StatusOr<CaptureRule> ParseCaptureRule(absl::string_view text);

}  // namespace gspy

#endif  // GSPY_DAEMON_CAPTURE_CAPTURE_RULE_H_
