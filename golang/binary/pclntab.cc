#include "golang/binary/pclntab.h"

#include <elf.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "golang/binary/byte_reader.h"

namespace gspy::gobinary_internal {
namespace {

constexpr uint32_t kMagic118 = 0xfffffff0;
constexpr uint32_t kMagic120 = 0xfffffff1;
constexpr uint32_t kMagic116 = 0xfffffffa;
constexpr uint32_t kMagic12 = 0xfffffffb;
constexpr size_t kHeaderSize = 72;

bool IsKnownMagic(uint32_t m) {
  return m == kMagic118 || m == kMagic120 || m == kMagic116 || m == kMagic12;
}

// Returns `data[from, to)` when from <= to <= size, else `data[from:]`, so a
// table never extends into the next one for well-formed files and never past
// the end for hostile ones.
std::string_view Table(std::string_view data, uint64_t from, uint64_t to) {
  if (from > data.size()) return {};
  if (to >= from && to <= data.size()) return data.substr(from, to - from);
  return data.substr(from);
}

absl::StatusOr<PclntabLocation> Located(const ElfFile& elf, uint64_t vaddr,
                                        std::string_view bytes) {
  PclntabLocation loc{vaddr, bytes};
  absl::Status st = Pclntab::Parse(loc).status();
  if (!st.ok()) return st;
  return loc;
}

}  // namespace

absl::StatusOr<PclntabLocation> FindPclntab(const ElfFile& elf) {
  for (std::string_view name : {".gopclntab", ".data.rel.ro.gopclntab"}) {
    if (const ElfSection* s = elf.FindSection(name)) {
      auto bytes = elf.SectionData(*s);
      if (!bytes) return absl::InvalidArgumentError("pclntab out of file");
      return Located(elf, s->addr, *bytes);
    }
  }
  auto start = elf.SymbolValue("runtime.pclntab");
  auto end = elf.SymbolValue("runtime.epclntab");
  if (start && end && *end > *start) {
    if (auto bytes = elf.ReadVaddr(*start, *end - *start)) {
      return Located(elf, *start, *bytes);
    }
  }
  // Scan the loaded segments for a header that validates. Read-only ones
  // first: that is where the linker puts it (RELRO for old internal PIE).
  absl::Status last = absl::NotFoundError("no pclntab");
  for (int pass = 0; pass < 2; ++pass) {
    for (const ElfSegment& seg : elf.segments()) {
      if (seg.type != PT_LOAD) continue;
      const bool writable = (seg.flags & PF_W) != 0;
      if (writable != (pass == 1)) continue;
      auto bytes = elf.FileRange(seg.offset, seg.filesz);
      if (!bytes) continue;
      // The header is 8-aligned: "?? ff ff ff 00 00 <minLC> 08".
      for (uint64_t off = (8 - seg.vaddr % 8) % 8;
           off + kHeaderSize <= bytes->size(); off += 8) {
        auto m = ReadAt<uint32_t>(*bytes, off);
        if (!m || !IsKnownMagic(*m)) continue;
        if ((*bytes)[off + 4] != 0 || (*bytes)[off + 5] != 0 ||
            (*bytes)[off + 7] != 8) {
          continue;
        }
        auto loc = Located(elf, seg.vaddr + off, bytes->substr(off));
        if (loc.ok()) return loc;
        if (absl::IsUnimplemented(loc.status())) last = loc.status();
      }
    }
  }
  return last;
}

absl::StatusOr<Pclntab> Pclntab::Parse(const PclntabLocation& loc) {
  std::string_view d = loc.bytes;
  auto magic = ReadAt<uint32_t>(d, 0);
  if (!magic || d.size() < 8) {
    return absl::InvalidArgumentError("truncated pclntab header");
  }
  const uint8_t pad1 = d[4], pad2 = d[5], min_lc = d[6], ptr_size = d[7];
  if (!IsKnownMagic(*magic) || pad1 != 0 || pad2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad pclntab magic 0x%08x", *magic));
  }
  if (*magic == kMagic116 || *magic == kMagic12) {
    return absl::UnimplementedError(absl::StrFormat(
        "pclntab magic 0x%08x (%s) is not supported; gspy needs Go 1.18+",
        *magic, *magic == kMagic116 ? "Go 1.16-1.17" : "Go 1.2-1.15"));
  }
  if (ptr_size != 8 || (min_lc != 1 && min_lc != 2 && min_lc != 4)) {
    return absl::UnimplementedError(absl::StrFormat(
        "pclntab with ptrSize %d minLC %d is not supported", ptr_size, min_lc));
  }
  if (d.size() < kHeaderSize) {
    return absl::InvalidArgumentError("truncated pclntab header");
  }
  Pclntab t;
  t.version_ =
      *magic == kMagic118 ? PclntabVersion::kGo118 : PclntabVersion::kGo120;
  t.vaddr_ = loc.vaddr;
  t.data_ = d;
  t.min_lc_ = min_lc;
  t.nfunc_ = ReadOr0<uint64_t>(d, 8);
  t.header_text_start_ = ReadOr0<uint64_t>(d, 24);
  t.funcname_off_ = ReadOr0<uint64_t>(d, 32);
  t.cu_off_ = ReadOr0<uint64_t>(d, 40);
  t.filetab_off_ = ReadOr0<uint64_t>(d, 48);
  const uint64_t pctab_off = ReadOr0<uint64_t>(d, 56);
  const uint64_t pcln_off = ReadOr0<uint64_t>(d, 64);
  for (uint64_t o :
       {t.funcname_off_, t.cu_off_, t.filetab_off_, pctab_off, pcln_off}) {
    if (o < kHeaderSize || o > d.size()) {
      return absl::InvalidArgumentError("pclntab table offset out of range");
    }
  }
  t.funcnametab_ = Table(d, t.funcname_off_, t.cu_off_);
  t.cutab_ = Table(d, t.cu_off_, t.filetab_off_);
  t.filetab_ = Table(d, t.filetab_off_, pctab_off);
  t.pctab_ = Table(d, pctab_off, pcln_off);
  t.functab_region_ = d.substr(pcln_off);
  // functab holds nfunc+1 8-byte entries; bounding nfunc by the size keeps
  // every later index computation in range.
  if (t.nfunc_ == 0 || t.nfunc_ >= t.functab_region_.size() / 8) {
    return absl::InvalidArgumentError("pclntab nfunc out of range");
  }
  // Entries must be sorted; checking the ends catches most garbage cheaply.
  if (ReadOr0<uint32_t>(t.functab_region_, 0) >
      ReadOr0<uint32_t>(t.functab_region_, t.nfunc_ * 8)) {
    return absl::InvalidArgumentError("pclntab functab not sorted");
  }
  return t;
}

std::optional<uint32_t> Pclntab::FindFuncIndex(uint64_t pc) const {
  if (pc < text_start_ || pc - text_start_ > UINT32_MAX) return std::nullopt;
  const uint32_t off = static_cast<uint32_t>(pc - text_start_);
  auto entry_at = [&](uint64_t i) {
    return ReadOr0<uint32_t>(functab_region_, i * 8);
  };
  if (off >= entry_at(nfunc_) || off < entry_at(0)) return std::nullopt;
  // upper_bound over entries [0, nfunc): first entry > off.
  uint64_t lo = 0, hi = nfunc_;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (entry_at(mid) <= off) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return static_cast<uint32_t>(lo - 1);
}

std::optional<RawFunc> Pclntab::FuncAt(uint32_t i) const {
  if (i >= nfunc_) return std::nullopt;
  RawFunc f;
  const uint64_t e = ReadOr0<uint32_t>(functab_region_, uint64_t{i} * 8);
  const uint64_t next = ReadOr0<uint32_t>(functab_region_, uint64_t{i} * 8 + 8);
  f.entry = text_start_ + e;
  f.end = text_start_ + next;
  f.offset = ReadOr0<uint32_t>(functab_region_, uint64_t{i} * 8 + 4);
  const size_t hdr = FuncHeaderSize();
  auto raw = SubView(functab_region_, f.offset, hdr);
  if (!raw) return std::nullopt;
  f.name_off = ReadOr0<int32_t>(*raw, 4);
  f.pcsp = ReadOr0<uint32_t>(*raw, 16);
  f.pcfile = ReadOr0<uint32_t>(*raw, 20);
  f.pcln = ReadOr0<uint32_t>(*raw, 24);
  f.npcdata = ReadOr0<uint32_t>(*raw, 28);
  f.cu_offset = ReadOr0<uint32_t>(*raw, 32);
  size_t p = 36;
  if (version_ == PclntabVersion::kGo120) {
    f.start_line = ReadOr0<int32_t>(*raw, 36);
    p = 40;
  }
  f.func_id = static_cast<uint8_t>((*raw)[p]);
  f.nfuncdata = static_cast<uint8_t>((*raw)[p + 3]);
  // The pcdata/funcdata arrays must fit too; otherwise drop them.
  if (!SubView(functab_region_, f.offset + hdr,
               (uint64_t{f.npcdata} + f.nfuncdata) * 4)) {
    f.npcdata = 0;
    f.nfuncdata = 0;
  }
  return f;
}

std::optional<int32_t> Pclntab::PcValue(uint32_t off, uint64_t entry,
                                        uint64_t pc) const {
  if (off == 0 || off >= pctab_.size()) return std::nullopt;
  uint64_t pos = off;
  int32_t val = -1;
  uint64_t cur = entry;
  bool first = true;
  // Each step consumes at least two bytes, so this ends within pctab.
  while (true) {
    uint64_t uvdelta, pcdelta;
    if (!ReadUvarint(pctab_, &pos, &uvdelta)) return std::nullopt;
    if (uvdelta == 0 && !first) return std::nullopt;
    first = false;
    const uint32_t u = static_cast<uint32_t>(uvdelta);
    const int32_t delta = (u & 1) ? static_cast<int32_t>(~(u >> 1))
                                  : static_cast<int32_t>(u >> 1);
    val = static_cast<int32_t>(static_cast<uint32_t>(val) +
                               static_cast<uint32_t>(delta));
    if (!ReadUvarint(pctab_, &pos, &pcdelta)) return std::nullopt;
    cur += static_cast<uint32_t>(pcdelta) * uint64_t{min_lc_};
    if (pc < cur) return val;
  }
}

std::string_view Pclntab::FuncName(int32_t name_off) const {
  if (name_off < 0) return {};
  return CStringAt(funcnametab_, static_cast<uint32_t>(name_off)).value_or("");
}

std::string_view Pclntab::FileName(uint32_t cu_offset, int32_t fileno) const {
  if (fileno < 0) return "?";
  auto off = ReadAt<uint32_t>(
      cutab_, (uint64_t{cu_offset} + static_cast<uint32_t>(fileno)) * 4);
  if (!off || *off == UINT32_MAX) return "?";
  return CStringAt(filetab_, *off).value_or("?");
}

uint32_t Pclntab::PcData(const RawFunc& f, uint32_t i) const {
  if (i >= f.npcdata) return 0;
  return ReadOr0<uint32_t>(functab_region_,
                           f.offset + FuncHeaderSize() + uint64_t{i} * 4);
}

std::optional<uint32_t> Pclntab::FuncData(const RawFunc& f, uint32_t i) const {
  if (i >= f.nfuncdata) return std::nullopt;
  auto v = ReadAt<uint32_t>(functab_region_, f.offset + FuncHeaderSize() +
                                                 (uint64_t{f.npcdata} + i) * 4);
  if (!v || *v == UINT32_MAX) return std::nullopt;
  return v;
}

}  // namespace gspy::gobinary_internal
