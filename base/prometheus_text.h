// Metric families and their Prometheus text exposition (format 0.0.4).
//
// A collector builds MetricFamily values at scrape time; WriteFamilies turns
// them into text. Families are values rather than a streaming writer so that
// the registry can merge what several collectors add under one name: the
// format wants every sample of a family in one group, after one # HELP and
// one # TYPE line.
#ifndef GSPY_BASE_PROMETHEUS_TEXT_H_
#define GSPY_BASE_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace gspy {

// Label name/value pairs, in the order they are written.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

// A histogram's state: counts per bucket (not cumulative: the writer adds
// them up) and the sum of the observed values.
class Histogram {
 public:
  // `upper_bounds` ascending; a last +Inf bucket is implied.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // One count per upper bound, then the +Inf bucket's.
  const std::vector<uint64_t>& bucket_counts() const { return counts_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

class MetricFamily {
 public:
  MetricFamily(std::string name, MetricType type, std::string help)
      : name_(std::move(name)), type_(type), help_(std::move(help)) {}

  // A counter or gauge sample.
  void Add(MetricLabels labels, double value);
  // A histogram sample (the family must be a histogram).
  void AddHistogram(MetricLabels labels, const Histogram& histogram);
  // A histogram sample from counts kept elsewhere (e.g. a Go runtime
  // histogram): `counts` per bucket, not cumulative, one per upper bound
  // plus a last one for +Inf.
  void AddHistogramCounts(MetricLabels labels, std::vector<double> upper_bounds,
                          std::vector<uint64_t> counts, double sum);
  // Appends other's samples (same name and type).
  void Merge(MetricFamily&& other);

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  bool empty() const { return samples_.empty() && histograms_.empty(); }

  // Appends the family's text (# HELP, # TYPE, samples) to `out`.
  void AppendText(std::string* out) const;

 private:
  struct Sample {
    MetricLabels labels;
    double value;
  };
  struct HistogramSample {
    MetricLabels labels;
    std::vector<double> upper_bounds;
    std::vector<uint64_t> counts;
    uint64_t count;
    double sum;
  };
  std::string name_;
  MetricType type_;
  std::string help_;
  std::vector<Sample> samples_;
  std::vector<HistogramSample> histograms_;
};

// The text of all `families`, in order. Empty families still get their # HELP
// and # TYPE lines, so a scraper can see that gspyd knows the metric.
std::string WriteFamilies(absl::Span<const MetricFamily> families);

// Label values escape \, " and newline; HELP text escapes \ and newline.
std::string EscapeLabelValue(absl::string_view value);
std::string EscapeHelp(absl::string_view help);
// Values as Prometheus spells them: +Inf, -Inf, NaN; whole numbers below
// 1e15 as integers; else the shortest form that reads back the same double,
// in %g style (0.00025, 1e-05).
std::string FormatMetricValue(double value);

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names exclude ':'.
bool IsValidMetricName(absl::string_view name);
bool IsValidLabelName(absl::string_view name);

}  // namespace gspy

#endif  // GSPY_BASE_PROMETHEUS_TEXT_H_
