#include "daemon/sources/kernel/per_cpu_counters.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <vector>

namespace gspy {

int PossibleCpus() {
  static const int cpus = std::max(libbpf_num_possible_cpus(), 1);
  return cpus;
}

uint64_t PerCpuCounters::Sum(uint32_t index) const {
  std::vector<uint64_t> values(PossibleCpus());
  if (bpf_map__lookup_elem(map_, &index, sizeof(index), values.data(),
                           values.size() * sizeof(uint64_t), 0) != 0) {
    return 0;
  }
  uint64_t total = 0;
  for (uint64_t v : values) total += v;
  return total;
}

}  // namespace gspy
