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
#include "golang/binary/file_image.h"
#include "golang/binary/runtime_layout.h"

namespace gspy {

// The most decompressed DWARF gspy inflates for one binary, over the
// sections it reads (.debug_info, _abbrev, _str, ...). A constant, not a
// flag: DWARF only refines what the generated layout table already knows for
// every supported release, so no operator needs to raise it, and a hostile
// binary must not be able to make gspyd inflate more (a 1 GiB .debug_info
// passes zlib's ratio check). Go's own runtime CUs take a few MB; a binary
// whose DWARF is larger falls back to the table.
inline constexpr uint64_t kMaxDecompressedDwarfBytes = uint64_t{64} << 20;

// Offsets and sizes beyond this are not believed: the runtime structs gspy
// reads are a few KiB.
inline constexpr int64_t kMaxDwarfStructBytes = int64_t{1} << 20;

// `elf_bytes` is the whole file. NOT_FOUND when there is no DWARF or it
// lacks the runtime structs. Only the offset fields and `source` are set;
// the caller fills go_version, labels_layout and tls_g_offset.
absl::StatusOr<RuntimeLayout> LayoutFromDwarf(std::string_view elf_bytes);
absl::StatusOr<RuntimeLayout> LayoutFromDwarf(
    const gobinary_internal::FileImage& image);

// Member name -> DW_AT_data_member_location of a structure type.
using MemberMap = absl::flat_hash_map<std::string, int32_t>;
struct DwarfStruct {
  int32_t size = -1;  // DW_AT_byte_size
  MemberMap members;
};

// The structure types named `names` (the first DIE of each name), in one
// pass over the DWARF; missing names are absent from the map. NOT_FOUND
// without usable DWARF, RESOURCE_EXHAUSTED when it would inflate past
// kMaxDecompressedDwarfBytes. Sizes and member offsets are checked: a member
// at or past its struct's size, or beyond kMaxDwarfStructBytes, is dropped.
absl::StatusOr<absl::flat_hash_map<std::string, DwarfStruct>> StructsFromDwarf(
    std::string_view elf_bytes, const std::vector<std::string>& names);
absl::StatusOr<absl::flat_hash_map<std::string, DwarfStruct>> StructsFromDwarf(
    const gobinary_internal::FileImage& image,
    const std::vector<std::string>& names);

}  // namespace gspy

#endif  // GSPY_GOLANG_BINARY_DWARF_LAYOUT_H_
