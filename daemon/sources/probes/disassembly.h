// Reading a Go function's machine code with Capstone, to place plain uprobes
// where an entry probe is not enough: on its RET instructions (standing in
// for a uretprobe, which crashes Go programs), or just after its prologue.
#ifndef GSPY_DAEMON_SOURCES_PROBES_DISASSEMBLY_H_
#define GSPY_DAEMON_SOURCES_PROBES_DISASSEMBLY_H_

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

// The address of the instruction after the one that sets the frame pointer
// from the stack pointer in the prologue of the function whose code starts
// `code` (loaded at `address`): amd64 `MOVQ SP, BP` or `LEAQ n(SP), BP`,
// arm64 `SUB $8, RSP, R29`. A probe there fires once per call, after the
// stack check: the entry runs again when the prologue grows the stack
// (morestack), and may be preempted there without ever parking. Its frame is
// linked, so a frame-pointer walk from it includes the caller. NOT_FOUND
// when no such instruction is in `code`.
absl::StatusOr<uint64_t> FindFrameSetupEnd(std::string_view code,
                                           uint64_t address,
                                           std::string_view goarch);

// The addresses right after each direct call to `target` in `code` (loaded at
// `address`): where the caller resumes when the callee returns. gopark's
// call to mcall returns only when the parked goroutine runs again, so a
// probe there marks the end of a wait, once per wait, on the goroutine
// itself. NOT_FOUND when there is no such call.
absl::StatusOr<std::vector<uint64_t>> FindReturnsFromCallsTo(
    std::string_view code, uint64_t address, std::string_view goarch,
    uint64_t target);

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_PROBES_DISASSEMBLY_H_
