// libFuzzer target for gspyd's --capture-rule language (ParseCaptureRule).
// Input: one rule's text. A rule that parses must format its threshold and
// parse again, from its own text, to the same rule.
// Seeds: corpus/capture_rule/ (every metric, unit and selector key).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "daemon/capture/capture_rule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<gspy::CaptureRule> rule = gspy::ParseCaptureRule(text);
  if (!rule.ok()) {
    if (rule.status().message().empty()) abort();  // errors say why
    return 0;
  }
  if (!std::isfinite(rule->threshold) || rule->threshold < 0) abort();
  (void)gspy::FormatCaptureValue(rule->metric, rule->threshold);
  absl::StatusOr<gspy::CaptureRule> again = gspy::ParseCaptureRule(rule->text);
  if (!again.ok() || again->metric != rule->metric ||
      again->threshold != rule->threshold ||
      again->selector.SerializeAsString() !=
          rule->selector.SerializeAsString()) {
    abort();
  }
  return 0;
}
