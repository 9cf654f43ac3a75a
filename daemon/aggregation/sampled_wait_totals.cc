#include "daemon/aggregation/sampled_wait_totals.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace gspy {

void SampledWaitTotals::AddProcess(int pid, int go_minor) {
  absl::MutexLock lock(&mu_);
  processes_.insert_or_assign(pid,
                              Process{WaitReasons::ForGoMinor(go_minor), {}});
}

void SampledWaitTotals::RemoveProcess(int pid) {
  absl::MutexLock lock(&mu_);
  processes_.erase(pid);
}

void SampledWaitTotals::AddSweep(int pid, const GoroutineSweep& sweep,
                                 const SweepSpan& span) {
  if (span.to_ns <= span.from_ns) return;
  const double seconds = static_cast<double>(span.to_ns - span.from_ns) / 1e9;
  absl::MutexLock lock(&mu_);
  auto it = processes_.find(pid);
  if (it == processes_.end()) return;
  Process& p = it->second;
  for (const GoroutineCharge& c : sweep.charges) {
    if (c.state != SampledState::kWaiting) continue;
    auto [t, fresh] = p.by_reason.try_emplace(c.wait_reason);
    if (fresh) {
      t->second.pid = pid;
      t->second.reason = p.reasons.ok()
                             ? p.reasons->Name(c.wait_reason)
                             : absl::StrCat("waitReason(", c.wait_reason, ")");
    }
    t->second.seconds += seconds;
    if (c.new_episode || span.first) ++t->second.waits;
  }
}

std::vector<SampledWaitTotal> SampledWaitTotals::Totals() const {
  std::vector<SampledWaitTotal> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [pid, p] : processes_) {
      for (const auto& [reason, t] : p.by_reason) out.push_back(t);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.pid != b.pid ? a.pid < b.pid : a.reason < b.reason;
  });
  return out;
}

}  // namespace gspy
