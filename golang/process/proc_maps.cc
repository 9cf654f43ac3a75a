#include "golang/process/proc_maps.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace gspy {

std::vector<MemoryMapping> ParseProcMaps(absl::string_view text) {
  std::vector<MemoryMapping> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    // start-end perms offset dev inode [path]
    std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 5) continue;
    std::vector<absl::string_view> range = absl::StrSplit(f[0], '-');
    MemoryMapping m;
    if (range.size() != 2 || !absl::SimpleHexAtoi(range[0], &m.start) ||
        !absl::SimpleHexAtoi(range[1], &m.end) ||
        !absl::SimpleHexAtoi(f[2], &m.offset) ||
        !absl::SimpleAtoi(f[4], &m.inode) || m.end <= m.start ||
        f[1].size() < 3) {
      continue;
    }
    m.executable = f[1][2] == 'x';
    if (f.size() >= 6) {
      // The path may contain spaces: take everything after the inode field.
      size_t pos = line.find(f[5], f[4].data() - line.data() + f[4].size());
      m.path =
          std::string(absl::StripTrailingAsciiWhitespace(line.substr(pos)));
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const MemoryMapping& a, const MemoryMapping& b) {
              return a.start < b.start;
            });
  return out;
}

absl::StatusOr<std::vector<MemoryMapping>> ReadProcMaps(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/maps"));
  if (!in) {
    return absl::NotFoundError(absl::StrCat("pid ", pid, ": no such process"));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseProcMaps(buf.str());
}

const MemoryMapping* FindMapping(const std::vector<MemoryMapping>& mappings,
                                 uint64_t address) {
  auto it = std::upper_bound(
      mappings.begin(), mappings.end(), address,
      [](uint64_t a, const MemoryMapping& m) { return a < m.start; });
  if (it == mappings.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

std::optional<uint64_t> ComputeLoadBias(
    const std::vector<MemoryMapping>& mappings, uint64_t inode,
    const std::vector<LoadSegment>& segments) {
  for (const MemoryMapping& m : mappings) {
    if (m.inode != inode || inode == 0) continue;
    for (const LoadSegment& seg : segments) {
      // Mappings start on a page boundary; segments need not.
      const uint64_t seg_page = seg.offset & ~uint64_t{0xfff};
      if (m.offset >= seg_page &&
          m.offset < seg.offset + std::max<uint64_t>(seg.filesz, 1)) {
        // vaddr - offset is the same for every byte of the segment.
        return m.start - (seg.vaddr - seg.offset + m.offset);
      }
    }
  }
  return std::nullopt;
}

}  // namespace gspy
