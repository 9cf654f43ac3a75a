#include "daemon/backoff/backoff_governor.h"

#include <algorithm>

namespace gspy {

absl::string_view BackoffReasonName(BackoffReason reason) {
  switch (reason) {
    case BackoffReason::kNone:
      return "none";
    case BackoffReason::kCpu:
      return "cpu";
    case BackoffReason::kMemory:
      return "memory";
    case BackoffReason::kRingLosses:
      return "ring_losses";
    case BackoffReason::kPsiCpu:
      return "psi_cpu";
    case BackoffReason::kPsiMemory:
      return "psi_memory";
  }
  return "none";
}

double BackoffGovernor::Tick(absl::Time now, const BackoffSignals& signals) {
  if (!options_.enabled) return scale_;
  // Each signal as a ratio to its limit; the worst one decides.
  double worst = 0;
  BackoffReason why = BackoffReason::kNone;
  auto consider = [&](double reading, double limit, BackoffReason reason) {
    if (reading < 0 || limit <= 0) return;
    const double ratio = reading / limit;
    if (ratio > worst) {
      worst = ratio;
      why = reason;
    }
  };
  if (signals.cpu_cores >= 0) {
    cpu_average_ = cpu_average_ * (1 - options_.cpu_smoothing) +
                   signals.cpu_cores * options_.cpu_smoothing;
  }
  consider(cpu_average_, options_.cpu_budget_cores, BackoffReason::kCpu);
  consider(static_cast<double>(signals.rss_bytes),
           static_cast<double>(options_.memory_budget_bytes),
           BackoffReason::kMemory);
  if (signals.ring_losses > 0) {
    consider(options_.ring_loss_pressure, 1, BackoffReason::kRingLosses);
  }
  consider(signals.psi_cpu_some_avg10, options_.psi_cpu_percent,
           BackoffReason::kPsiCpu);
  consider(signals.psi_memory_some_avg10, options_.psi_memory_percent,
           BackoffReason::kPsiMemory);
  pressure_ = worst;

  if (worst > options_.recover_below) {
    loud_ever_ = true;
    last_loud_ = now;
  }
  if (worst > 1) {
    // gspyd's own cost follows its rates about linearly: 1 / worst brings
    // the worst signal back to its limit. At most halve in one tick (its
    // reading may be a spike), at least a tenth off (so it does go down).
    const double factor = std::clamp(1 / worst, 0.5, 0.9);
    scale_ = std::max(options_.min_scale, scale_ * factor);
    reason_ = why;
    return scale_;
  }
  const bool quiet = !loud_ever_ || now - last_loud_ >= options_.recover_after;
  if (quiet && scale_ < 1) {
    scale_ = std::min(1.0, scale_ + options_.recover_step);
    if (scale_ >= 1) reason_ = BackoffReason::kNone;
  }
  return scale_;
}

}  // namespace gspy
