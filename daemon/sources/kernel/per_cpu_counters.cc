#include "daemon/sources/kernel/per_cpu_counters.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <vector>

namespace gspy {

uint64_t PerCpuCounters::Sum(uint32_t index) const {
  const int cpus = libbpf_num_possible_cpus();
  std::vector<uint64_t> values(cpus > 0 ? cpus : 1);
  if (bpf_map__lookup_elem(map_, &index, sizeof(index), values.data(),
                           values.size() * sizeof(uint64_t), 0) != 0) {
    return 0;
  }
  uint64_t total = 0;
  for (uint64_t v : values) total += v;
  return total;
}

}  // namespace gspy
