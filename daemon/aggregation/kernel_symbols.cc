#include "daemon/aggregation/kernel_symbols.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace gspy {

KernelSymbols KernelSymbols::Load() {
  std::ifstream in("/proc/kallsyms");
  std::stringstream buf;
  buf << in.rdbuf();
  return Parse(buf.str());
}

KernelSymbols KernelSymbols::Parse(absl::string_view kallsyms) {
  KernelSymbols out;
  for (absl::string_view line : absl::StrSplit(kallsyms, '\n')) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() < 3) continue;
    uint64_t addr;
    if (!absl::SimpleHexAtoi(f[0], &addr) || addr == 0) continue;
    const char type = f[1].empty() ? '?' : f[1][0];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    out.symbols_.push_back({addr, std::string(f[2])});
  }
  std::sort(
      out.symbols_.begin(), out.symbols_.end(),
      [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
  return out;
}

absl::string_view KernelSymbols::Lookup(uint64_t address) const {
  auto it = std::upper_bound(
      symbols_.begin(), symbols_.end(), address,
      [](uint64_t a, const Symbol& s) { return a < s.address; });
  if (it == symbols_.begin()) return {};
  return std::prev(it)->name;
}

}  // namespace gspy
