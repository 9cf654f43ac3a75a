// Locates runtime.firstmoduledata. It holds two values the pclntab header
// lacks: the text base in Go 1.26 (pcHeader.textStart is 0 there) and gofunc,
// the base of every funcdata offset (inline trees).
#ifndef GSPY_DAEMON_GOBINARY_MODULEDATA_H_
#define GSPY_DAEMON_GOBINARY_MODULEDATA_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "daemon/gobinary/elf_file.h"
#include "daemon/gobinary/pclntab.h"

namespace gspy::gobinary_internal {

struct ModuleData {
  uint64_t vaddr = 0;
  uint64_t text = 0;    // moduledata.text
  uint64_t gofunc = 0;  // moduledata.gofunc
};

// Field offsets (runtime/symtab.go), the same on amd64 and arm64: `text`
// has been at 176 since 1.16; `gofunc` is at 304 in 1.18-1.19 and at 320 from
// 1.20 on, after covctrs/ecovctrs were inserted. Verified on go1.26.8.
inline constexpr uint64_t kModuledataText = 176;
inline constexpr uint64_t kModuledataGofunc118 = 304;
inline constexpr uint64_t kModuledataGofunc120 = 320;

// By section .go.module, symbol runtime.firstmoduledata, else by scanning
// writable data (and RELATIVE relocations) for a pointer to the pclntab.
absl::StatusOr<ModuleData> FindModuleData(const ElfFile& elf,
                                          const Pclntab& pclntab);

}  // namespace gspy::gobinary_internal

#endif  // GSPY_DAEMON_GOBINARY_MODULEDATA_H_
