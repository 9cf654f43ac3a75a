// Helpers shared by the trackers that put uprobes on a Go binary's runtime
// (GC, block): attach a plain uprobe at a function's link-time address, read
// a function's code. Plain uprobes only: uretprobes
// crash Go programs.
#ifndef GSPY_DAEMON_SOURCES_PROBES_UPROBES_H_
#define GSPY_DAEMON_SOURCES_PROBES_UPROBES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/go_binary.h"
#include "golang/process/go_process.h"

struct bpf_link;
struct bpf_program;

namespace gspy {

// The file offset of link-time address `vaddr` in `binary`.
absl::StatusOr<uint64_t> FileOffset(const GoBinary& binary, uint64_t vaddr);

// `size` bytes of `path` at file offset `offset`.
absl::StatusOr<std::string> ReadFileAt(const std::string& path, uint64_t offset,
                                       size_t size);

// The entry of runtime function `function` in `proc`'s binary, or
// FAILED_PRECONDITION naming the function and the Go version.
absl::StatusOr<FuncInfo> FindProbedFunction(const GoProcess& proc,
                                            const char* function);

// Attaches `program` as a uprobe at link-time address `vaddr` of `proc`'s
// executable (through /proc/PID/exe, so it works across mount namespaces).
// The probe lives on the file's inode but is scoped to `proc`: the kernel
// installs its breakpoint only in that process, so the other processes of
// the binary do not trap.
absl::StatusOr<bpf_link*> AttachUprobe(bpf_program* program,
                                       const GoProcess& proc, uint64_t vaddr,
                                       const char* what);

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_PROBES_UPROBES_H_
