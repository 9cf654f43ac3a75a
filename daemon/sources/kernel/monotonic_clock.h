// CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns (and of Go's nanotime):
// what the kernel-fed sources stamp their events with.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_MONOTONIC_CLOCK_H_
#define GSPY_DAEMON_SOURCES_KERNEL_MONOTONIC_CLOCK_H_

#include <cstdint>

namespace gspy {

// Now on CLOCK_MONOTONIC, in nanoseconds.
uint64_t MonotonicNowNs();

// CLOCK_REALTIME - CLOCK_MONOTONIC now: added to a BPF timestamp, it gives
// Unix time (as long as the wall clock is not stepped meanwhile).
int64_t MonotonicToUnixOffsetNs();

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_MONOTONIC_CLOCK_H_
