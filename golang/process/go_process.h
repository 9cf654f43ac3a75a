// Finding Go processes and what gspy needs to profile one: its binary
// (shared by every process of the same file), its load bias and mappings.
#ifndef GSPY_GOLANG_PROCESS_GO_PROCESS_H_
#define GSPY_GOLANG_PROCESS_GO_PROCESS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/go_binary.h"
#include "golang/process/binary_cache.h"
#include "golang/process/proc_maps.h"
#include "golang/process/process_labels.h"

namespace gspy {

struct GoProcess {
  int pid = 0;
  std::string exe_path;  // /proc/PID/exe's target, as the process sees it
  std::string comm;
  uint64_t exe_inode = 0;
  std::shared_ptr<const GoBinary> binary;
  uint64_t load_bias = 0;
  std::vector<MemoryMapping> mappings;
  // Where it runs (Kubernetes namespace, pod, container, node), when the
  // table has a labeler; empty otherwise.
  ProcessMetadata metadata;
};

// A process that is not profilable, and why.
struct ProcessProblem {
  int pid = 0;
  std::string exe_path;
  absl::Status status;
};

class ProcessTable {
 public:
  explicit ProcessTable(BinaryCache* cache) : cache_(cache) {}
  // Fills GoProcess::metadata from now on. Not owned; outlives the table.
  void set_labeler(const ProcessLabeler* labeler) { labeler_ = labeler; }

  // Everything gspy needs to profile `pid`. NOT_FOUND: no such process (or a
  // kernel thread); FAILED_PRECONDITION: not a Go binary, or a Go version
  // whose runtime layout is unknown (the message says which).
  absl::StatusOr<GoProcess> Inspect(int pid) const;

  // All processes that run a Go binary. Those gspy cannot profile (e.g. an
  // unknown Go version without DWARF) come back in `problems` when given.
  std::vector<GoProcess> ListGoProcesses(
      std::vector<ProcessProblem>* problems = nullptr) const;

 private:
  absl::StatusOr<GoProcess> InspectBinary(int pid) const;
  BinaryCache* cache_;
  const ProcessLabeler* labeler_ = nullptr;
};

// Whether `pid` exists and has not exited (a zombie has exited).
bool ProcessRunning(int pid);

// Pids of every process under /proc, ascending.
std::vector<int> ListPids();

// When `pid` started, in clock ticks after boot (/proc/PID/stat field 22):
// with the pid, it names one process for good, where a pid alone may be
// reused. NOT_FOUND when it is gone.
absl::StatusOr<uint64_t> ProcessStartTicks(int pid);

}  // namespace gspy

#endif  // GSPY_GOLANG_PROCESS_GO_PROCESS_H_
