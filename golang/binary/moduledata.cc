#include "golang/binary/moduledata.h"

#include <elf.h>

#include <optional>

#include "absl/status/status.h"
#include "golang/binary/byte_reader.h"

namespace gspy::gobinary_internal {
namespace {

// A moduledata candidate is accepted only when its first fields point at
// the pclntab and its funcnametab/cutab slices.
std::optional<ModuleData> Validate(const ElfFile& elf, const Pclntab& t,
                                   uint64_t addr) {
  auto hdr = elf.ReadPointer(addr);
  auto funcnames = elf.ReadPointer(addr + 8);
  auto cutab = elf.ReadPointer(addr + 32);
  if (!hdr || *hdr != t.vaddr()) return std::nullopt;
  if (!funcnames || *funcnames != t.vaddr() + t.funcname_offset()) {
    return std::nullopt;
  }
  if (!cutab || *cutab != t.vaddr() + t.cu_offset()) return std::nullopt;
  ModuleData md;
  md.vaddr = addr;
  auto text = elf.ReadPointer(addr + kModuledataText);
  uint64_t gofunc_off = kModuledataGofunc118;
  if (t.version() != PclntabVersion::kGo118) {
    auto types = elf.ReadPointer(addr + kModuledataTypes);
    auto etypes = elf.ReadPointer(addr + kModuledataEtypes120);
    if (!types || !etypes) return std::nullopt;
    gofunc_off = *etypes < *types ? kModuledataGofunc127 : kModuledataGofunc120;
  }
  auto gofunc = elf.ReadPointer(addr + gofunc_off);
  if (!text || !gofunc) return std::nullopt;
  md.text = *text;
  md.gofunc = *gofunc;
  return md;
}

}  // namespace

absl::StatusOr<ModuleData> FindModuleData(const ElfFile& elf,
                                          const Pclntab& t) {
  if (const ElfSection* s = elf.FindSection(".go.module")) {
    if (auto md = Validate(elf, t, s->addr)) return *md;
  }
  if (auto sym = elf.SymbolValue("runtime.firstmoduledata")) {
    if (auto md = Validate(elf, t, *sym)) return *md;
  }
  constexpr int kMaxCandidates = 256;
  int candidates = 0;
  for (const ElfSegment& seg : elf.segments()) {
    if (seg.type != PT_LOAD || (seg.flags & PF_W) == 0) continue;
    auto bytes = elf.FileRange(seg.offset, seg.filesz);
    if (!bytes) continue;
    for (uint64_t off = (8 - seg.vaddr % 8) % 8; off + 8 <= bytes->size();
         off += 8) {
      if (ReadOr0<uint64_t>(*bytes, off) != t.vaddr()) continue;
      if (auto md = Validate(elf, t, seg.vaddr + off)) return *md;
      // Validation may scan the relocations; a hostile file full of
      // candidates must not make this quadratic.
      if (++candidates > kMaxCandidates) {
        return absl::NotFoundError("too many moduledata candidates");
      }
    }
  }
  // Externally linked PIE: the pointer is 0 in the file, the value lives in
  // a RELATIVE relocation's addend.
  for (uint64_t addr : elf.RelativeRelocsTo(t.vaddr())) {
    if (auto md = Validate(elf, t, addr)) return *md;
  }
  return absl::NotFoundError("runtime.firstmoduledata not found");
}

}  // namespace gspy::gobinary_internal
