// Reads the runtime struct offsets (runtime.g, runtime.m, runtime.gobuf) from
// the binary's DWARF with libdw. Go compresses its DWARF sections
// (SHF_COMPRESSED, zlib); libdw's dwarf_begin_elf decompresses them itself.
#ifndef GSPY_GOLANG_BINARY_DWARF_LAYOUT_H_
#define GSPY_GOLANG_BINARY_DWARF_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "golang/binary/runtime_layout.h"

namespace gspy {

// `elf_bytes` is the whole file. NOT_FOUND when there is no DWARF or it
// lacks the runtime structs. Only the offset fields and `source` are set;
// the caller fills go_version, labels_layout and tls_g_offset.
absl::StatusOr<RuntimeLayout> LayoutFromDwarf(std::string_view elf_bytes);

// Member name -> DW_AT_data_member_location of a structure type.
using MemberMap = absl::flat_hash_map<std::string, int32_t>;
struct DwarfStruct {
  int32_t size = -1;  // DW_AT_byte_size
  MemberMap members;
};

// The structure types named `names` (the first DIE of each name), in one
// pass over the DWARF; missing names are absent from the map. NOT_FOUND
// without usable DWARF.
absl::StatusOr<absl::flat_hash_map<std::string, DwarfStruct>> StructsFromDwarf(
    std::string_view elf_bytes, const std::vector<std::string>& names);

}  // namespace gspy

#endif  // GSPY_GOLANG_BINARY_DWARF_LAYOUT_H_
