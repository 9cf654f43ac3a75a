// Finds the return instructions of a function by disassembling it with
// Capstone, so plain uprobes on them can stand in for a uretprobe (which
// crashes Go programs).
#ifndef GSPY_DAEMON_GC_RET_FINDER_H_
#define GSPY_DAEMON_GC_RET_FINDER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gspy {

// The addresses of the RET instructions in `code`, which is the machine code
// of one function loaded at `address`. `goarch` is "amd64" or "arm64".
// Decoding stops at the first byte Capstone cannot decode (Go pads functions
// with INT3 on amd64, which decodes). Error: unsupported arch, Capstone
// failure, or no RET found.
absl::StatusOr<std::vector<uint64_t>> FindReturnInstructions(
    std::string_view code, uint64_t address, std::string_view goarch);

}  // namespace gspy

#endif  // GSPY_DAEMON_GC_RET_FINDER_H_
