#include "base/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `name{l1="v1",...,extra_name="extra_value"} value\n`; the extra label is
// a histogram bucket's "le", which the format wants after the others.
void AppendSample(std::string* out, absl::string_view name,
                  const MetricLabels& labels, absl::string_view extra_name,
                  absl::string_view extra_value, absl::string_view value) {
  absl::StrAppend(out, name);
  if (!labels.empty() || !extra_name.empty()) {
    out->push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      absl::StrAppend(out, first ? "" : ",", k, "=\"", EscapeLabelValue(v),
                      "\"");
      first = false;
    }
    if (!extra_name.empty()) {
      absl::StrAppend(out, first ? "" : ",", extra_name, "=\"", extra_value,
                      "\"");
    }
    out->push_back('}');
  }
  absl::StrAppend(out, " ", value, "\n");
}

bool IsNameChar(char c, bool first, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (colon_ok && c == ':') || (!first && c >= '0' && c <= '9');
}

bool IsValidName(absl::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon_ok)) return false;
  }
  return true;
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

void MetricFamily::Add(MetricLabels labels, double value) {
  samples_.push_back({std::move(labels), value});
}

void MetricFamily::AddHistogram(MetricLabels labels,
                                const Histogram& histogram) {
  histograms_.push_back({std::move(labels), histogram.upper_bounds(),
                         histogram.bucket_counts(), histogram.count(),
                         histogram.sum()});
}

void MetricFamily::AddHistogramCounts(MetricLabels labels,
                                      std::vector<double> upper_bounds,
                                      std::vector<uint64_t> counts,
                                      double sum) {
  counts.resize(upper_bounds.size() + 1);
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  histograms_.push_back({std::move(labels), std::move(upper_bounds),
                         std::move(counts), total, sum});
}

void MetricFamily::Merge(MetricFamily&& other) {
  for (Sample& s : other.samples_) samples_.push_back(std::move(s));
  for (HistogramSample& h : other.histograms_) {
    histograms_.push_back(std::move(h));
  }
}

void MetricFamily::AppendText(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ", EscapeHelp(help_), "\n");
  absl::StrAppend(out, "# TYPE ", name_, " ", TypeName(type_), "\n");
  for (const Sample& s : samples_) {
    AppendSample(out, name_, s.labels, "", "", FormatMetricValue(s.value));
  }
  const std::string bucket = absl::StrCat(name_, "_bucket");
  for (const HistogramSample& h : histograms_) {
    // Exposed buckets are cumulative: each counts every value <= its bound.
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.upper_bounds.size(); ++i) {
      cumulative += h.counts[i];
      AppendSample(out, bucket, h.labels, "le",
                   FormatMetricValue(h.upper_bounds[i]),
                   absl::StrCat(cumulative));
    }
    AppendSample(out, bucket, h.labels, "le", "+Inf", absl::StrCat(h.count));
    AppendSample(out, absl::StrCat(name_, "_sum"), h.labels, "", "",
                 FormatMetricValue(h.sum));
    AppendSample(out, absl::StrCat(name_, "_count"), h.labels, "", "",
                 absl::StrCat(h.count));
  }
}

std::string WriteFamilies(absl::Span<const MetricFamily> families) {
  std::string out;
  for (const MetricFamily& f : families) f.AppendText(&out);
  return out;
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
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

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers (most counters) in full rather than as 1e+06.
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // Else as Go's strconv 'g' with the shortest precision, which is what the
  // Go client writes (le="0.0001", le="1e-05"): a bucket's le is a label,
  // compared as a string, so matching it keeps dashboards' selectors valid.
  char buf[64];
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general);
  if (ec != std::errc()) return absl::StrCat(value);
  return std::string(buf, end);
}

bool IsValidMetricName(absl::string_view name) {
  return IsValidName(name, /*colon_ok=*/true);
}

bool IsValidLabelName(absl::string_view name) {
  return IsValidName(name, /*colon_ok=*/false);
}

}  // namespace gspy
