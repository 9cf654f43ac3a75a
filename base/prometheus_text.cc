#include "base/prometheus_text.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"
#include "prometheus/text_serializer.h"

namespace gspy {
namespace {

prometheus::MetricType ToPrometheus(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return prometheus::MetricType::Counter;
    case MetricType::kGauge:
      return prometheus::MetricType::Gauge;
    case MetricType::kHistogram:
      return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

prometheus::ClientMetric WithLabels(MetricLabels&& labels) {
  prometheus::ClientMetric m;
  m.label.reserve(labels.size());
  for (auto& [name, value] : labels) {
    m.label.push_back({std::move(name), std::move(value)});
  }
  return m;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // Buckets are "less than or equal": a value on a bound belongs to it.
  const size_t i =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
      upper_bounds_.begin();
  ++counts_[i];
  ++count_;
  sum_ += value;
}

MetricFamily::MetricFamily(std::string name, MetricType type,
                           absl::string_view help)
    : type_(type) {
  family_.name = std::move(name);
  family_.help = EscapeHelp(help);
  family_.type = ToPrometheus(type);
}

void MetricFamily::RewriteLabels(
    const std::function<void(MetricLabels*)>& rewrite) {
  for (prometheus::ClientMetric& m : family_.metric) {
    MetricLabels labels;
    labels.reserve(m.label.size());
    for (prometheus::ClientMetric::Label& l : m.label) {
      labels.emplace_back(std::move(l.name), std::move(l.value));
    }
    rewrite(&labels);
    m.label.clear();
    for (auto& [name, value] : labels) {
      m.label.push_back({std::move(name), std::move(value)});
    }
  }
  MergeEqualLabelSets();
}

void MetricFamily::MergeEqualLabelSets() {
  // Keyed by the label pairs, each length-prefixed, so that two different
  // sets never share a key whatever bytes their values hold.
  absl::flat_hash_map<std::string, size_t> first;
  std::vector<prometheus::ClientMetric> kept;
  kept.reserve(family_.metric.size());
  for (prometheus::ClientMetric& m : family_.metric) {
    std::string key;
    for (const prometheus::ClientMetric::Label& l : m.label) {
      absl::StrAppend(&key, l.name.size(), ":", l.name, l.value.size(), ":",
                      l.value);
    }
    auto [it, added] = first.try_emplace(std::move(key), kept.size());
    if (added) {
      kept.push_back(std::move(m));
      continue;
    }
    // What Prometheus' sum without(dropped label) would give.
    prometheus::ClientMetric& into = kept[it->second];
    prometheus::ClientMetric::Histogram& h = into.histogram;
    if (h.bucket.size() != m.histogram.bucket.size()) {
      // One family's histograms share their bounds (one collector makes
      // them): this is a bug, and a repeated series beats a wrong sum.
      kept.push_back(std::move(m));
      continue;
    }
    into.counter.value += m.counter.value;
    into.gauge.value += m.gauge.value;
    h.sample_count += m.histogram.sample_count;
    h.sample_sum += m.histogram.sample_sum;
    for (size_t i = 0; i < h.bucket.size(); ++i) {
      h.bucket[i].cumulative_count += m.histogram.bucket[i].cumulative_count;
    }
  }
  family_.metric = std::move(kept);
}

void MetricFamily::Add(MetricLabels labels, double value) {
  prometheus::ClientMetric m = WithLabels(std::move(labels));
  // The serializer reads the member of the family's type.
  if (type_ == MetricType::kCounter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family_.metric.push_back(std::move(m));
}

void MetricFamily::AddHistogram(MetricLabels labels,
                                const Histogram& histogram) {
  prometheus::ClientMetric m = WithLabels(std::move(labels));
  // Exposed buckets are cumulative: each counts every value <= its bound.
  // The serializer adds the +Inf bucket (the count) after the last bound.
  uint64_t cumulative = 0;
  const std::vector<double>& bounds = histogram.upper_bounds();
  m.histogram.bucket.reserve(bounds.size());
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += histogram.bucket_counts()[i];
    m.histogram.bucket.push_back({cumulative, bounds[i]});
  }
  m.histogram.sample_count = histogram.count();
  m.histogram.sample_sum = histogram.sum();
  family_.metric.push_back(std::move(m));
}

void MetricFamily::AddHistogramCounts(MetricLabels labels,
                                      std::vector<double> upper_bounds,
                                      std::vector<uint64_t> counts,
                                      double sum) {
  counts.resize(upper_bounds.size() + 1);
  prometheus::ClientMetric m = WithLabels(std::move(labels));
  uint64_t cumulative = 0;
  m.histogram.bucket.reserve(upper_bounds.size());
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    cumulative += counts[i];
    m.histogram.bucket.push_back({cumulative, upper_bounds[i]});
  }
  // The serializer writes the +Inf bucket as the count.
  m.histogram.sample_count = cumulative + counts.back();
  m.histogram.sample_sum = sum;
  family_.metric.push_back(std::move(m));
}

void MetricFamily::Merge(MetricFamily&& other) {
  for (prometheus::ClientMetric& m : other.family_.metric) {
    family_.metric.push_back(std::move(m));
  }
}

MetricFamily SingleSample(std::string name, MetricType type,
                          absl::string_view help, double value) {
  MetricFamily f(std::move(name), type, help);
  f.Add({}, value);
  return f;
}

std::string WriteFamilies(std::vector<MetricFamily> families) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (MetricFamily& f : families) out.push_back(std::move(f).Release());
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, out);
  return std::move(text).str();
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace gspy
