// A minimal, bounds-checked ELF64 little-endian reader over bytes owned by the
// caller. Hand-parsed rather than libelf because the symbolizer needs only
// headers, a few symbols and relocations, and every count here is validated
// against the file size so hostile input cannot trigger large allocations.
#ifndef GSPY_GOLANG_BINARY_ELF_FILE_H_
#define GSPY_GOLANG_BINARY_ELF_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "golang/binary/file_image.h"

namespace gspy::gobinary_internal {

struct ElfSection {
  std::string_view name;
  uint32_t type = 0;
  uint64_t flags = 0;
  uint64_t addr = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t link = 0;
  uint64_t entsize = 0;
};

struct ElfSegment {
  uint32_t type = 0;
  uint32_t flags = 0;  // PF_X=1, PF_W=2, PF_R=4
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
};

class ElfFile {
 public:
  // Parses the headers of `data`, which must outlive the ElfFile.
  static absl::StatusOr<ElfFile> Parse(std::string_view data);
  // Same over an image read on demand: every range a method returns is read
  // into the image first (and a range that cannot be read is absent).
  static absl::StatusOr<ElfFile> Parse(const FileImage& image);

  // The whole file's address range: only ranges returned by the methods
  // below are sure to hold the file's bytes (see FileImage).
  std::string_view data() const { return data_; }
  // File bytes [off, off+len); nullopt when out of file or unreadable.
  std::optional<std::string_view> FileRange(uint64_t off, uint64_t len) const;
  uint16_t machine() const { return machine_; }
  uint16_t type() const { return type_; }
  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::vector<ElfSegment>& segments() const { return segments_; }

  const ElfSection* FindSection(std::string_view name) const;
  // Contents of a section; nullopt for SHT_NOBITS or out-of-file ranges.
  std::optional<std::string_view> SectionData(const ElfSection& s) const;

  // File bytes backing [vaddr, vaddr+len), looked up in the PT_LOAD segments
  // (or the allocated sections when there are no program headers).
  std::optional<std::string_view> ReadVaddr(uint64_t vaddr, uint64_t len) const;
  // File bytes from vaddr to the end of its file-backed PT_LOAD data, at
  // most `max_len` of them.
  std::optional<std::string_view> ViewFromVaddr(
      uint64_t vaddr, uint64_t max_len = UINT64_MAX) const;

  // Reads a pointer-sized (8-byte) value at vaddr. When the stored value is 0
  // and a RELATIVE relocation targets vaddr (externally linked PIE), returns
  // the relocation addend instead, which is the link-time value.
  std::optional<uint64_t> ReadPointer(uint64_t vaddr) const;

  // Value of a symbol in .symtab (or .dynsym), by exact name.
  std::optional<uint64_t> SymbolValue(std::string_view name) const;

  // Virtual addresses of RELATIVE relocations whose addend equals `value`.
  std::vector<uint64_t> RelativeRelocsTo(uint64_t value) const;

 private:
  explicit ElfFile(std::string_view data, const FileImage* image = nullptr)
      : data_(data), image_(image) {}
  static absl::StatusOr<ElfFile> ParseHeaders(ElfFile elf);
  // The file offset of vaddr and the file-backed bytes from there on.
  std::optional<std::pair<uint64_t, uint64_t>> Locate(uint64_t vaddr) const;
  // Copies file bytes without keeping them in the image (one-pass scans).
  bool CopyOut(uint64_t off, uint64_t len, char* out) const;
  // Calls fn(offset, addend) for each RELATIVE relocation; stops when fn
  // returns false.
  template <typename Fn>
  void ForEachRelative(Fn fn) const;

  std::string_view data_;
  const FileImage* image_ = nullptr;  // null: data_ is all in memory
  uint16_t machine_ = 0;
  uint16_t type_ = 0;
  std::vector<ElfSection> sections_;
  std::vector<ElfSegment> segments_;
};

}  // namespace gspy::gobinary_internal

#endif  // GSPY_GOLANG_BINARY_ELF_FILE_H_
