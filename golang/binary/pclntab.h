// Read-only view of a Go 1.18+ pclntab (runtime/symtab.go pcHeader, functab,
// _func, the pc-value tables). Parsing validates the header once; lookups
// decode lazily and every read is bounds-checked, so a corrupt table yields
// missing data, never an out-of-bounds access.
#ifndef GSPY_GOLANG_BINARY_PCLNTAB_H_
#define GSPY_GOLANG_BINARY_PCLNTAB_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "golang/binary/elf_file.h"

namespace gspy::gobinary_internal {

enum class PclntabVersion {
  kGo118,  // magic 0xfffffff0: Go 1.18-1.19
  kGo120,  // magic 0xfffffff1: Go 1.20 on (1.27 included)
};

// PCDATA / FUNCDATA indexes from internal/abi/symtab.go.
inline constexpr uint32_t kPcdataInlTreeIndex = 2;
inline constexpr uint32_t kFuncdataInlTree = 3;

// Where a pclntab was found.
struct PclntabLocation {
  uint64_t vaddr = 0;
  std::string_view bytes;  // from the header to the end of the table
};

// Finds the pclntab by section name, symbols, or by scanning segments for a
// valid header. UNIMPLEMENTED for pre-1.18 magics, NOT_FOUND when absent.
absl::StatusOr<PclntabLocation> FindPclntab(const ElfFile& elf);

// A decoded _func header.
struct RawFunc {
  uint64_t entry = 0;  // link-time address
  uint64_t end = 0;
  uint64_t offset = 0;  // of the _func inside the pclntab bytes
  int32_t name_off = 0;
  uint32_t pcsp = 0;
  uint32_t pcfile = 0;
  uint32_t pcln = 0;
  uint32_t npcdata = 0;
  uint32_t cu_offset = 0;
  int32_t start_line = 0;
  uint8_t func_id = 0;
  uint8_t nfuncdata = 0;
};

class Pclntab {
 public:
  // Validates the header at loc. text_start is filled in later (SetTextStart)
  // because Go 1.26 stores it only in moduledata.
  static absl::StatusOr<Pclntab> Parse(const PclntabLocation& loc);

  PclntabVersion version() const { return version_; }
  uint64_t vaddr() const { return vaddr_; }
  uint64_t nfunc() const { return nfunc_; }
  uint8_t min_lc() const { return min_lc_; }
  // Header fields, as offsets from the header.
  uint64_t funcname_offset() const { return funcname_off_; }
  uint64_t cu_offset() const { return cu_off_; }
  uint64_t filetab_offset() const { return filetab_off_; }
  // pcHeader.textStart as stored in the file (0 in Go 1.26).
  uint64_t header_text_start() const { return header_text_start_; }
  void SetTextStart(uint64_t text) { text_start_ = text; }
  uint64_t text_start() const { return text_start_; }

  // Index of the function covering pc, if any.
  std::optional<uint32_t> FindFuncIndex(uint64_t pc) const;
  // The decoded _func at functab index i (< nfunc()).
  std::optional<RawFunc> FuncAt(uint32_t i) const;

  // runtime.pcvalue: the value of table `off` (in pctab) at pc; nullopt when
  // the table is absent (off 0), corrupt, or does not cover pc.
  std::optional<int32_t> PcValue(uint32_t off, uint64_t entry,
                                 uint64_t pc) const;
  std::string_view FuncName(int32_t name_off) const;
  // File name for a pcfile value within the function's compilation unit.
  std::string_view FileName(uint32_t cu_offset, int32_t fileno) const;
  // pcdata[i] table offset (0 when absent).
  uint32_t PcData(const RawFunc& f, uint32_t i) const;
  // funcdata[i], an offset from moduledata.gofunc; nullopt when absent.
  std::optional<uint32_t> FuncData(const RawFunc& f, uint32_t i) const;

 private:
  Pclntab() = default;
  size_t FuncHeaderSize() const {
    return version_ == PclntabVersion::kGo118 ? 40 : 44;
  }

  PclntabVersion version_ = PclntabVersion::kGo120;
  uint64_t vaddr_ = 0;
  std::string_view data_;
  uint64_t nfunc_ = 0;
  uint8_t min_lc_ = 1;
  uint64_t header_text_start_ = 0;
  uint64_t text_start_ = 0;
  uint64_t funcname_off_ = 0, cu_off_ = 0, filetab_off_ = 0;
  std::string_view funcnametab_, cutab_, filetab_, pctab_, functab_region_;
};

}  // namespace gspy::gobinary_internal

#endif  // GSPY_GOLANG_BINARY_PCLNTAB_H_
