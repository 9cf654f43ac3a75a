// Metric families and their Prometheus text exposition (format 0.0.4).
//
// A collector builds MetricFamily values at scrape time; WriteFamilies turns
// them into text with prometheus-cpp's TextSerializer. Families are values
// rather than a streaming writer so that the registry can merge what several
// collectors add under one name: the format wants every sample of a family
// in one group, after one # HELP and one # TYPE line.
//
// MetricFamily is a thin builder over prometheus::MetricFamily: it keeps the
// calls collectors make short (labels as pairs, one Add for counters and
// gauges) and does what the serializer leaves to its caller (see
// EscapeHelp).
#ifndef GSPY_BASE_PROMETHEUS_TEXT_H_
#define GSPY_BASE_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "prometheus/metric_family.h"

namespace gspy {

// Label name/value pairs, in the order they are written.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

// A histogram's state: counts per bucket (not cumulative: the exposition adds
// them up) and the sum of the observed values. A plain value, so that it can
// live in containers; prometheus::Histogram holds a mutex and cannot move.
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
  // Metric and label names must be valid (prometheus::CheckMetricName,
  // CheckLabelName): they are constants in gspyd's code, written unchecked.
  MetricFamily(std::string name, MetricType type, absl::string_view help);

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
  // Rewrites every sample's labels (e.g. redaction, before the exposition).
  // Samples whose labels become equal (a dropped label was all that told
  // them apart) are summed into one: an exposition must not repeat a series.
  void RewriteLabels(const std::function<void(MetricLabels*)>& rewrite);

  const std::string& name() const { return family_.name; }
  MetricType type() const { return type_; }
  bool empty() const { return family_.metric.empty(); }

  // What the serializer writes (help already escaped), for WriteFamilies.
  prometheus::MetricFamily&& Release() && { return std::move(family_); }

 private:
  void MergeEqualLabelSets();

  MetricType type_;
  prometheus::MetricFamily family_;
};

// A family of one unlabelled sample: a collector's own counters and gauges.
MetricFamily SingleSample(std::string name, MetricType type,
                          absl::string_view help, double value);

// The text of all `families`, in order. Empty families still get their # HELP
// and # TYPE lines, so a scraper can see that gspyd knows the metric. Takes
// the families by value: the serializer wants its own type, and a scrape's
// families are moved into it rather than copied.
std::string WriteFamilies(std::vector<MetricFamily> families);

// HELP text escapes \ and newline. prometheus-cpp (1.0.1, Debian 12) escapes
// label values but writes HELP as given, so MetricFamily escapes it first.
std::string EscapeHelp(absl::string_view help);

}  // namespace gspy

#endif  // GSPY_BASE_PROMETHEUS_TEXT_H_
