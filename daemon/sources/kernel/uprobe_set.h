// UprobeSet: the uprobe links a source holds on Go binaries, reference
// counted per binary: the first user of a binary attaches its probes, the
// last one detaches them. A uprobe lives on the binary's inode, so one set
// of links serves every process of that binary. Not synchronized: the
// owner calls it under its own lock.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_UPROBE_SET_H_
#define GSPY_DAEMON_SOURCES_KERNEL_UPROBE_SET_H_

#include <cstddef>
#include <memory>
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

  // Takes one reference on `binary`'s probes; the first one attaches them
  // with `attach` (an error then leaves no reference).
  absl::Status Acquire(std::shared_ptr<const GoBinary> binary, AttachFn attach);
  // Drops one reference; the last one detaches the probes.
  void Release(const GoBinary* binary);

  // Detaches every binary's probes but keeps the references: the links are
  // returned for the caller to destroy (slowly, outside its lock).
  Links TakeAllLinks();
  // Attaches again, with attach(binary), each referenced binary that has
  // no links (after TakeAllLinks). Failures leave the binary detached.
  void AttachDetached(
      absl::FunctionRef<absl::StatusOr<Links>(const GoBinary*)> attach);

  size_t size() const { return binaries_.size(); }
  bool empty() const { return binaries_.empty(); }
  int refs(const GoBinary* binary) const;
  bool attached(const GoBinary* binary) const;

 private:
  struct Entry {
    std::shared_ptr<const GoBinary> binary;  // keeps the key alive
    Links links;
    int refs = 0;
  };
  absl::flat_hash_map<const GoBinary*, Entry> binaries_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_UPROBE_SET_H_
