#include "daemon/capture/capture_rule.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

struct MetricSpec {
  CaptureMetric metric;
  const char* name;
};
constexpr MetricSpec kMetrics[] = {
    {CaptureMetric::kGcPause, "gc_pause"},
    {CaptureMetric::kGoroutines, "goroutines"},
    {CaptureMetric::kGoroutineGrowth, "goroutine_growth"},
    {CaptureMetric::kSchedLatencyP99, "sched_latency_p99"},
    {CaptureMetric::kCpu, "cpu"},
};

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "capture rule \"", absl::CHexEscape(text.substr(0, 200)), "\": ", why));
}

// A plain non-negative decimal number, as people write thresholds.
bool ParseNumber(absl::string_view s, double* out) {
  if (s.empty() || !(absl::ascii_isdigit(s[0]) || s[0] == '.')) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && c != '.') return false;
  }
  return absl::SimpleAtod(s, out) && std::isfinite(*out) && *out >= 0;
}

absl::StatusOr<double> ParseValue(CaptureMetric metric, absl::string_view v) {
  double number = 0;
  switch (metric) {
    case CaptureMetric::kGcPause:
    case CaptureMetric::kSchedLatencyP99: {
      // Longest suffix first: "ms" before "s".
      static constexpr std::pair<const char*, double> kUnits[] = {
          {"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}};
      for (const auto& [unit, scale] : kUnits) {
        absl::string_view n = v;
        if (absl::ConsumeSuffix(&n, unit) && ParseNumber(n, &number)) {
          return number * scale;
        }
      }
      return absl::InvalidArgumentError(
          "expected a duration such as 5ms (units: ns, us, ms, s)");
    }
    case CaptureMetric::kGoroutines:
      if (ParseNumber(v, &number) && number == std::floor(number)) {
        return number;
      }
      return absl::InvalidArgumentError(
          "expected a whole number of goroutines such as 50000");
    case CaptureMetric::kGoroutineGrowth:
      if (absl::ConsumeSuffix(&v, "/s") && ParseNumber(v, &number)) {
        return number;
      }
      return absl::InvalidArgumentError(
          "expected goroutines per second such as 100/s");
    case CaptureMetric::kCpu:
      if (absl::ConsumeSuffix(&v, "%") && ParseNumber(v, &number)) {
        return number;
      }
      return absl::InvalidArgumentError(
          "expected a percentage of one CPU such as 80% (more than 100% "
          "for several CPUs)");
  }
  return absl::InternalError("unknown metric");
}

absl::Status AddSelectorPart(absl::string_view part,
                             gspy::v1::Selector* selector) {
  const size_t eq = part.find('=');
  if (eq == absl::string_view::npos || eq + 1 == part.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "selector part \"", absl::CHexEscape(part.substr(0, 100)),
        "\": expected exe=PATH, pod=NAMESPACE/NAME, namespace=NS or "
        "selector=LABELS"));
  }
  const absl::string_view key = part.substr(0, eq);
  const std::string value(part.substr(eq + 1));
  if (key == "exe") {
    if (value[0] != '/') {
      return absl::InvalidArgumentError("exe= takes an absolute path");
    }
    selector->add_exe_paths(value);
  } else if (key == "pod") {
    if (std::count(value.begin(), value.end(), '/') != 1 ||
        value.front() == '/' || value.back() == '/') {
      return absl::InvalidArgumentError("pod= takes NAMESPACE/NAME");
    }
    selector->add_pods(value);
  } else if (key == "namespace") {
    if (!selector->namespace_().empty()) {
      return absl::InvalidArgumentError("namespace= given twice");
    }
    selector->set_namespace_(value);
  } else if (key == "selector") {
    if (!selector->pod_label_selector().empty()) {
      return absl::InvalidArgumentError("selector= given twice");
    }
    selector->set_pod_label_selector(value);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown selector key \"", absl::CHexEscape(key.substr(0, 50)),
        "\" (exe, pod, namespace or selector)"));
  }
  return absl::OkStatus();
}

}  // namespace

const char* CaptureMetricName(CaptureMetric m) {
  for (const MetricSpec& s : kMetrics) {
    if (s.metric == m) return s.name;
  }
  return "unknown";
}

std::string FormatCaptureValue(CaptureMetric m, double value) {
  switch (m) {
    case CaptureMetric::kGcPause:
    case CaptureMetric::kSchedLatencyP99:
      if (value < 1e-3) return absl::StrFormat("%.1fus", value * 1e6);
      if (value < 1) return absl::StrFormat("%.3gms", value * 1e3);
      return absl::StrFormat("%.3gs", value);
    case CaptureMetric::kGoroutines:
      return absl::StrFormat("%.0f", value);
    case CaptureMetric::kGoroutineGrowth:
      return absl::StrFormat("%.0f/s", value);
    case CaptureMetric::kCpu:
      return absl::StrFormat("%.1f%%", value);
  }
  return absl::StrCat(value);
}

absl::StatusOr<CaptureRule> ParseCaptureRule(absl::string_view text) {
  if (text.size() > kMaxCaptureRuleBytes) {
    return Bad(text,
               absl::StrCat("longer than ", kMaxCaptureRuleBytes, " bytes"));
  }
  CaptureRule rule;
  rule.text = std::string(text);
  std::vector<absl::string_view> parts = absl::StrSplit(text, ';');
  absl::string_view condition = absl::StripAsciiWhitespace(parts[0]);
  const size_t op = condition.find('>');
  if (op == absl::string_view::npos) {
    return Bad(text, "expected METRIC>VALUE, e.g. gc_pause>5ms");
  }
  const absl::string_view name =
      absl::StripAsciiWhitespace(condition.substr(0, op));
  const absl::string_view value =
      absl::StripAsciiWhitespace(condition.substr(op + 1));
  bool known = false;
  for (const MetricSpec& s : kMetrics) {
    if (name == s.name) {
      rule.metric = s.metric;
      known = true;
    }
  }
  if (!known) {
    return Bad(text, absl::StrCat("unknown metric \"",
                                  absl::CHexEscape(name.substr(0, 50)),
                                  "\" (gc_pause, goroutines, goroutine_growth, "
                                  "sched_latency_p99 or cpu)"));
  }
  absl::StatusOr<double> threshold = ParseValue(rule.metric, value);
  if (!threshold.ok()) {
    return Bad(text, absl::StrCat(name, ": ", threshold.status().message()));
  }
  rule.threshold = *threshold;
  for (size_t i = 1; i < parts.size(); ++i) {
    absl::string_view part = absl::StripAsciiWhitespace(parts[i]);
    if (part.empty()) return Bad(text, "empty selector part after ';'");
    if (absl::Status s = AddSelectorPart(part, &rule.selector); !s.ok()) {
      return Bad(text, s.message());
    }
  }
  return rule;
}

}  // namespace gspy
