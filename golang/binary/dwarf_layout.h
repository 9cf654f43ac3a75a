// Reads the runtime struct offsets (runtime.g, runtime.m, runtime.gobuf) from
// the binary's DWARF with libdw. Go compresses its DWARF sections
// (SHF_COMPRESSED, zlib); libdw's dwarf_begin_elf decompresses them itself.
#ifndef GSPY_GOLANG_BINARY_DWARF_LAYOUT_H_
#define GSPY_GOLANG_BINARY_DWARF_LAYOUT_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "golang/binary/runtime_layout.h"

namespace gspy {

// `elf_bytes` is the whole file. NOT_FOUND when there is no DWARF or it
// lacks the runtime structs. Only the offset fields and `source` are set;
// the caller fills go_version, labels_layout and tls_g_offset.
absl::StatusOr<RuntimeLayout> LayoutFromDwarf(std::string_view elf_bytes);

}  // namespace gspy

#endif  // GSPY_GOLANG_BINARY_DWARF_LAYOUT_H_
