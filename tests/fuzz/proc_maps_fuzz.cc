// libFuzzer target for ParseProcMaps and the lookups on what it returns
// (FindMapping, ComputeLoadBias), the way gspyd reads /proc/PID/maps of
// every process it profiles. Seeds: corpus/proc_maps/.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "golang/process/proc_maps.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<gspy::MemoryMapping> maps = gspy::ParseProcMaps(text);
  for (const gspy::MemoryMapping& m : maps) {
    // What the parser promises: ordered, non-empty ranges.
    if (m.end <= m.start) __builtin_trap();
    const gspy::MemoryMapping* hit = gspy::FindMapping(maps, m.start);
    if (hit == nullptr || m.start < hit->start || m.start >= hit->end) {
      __builtin_trap();
    }
    gspy::FindMapping(maps, m.end);
  }
  for (size_t i = 1; i < maps.size(); ++i) {
    if (maps[i - 1].start > maps[i].start) __builtin_trap();
  }
  // A PIE's segments as a Go binary has them, against the first inodes.
  const std::vector<gspy::LoadSegment> segments = {
      {0x400000, 0x0, 0x81000, 0x81000, true},
      {0x481000, 0x81000, 0x20000, 0x30000, false}};
  for (size_t i = 0; i < maps.size() && i < 4; ++i) {
    gspy::ComputeLoadBias(maps, maps[i].inode, segments);
  }
  return 0;
}
