#include "daemon/sources/block/trap_windows.h"

#include <algorithm>

namespace gspy {
namespace {

// Waits end within seconds of their stretch; older stretches are forgotten.
constexpr size_t kMaxStretches = 256;

}  // namespace

double TrapWindows::FractionFor(double parks_per_second) const {
  if (options_.max_parks_per_second <= 0 ||
      parks_per_second <= options_.max_parks_per_second) {
    return 1;
  }
  return std::max(options_.min_fraction,
                  options_.max_parks_per_second / parks_per_second);
}

void TrapWindows::BeginContinuous(uint64_t start_ns) {
  stretches_.push_back({start_ns, UINT64_MAX, 0});
  if (stretches_.size() > kMaxStretches) stretches_.pop_front();
}

void TrapWindows::EnsureContinuous(uint64_t start_ns) {
  if (stretches_.empty() || stretches_.back().end_ns != UINT64_MAX) {
    BeginContinuous(start_ns);
  }
}

void TrapWindows::BeginWindow(uint64_t start_ns) {
  EndContinuous(start_ns);
  const uint64_t end_ns = start_ns + window_ns();
  // A window stands for itself and half the off time on either side (the
  // one after it taken as long as the one before): the stretches tile the
  // timeline, and a pull ending anywhere in a period is off by at most half
  // an off time, as often over as under. After a continuous stretch the
  // whole off time before it is the window's.
  uint64_t represents = window_ns();
  if (!stretches_.empty() && stretches_.back().end_ns <= start_ns) {
    const Stretch& before = stretches_.back();
    const uint64_t off = start_ns - before.end_ns;
    represents += before.represents_ns == 0 ? off + off / 2 : off;
  }
  stretches_.push_back({start_ns, end_ns, represents});
  if (stretches_.size() > kMaxStretches) stretches_.pop_front();
  ++windows_;
}

void TrapWindows::EndContinuous(uint64_t end_ns) {
  if (!stretches_.empty() && stretches_.back().end_ns == UINT64_MAX) {
    stretches_.back().end_ns = end_ns;
  }
}

TrapVerdict TrapWindows::Judge(uint64_t park_ns, uint64_t run_ns) {
  // The stretch the park fell in: the last one that began before it.
  for (auto it = stretches_.rbegin(); it != stretches_.rend(); ++it) {
    if (it->start_ns > park_ns) continue;
    if (run_ns < park_ns || run_ns >= it->end_ns) return {};
    if (it->represents_ns == 0) return {true, 1};
    const uint64_t w = it->end_ns - it->start_ns;
    const uint64_t d = run_ns - park_ns;
    if (2 * d >= w) {
      ++long_dropped_;
      return {};
    }
    return {true, static_cast<double>(it->represents_ns) /
                      static_cast<double>(w - d)};
  }
  return {};  // parked before every stretch known
}

}  // namespace gspy
