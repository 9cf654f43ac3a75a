// /proc/PID/maps, parsed.
#ifndef GSPY_GOLANG_PROCESS_PROC_MAPS_H_
#define GSPY_GOLANG_PROCESS_PROC_MAPS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "golang/binary/go_binary.h"

namespace gspy {

struct MemoryMapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;
  uint64_t inode = 0;
  bool executable = false;
  std::string path;  // empty for anonymous mappings
};

// Parses the text of /proc/PID/maps. Malformed lines are skipped.
std::vector<MemoryMapping> ParseProcMaps(absl::string_view text);

// Reads /proc/PID/maps. NOT_FOUND when the process is gone.
absl::StatusOr<std::vector<MemoryMapping>> ReadProcMaps(int pid);

// The mapping that contains `address`, if any (mappings sorted by start).
const MemoryMapping* FindMapping(const std::vector<MemoryMapping>& mappings,
                                 uint64_t address);

// The load bias of a binary: runtime address minus link-time virtual address,
// from the first mapping of the file (`inode`) and the PT_LOAD segment that
// covers its file offset. 0 for non-PIE executables. nullopt when the file is
// not mapped.
std::optional<uint64_t> ComputeLoadBias(
    const std::vector<MemoryMapping>& mappings, uint64_t inode,
    const std::vector<LoadSegment>& segments);

}  // namespace gspy

#endif  // GSPY_GOLANG_PROCESS_PROC_MAPS_H_
