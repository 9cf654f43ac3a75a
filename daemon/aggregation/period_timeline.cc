#include "daemon/aggregation/period_timeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gspy {

void PeriodTimeline::Add(uint64_t time_ns, int64_t period_ns) {
  auto extend = [&](Run& run) {
    run.first_ns = std::min(run.first_ns, time_ns);
    run.last_ns = std::max(run.last_ns, time_ns);
    ++run.samples;
  };
  if (later_samples_ > 0) {
    // The list overflowed: what follows is counted, not placed.
    ++later_samples_;
    return;
  }
  if (!runs_.empty() && runs_.back().period_ns == period_ns) {
    extend(runs_.back());
    return;
  }
  // A straggler from before the last change.
  if (runs_.size() >= 2 && runs_[runs_.size() - 2].period_ns == period_ns &&
      time_ns <= runs_.back().first_ns) {
    extend(runs_[runs_.size() - 2]);
    return;
  }
  if (runs_.size() >= max_runs_) {
    later_samples_ = 1;
    return;
  }
  runs_.push_back(Run{time_ns, time_ns, period_ns, 1});
}

std::string PeriodTimeline::Describe() const {
  if (runs_.empty()) return "";
  uint64_t origin = runs_.front().first_ns;
  for (const Run& r : runs_) origin = std::min(origin, r.first_ns);
  auto seconds = [&](uint64_t t) {
    return static_cast<double>(t - origin) / 1e9;
  };
  std::string out;
  for (const Run& r : runs_) {
    if (!out.empty()) out += "; ";
    absl::StrAppendFormat(&out, "%.1f-%.1f s every %.1f ms (%.1f Hz, %d %s)",
                          seconds(r.first_ns), seconds(r.last_ns),
                          static_cast<double>(r.period_ns) / 1e6,
                          r.period_ns > 0 ? 1e9 / r.period_ns : 0.0, r.samples,
                          r.samples == 1 ? "sample" : "samples");
  }
  if (later_samples_ > 0) {
    absl::StrAppend(&out, "; then ", later_samples_,
                    " samples at periods not listed (at most ", max_runs_,
                    " stretches are)");
  }
  return out;
}

}  // namespace gspy
