// Finds runtime.allgs, the []*g of every goroutine ever created, in a running
// Go process (or a core), also when the binary has no symbol table: by
// decoding runtime functions that load it (forEachG, allgadd, checkdead) and
// keeping the referenced address whose contents look like a slice of g's.
#ifndef GSPY_GOLANG_GOROUTINES_ALLGS_FINDER_H_
#define GSPY_GOLANG_GOROUTINES_ALLGS_FINDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/go_binary.h"
#include "golang/binary/runtime_layout.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

// The data addresses that the instructions of `code` (loaded at `address`)
// load, store or take: amd64 RIP-relative operands, arm64 ADRP pages plus the
// offset of the ADD/LDR/STR that uses the register. In order of first use,
// each once. UNIMPLEMENTED for another goarch.
absl::StatusOr<std::vector<uint64_t>> DataReferences(std::string_view code,
                                                     uint64_t address,
                                                     std::string_view goarch);

// Link-time addresses that may be runtime.allgs, most likely first: those
// runtime.forEachG references, then allgadd's and checkdead's, each also
// 8 and 16 bytes lower (a function may touch len or cap first). Reads the
// functions' code through `memory` at entry + `load_bias`.
absl::StatusOr<std::vector<uint64_t>> AllgsCandidates(
    const GoBinary& binary, const MemorySource& memory, uint64_t load_bias);

// How a slice header at some address looks as allgs.
struct AllgsCheck {
  bool ok = false;
  uint64_t array = 0;  // &allgs[0]
  uint64_t len = 0;
  int checked = 0;    // entries read
  int plausible = 0;  // of those, PlausibleG
  int live = 0;       // plausible and not dead, with a goid
  std::string why;    // when !ok
};

// Checks the slice header at runtime address `addr`: len <= cap <= 2^24,
// a pointer-aligned array, and at least 7/8 of up to 64 sampled entries
// (spread over the slice) plausible g's, one of them alive.
AllgsCheck CheckAllgs(const MemorySource& memory, const RuntimeLayout& layout,
                      uint64_t addr);

struct AllgsLocation {
  uint64_t addr = 0;  // runtime address of the slice header
  std::string found_by;
};

// The first candidate that passes CheckAllgs. FAILED_PRECONDITION listing
// what was tried when none does; NOT_FOUND when the process is gone.
absl::StatusOr<AllgsLocation> FindAllgs(const GoBinary& binary,
                                        const MemorySource& memory,
                                        uint64_t load_bias,
                                        const RuntimeLayout& layout);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_ALLGS_FINDER_H_
