#include "daemon/sources/kernel/monotonic_clock.h"

#include <time.h>

namespace gspy {
namespace {

int64_t ClockNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

uint64_t MonotonicNowNs() {
  return static_cast<uint64_t>(ClockNs(CLOCK_MONOTONIC));
}

int64_t MonotonicToUnixOffsetNs() {
  return ClockNs(CLOCK_REALTIME) - ClockNs(CLOCK_MONOTONIC);
}

}  // namespace gspy
