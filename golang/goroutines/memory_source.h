// MemorySource: the target's address space, read from outside. A goroutine
// dump reads everything (allgs, each g, its labels and stack) through this
// one interface, so a live process (process_vm_readv) and a core file plus
// its executable give the same dump.
#ifndef GSPY_GOLANG_GOROUTINES_MEMORY_SOURCE_H_
#define GSPY_GOLANG_GOROUTINES_MEMORY_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace gspy {

// One range of a batched read: the bytes at [addr, addr + out.size()).
struct MemoryRange {
  uint64_t addr = 0;
  absl::Span<char> out;
};

class MemorySource {
 public:
  virtual ~MemorySource() = default;

  // Fills `out` with the bytes at [addr, addr + out.size()). All or nothing:
  // OUT_OF_RANGE when part of the range is not mapped (a garbage pointer),
  // NOT_FOUND when the process is gone, PERMISSION_DENIED without
  // CAP_SYS_PTRACE.
  virtual absl::Status Read(uint64_t addr, absl::Span<char> out) const = 0;

  // What the source reads, for messages ("pid 1234", "core core.1234").
  virtual std::string Describe() const = 0;

  // Reads many ranges; `ok[i]` says whether ranges[i] was read whole (a
  // range that cannot be is left as it was). An error only when the source
  // is gone (NOT_FOUND) or not readable at all (PERMISSION_DENIED). This
  // default reads them one by one; a live process reads them in as few
  // system calls as it can (a sampler reads every g this way).
  virtual absl::Status ReadMany(absl::Span<const MemoryRange> ranges,
                                std::vector<bool>* ok) const;

  // Convenience wrappers over Read.
  absl::StatusOr<std::string> ReadAt(uint64_t addr, size_t size) const;
  absl::StatusOr<uint64_t> ReadU64(uint64_t addr) const;
};

// A running process, read with process_vm_readv (needs CAP_SYS_PTRACE or the
// same uid under Yama scope 0). The process is never stopped.
class ProcessMemory final : public MemorySource {
 public:
  explicit ProcessMemory(int pid) : pid_(pid) {}
  absl::Status Read(uint64_t addr, absl::Span<char> out) const override;
  std::string Describe() const override;
  // Up to IOV_MAX ranges per process_vm_readv.
  absl::Status ReadMany(absl::Span<const MemoryRange> ranges,
                        std::vector<bool>* ok) const override;
  int pid() const { return pid_; }
  // System calls ReadMany made, for tests and the sampler's statistics.
  int64_t batched_syscalls() const { return batched_syscalls_; }

 private:
  int pid_;
  mutable int64_t batched_syscalls_ = 0;
};

// An ELF core file (gcore, or the kernel's) and the executable it came from.
// The core holds the writable memory (heap, stacks, .data, .bss); read-only
// file mappings such as the code are often left out of it, and are read from
// the executable's PT_LOAD segments, moved by the load bias.
class CoreFileMemory final : public MemorySource {
 public:
  // Opens the core (read on demand with pread). INVALID_ARGUMENT for a file
  // that is not a 64-bit little-endian ELF core (ET_CORE) or whose headers run
  // past its end (a truncated core keeps the segments that are whole;
  // `warnings()` says which were cut).
  static absl::StatusOr<std::unique_ptr<CoreFileMemory>> Open(
      const std::string& core_path);

  // Serves addresses the core does not hold from `exe_bytes` (the whole
  // executable), whose PT_LOAD segments are at vaddr + `load_bias`.
  absl::Status AddExecutable(std::string_view exe_bytes, uint64_t load_bias);

  // Where the executable is mapped in the core, from the NT_FILE note
  // (runtime start address of the file's mapping at offset 0) when the core
  // has one; lets the caller compute the load bias of a PIE.
  const std::vector<std::pair<std::string, uint64_t>>& mapped_files() const {
    return mapped_files_;
  }
  const std::vector<std::string>& warnings() const { return warnings_; }

  absl::Status Read(uint64_t addr, absl::Span<char> out) const override;
  std::string Describe() const override;
  ~CoreFileMemory() override;

 private:
  struct Segment {
    uint64_t vaddr = 0;
    uint64_t memsz = 0;
    uint64_t stored = 0;       // bytes held, may be fewer than memsz: zero fill
    uint64_t file_offset = 0;  // of the stored bytes in the core
    std::string_view bytes;    // the stored bytes (executable segments)
  };
  CoreFileMemory() = default;
  // Sorts `segments` by address and cuts overlaps off (the lower one wins)
  // so that ReadFrom can binary search: a crafted core can hold 65535 of
  // them, and a linear search per byte made a read quadratic.
  static void SortDisjoint(std::vector<Segment>* segments);
  // fd >= 0: the stored bytes are read from the core at file_offset;
  // else they are `bytes`.
  static bool ReadFrom(const std::vector<Segment>& segments, int fd,
                       uint64_t addr, absl::Span<char> out);

  std::string path_;
  int fd_ = -1;  // the core, read with pread (never mapped: SIGBUS)
  std::vector<Segment> core_segments_;
  std::vector<Segment> exe_segments_;
  std::vector<std::pair<std::string, uint64_t>> mapped_files_;
  std::vector<std::string> warnings_;
};

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_MEMORY_SOURCE_H_
