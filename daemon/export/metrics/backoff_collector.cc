#include "daemon/export/metrics/backoff_collector.h"

#include <string>
#include <utility>

namespace gspy {

void CollectBackoff(const BackoffLoop* loop, const CpuSampler* sampler,
                    MetricFamilies* out) {
  if (sampler != nullptr) {
    MetricFamily hz("gspy_effective_cpu_sampling_hz", MetricType::kGauge,
                    "CPU samples per second per CPU that gspyd takes now: "
                    "--cpu-hz, lowered when gspyd backs off.");
    hz.Add({}, sampler->effective_frequency_hz());
    out->push_back(std::move(hz));
  }
  if (loop == nullptr) return;
  const BackoffState state = loop->state();
  MetricFamily scale("gspy_backoff_scale", MetricType::kGauge,
                     "Share of its configured sampling rates (CPU Hz, sweep "
                     "budget, block recording budget) gspyd uses now: 1, or "
                     "less when it backs off under load.");
  scale.Add({}, state.scale);
  out->push_back(std::move(scale));
  MetricFamily reason("gspy_backoff_reason", MetricType::kGauge,
                      "1 for the signal that last lowered gspy_backoff_scale "
                      "(none once it is back at 1), 0 for the others.");
  for (BackoffReason r : kAllBackoffReasons) {
    reason.Add({{"reason", std::string(BackoffReasonName(r))}},
               r == state.reason ? 1 : 0);
  }
  out->push_back(std::move(reason));
  MetricFamily pressure("gspy_backoff_pressure", MetricType::kGauge,
                        "The worst back-off signal at the last tick as a "
                        "ratio to its limit (above 1: backing off).");
  pressure.Add({}, state.pressure);
  out->push_back(std::move(pressure));
}

}  // namespace gspy
