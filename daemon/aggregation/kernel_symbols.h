// Kernel symbols from /proc/kallsyms, for the optional kernel part of stacks.
#ifndef GSPY_DAEMON_AGGREGATION_KERNEL_SYMBOLS_H_
#define GSPY_DAEMON_AGGREGATION_KERNEL_SYMBOLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace gspy {

class KernelSymbols {
 public:
  // Reads /proc/kallsyms (addresses are zero without privilege; then every
  // lookup fails and frames show as "[kernel]").
  static KernelSymbols Load();
  static KernelSymbols Parse(absl::string_view kallsyms);

  // The function containing `address`, or "" when unknown.
  absl::string_view Lookup(uint64_t address) const;
  size_t size() const { return symbols_.size(); }

 private:
  struct Symbol {
    uint64_t address;
    std::string name;
  };
  std::vector<Symbol> symbols_;  // sorted by address
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_KERNEL_SYMBOLS_H_
