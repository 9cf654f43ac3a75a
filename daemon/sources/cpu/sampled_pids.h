// SampledPids: which pids the CPU sampler's BPF program samples, and with
// what configuration, reference counted so that concurrent pulls share one
// program. The kernel-stack wish is ORed across holders. Writes the BPF
// `targets` map through a BpfMap (a fake one in tests). Not synchronized:
// the sampler calls it under its lock.
#ifndef GSPY_DAEMON_SOURCES_CPU_SAMPLED_PIDS_H_
#define GSPY_DAEMON_SOURCES_CPU_SAMPLED_PIDS_H_

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "bpf/gspy_types.h"
#include "daemon/sources/kernel/bpf_map.h"

namespace gspy {

class SampledPids {
 public:
  explicit SampledPids(BpfMap* targets) : targets_(targets) {}

  // Starts sampling `pid` with `config` or adds a holder to it.
  absl::Status Acquire(uint32_t pid, const gspy_target_config& config);
  // Undoes one Acquire; the last holder removes the pid.
  void Release(uint32_t pid, bool wanted_kernel_stack);

  bool empty() const { return holders_.empty(); }
  size_t size() const { return holders_.size(); }

 private:
  absl::Status Write(uint32_t pid, const gspy_target_config& config);

  struct Holder {
    gspy_target_config config{};
    int refs = 0;
    int kernel_stack_refs = 0;
  };
  BpfMap* const targets_;
  absl::flat_hash_map<uint32_t, Holder> holders_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_CPU_SAMPLED_PIDS_H_
