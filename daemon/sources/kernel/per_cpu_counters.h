// PerCpuCounters: a BPF program's counters map (BPF_MAP_TYPE_PERCPU_ARRAY of
// u64, one slot per counter), read as totals over CPUs.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_PER_CPU_COUNTERS_H_
#define GSPY_DAEMON_SOURCES_KERNEL_PER_CPU_COUNTERS_H_

#include <cstdint>

#include "daemon/sources/kernel/counter_table.h"

struct bpf_map;

namespace gspy {

// The number of possible CPUs (at least 1), resolved once. libbpf reads it
// from sysfs on first use; the sources call this in Start, before their
// threads run, so that no background thread opens a file after a source has
// started (the trackers' fd-leak tests count them).
int PossibleCpus();

class PerCpuCounters {
 public:
  explicit PerCpuCounters(const bpf_map* map) : map_(map) {}

  // The sum over CPUs of counter `index`; 0 when it cannot be read.
  uint64_t Sum(uint32_t index) const;

  // Every counter of a table (see counter_table.h).
  template <typename Counters>
  Counters Read() const {
    return ReadCounters<Counters>([this](uint32_t i) { return Sum(i); });
  }

 private:
  const bpf_map* map_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_PER_CPU_COUNTERS_H_
