// UprobeSet: the uprobe links a source holds on Go processes, reference
// counted per (binary, pid): the first user of a process attaches its
// probes, the last one detaches them.
//
// Probes are scoped to one process (perf_event_open with its pid): the
// kernel then installs the breakpoints only in that process's address space,
// so the other processes of the same binary on the node (replicas, the
// other pods of a Deployment) never trap. The price is one set of links per
// watched process instead of one per binary. Not synchronized: the owner
// calls it under its own lock.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_UPROBE_SET_H_
#define GSPY_DAEMON_SOURCES_KERNEL_UPROBE_SET_H_

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct bpf_link;

namespace gspy {

class GoBinary;

// Destroys `links`. Slow: the kernel removes a uprobe only after an RCU
// grace period, about 100 ms each on this machine's 6.18 kernel, and it
// serializes concurrent removals (measured: closing three links from three
// threads took 108, 212 and 311 ms).
void DestroyLinks(const std::vector<bpf_link*>& links);

class UprobeSet {
 public:
  using Links = std::vector<bpf_link*>;
  using AttachFn = absl::FunctionRef<absl::StatusOr<Links>()>;

  UprobeSet() = default;
  UprobeSet(const UprobeSet&) = delete;
  UprobeSet& operator=(const UprobeSet&) = delete;
  ~UprobeSet() { Clear(); }
  // Detaches everything and forgets the references.
  void Clear();

  // Takes one reference on the probes of process `pid` of `binary`; the
  // first one attaches them with `attach` (an error then leaves no
  // reference).
  absl::Status Acquire(std::shared_ptr<const GoBinary> binary, int pid,
                       AttachFn attach);
  // Drops one reference; the last one detaches the probes.
  void Release(const GoBinary* binary, int pid);

  // Detaches every process's probes but keeps the references: the links are
  // returned for the caller to destroy (slowly, outside its lock).
  Links TakeAllLinks();
  // Attaches again, with attach(binary, pid), each referenced process that
  // has no links (after TakeAllLinks). Failures leave it detached.
  void AttachDetached(
      absl::FunctionRef<absl::StatusOr<Links>(const GoBinary*, int pid)>
          attach);

  // Processes with probes referenced.
  size_t size() const { return processes_.size(); }
  bool empty() const { return processes_.empty(); }
  int refs(const GoBinary* binary, int pid) const;
  bool attached(const GoBinary* binary, int pid) const;

 private:
  using Key = std::pair<const GoBinary*, int>;
  struct Entry {
    std::shared_ptr<const GoBinary> binary;  // keeps the key alive
    Links links;
    int refs = 0;
  };
  absl::flat_hash_map<Key, Entry> processes_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_UPROBE_SET_H_
