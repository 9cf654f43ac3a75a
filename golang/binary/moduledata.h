// Locates runtime.firstmoduledata. It holds two values the pclntab header
// lacks: the text base in Go 1.26 (pcHeader.textStart is 0 there) and gofunc,
// the base of every funcdata offset (inline trees).
#ifndef GSPY_GOLANG_BINARY_MODULEDATA_H_
#define GSPY_GOLANG_BINARY_MODULEDATA_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "golang/binary/elf_file.h"
#include "golang/binary/pclntab.h"

namespace gspy::gobinary_internal {

struct ModuleData {
  uint64_t vaddr = 0;
  uint64_t text = 0;    // moduledata.text
  uint64_t gofunc = 0;  // moduledata.gofunc
};

// Field offsets (runtime/symtab.go), the same on amd64 and arm64: `text`
// has been at 176 since 1.16; `gofunc` is at 304 in 1.18-1.19 and at 320 from
// 1.20 on, after covctrs/ecovctrs were inserted, and at 344 from 1.27 on,
// which put typedesclen between types and etypes and itaboffset/itabsize
// before rodata (the pclntab format did not change). A 1.27 moduledata is
// recognized by byte 304 holding a length (typedesclen) smaller than the
// `types` address at 296, where 1.20-1.26 hold etypes >= types there.
// Verified on go1.26.8, go1.26.11 and go1.27.4.
inline constexpr uint64_t kModuledataText = 176;
inline constexpr uint64_t kModuledataTypes = 296;
inline constexpr uint64_t kModuledataEtypes120 = 304;
inline constexpr uint64_t kModuledataGofunc118 = 304;
inline constexpr uint64_t kModuledataGofunc120 = 320;
inline constexpr uint64_t kModuledataGofunc127 = 344;

// By section .go.module, symbol runtime.firstmoduledata, else by scanning
// writable data (and RELATIVE relocations) for a pointer to the pclntab.
absl::StatusOr<ModuleData> FindModuleData(const ElfFile& elf,
                                          const Pclntab& pclntab);

}  // namespace gspy::gobinary_internal

#endif  // GSPY_GOLANG_BINARY_MODULEDATA_H_
