// BlockMaps: what the block tracker writes to and reads from the block
// probes' BPF maps: the watched processes, the recording switch, the parked
// goroutines and the park stacks. Through BpfMap, so the logic is tested on
// in-memory maps without root. Holds no state of its own: callable from
// any thread, as the maps are.
#ifndef GSPY_DAEMON_SOURCES_BLOCK_BLOCK_MAPS_H_
#define GSPY_DAEMON_SOURCES_BLOCK_BLOCK_MAPS_H_

#include <cstdint>
#include <vector>

#include "bpf/block_types.h"
#include "daemon/sources/kernel/bpf_map.h"
#include "golang/binary/runtime_layout.h"

namespace gspy {

class BlockMaps {
 public:
  // Not owned; each must outlive this.
  BlockMaps(BpfMap* targets, BpfMap* config, BpfMap* parked, BpfMap* stacks)
      : targets_(targets), config_(config), parked_(parked), stacks_(stacks) {}

  // Watches `pid`, whose runtime has `layout`. 0 or an errno.
  int AddTarget(uint32_t pid, const RuntimeLayout& layout);
  // Stops watching `pid` and forgets its parked goroutines: a process no one
  // watches may never run them again, and they would fill the map.
  void RemoveTarget(uint32_t pid);

  // Whether new parks are recorded, and the share of time they are: each
  // recorded wait stands for 1 / fraction.
  void SetRecording(bool on, double fraction);

  // Empties the parked map: entries left from before an off time may be
  // waits whose end was missed.
  void ClearParked();
  // The stack stored as `id`, leaf first; false when it is not stored.
  bool Stack(int32_t id, std::vector<uint64_t>* frames) const;
  // Empties the stack map (stack ids mean something only while it keeps
  // them: with no pull left, the next one starts with all of its slots).
  void ClearStacks();

 private:
  BpfMap* const targets_;
  BpfMap* const config_;
  BpfMap* const parked_;
  BpfMap* const stacks_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_BLOCK_BLOCK_MAPS_H_
