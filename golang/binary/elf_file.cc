#include "golang/binary/elf_file.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/byte_reader.h"

namespace gspy::gobinary_internal {
namespace {

constexpr uint32_t kRelocX86Relative = 8;         // R_X86_64_RELATIVE
constexpr uint32_t kRelocAarch64Relative = 1027;  // R_AARCH64_RELATIVE

}  // namespace

absl::StatusOr<ElfFile> ElfFile::Parse(std::string_view data) {
  return ParseHeaders(ElfFile(data));
}

absl::StatusOr<ElfFile> ElfFile::Parse(const FileImage& image) {
  return ParseHeaders(ElfFile(image.bytes(), &image));
}

std::optional<std::string_view> ElfFile::FileRange(uint64_t off,
                                                   uint64_t len) const {
  if (image_ != nullptr && !image_->Ensure(off, len)) return std::nullopt;
  return SubView(data_, off, len);
}

bool ElfFile::CopyOut(uint64_t off, uint64_t len, char* out) const {
  if (image_ != nullptr) return image_->Read(off, len, out);
  auto v = SubView(data_, off, len);
  if (!v) return false;
  std::memcpy(out, v->data(), len);
  return true;
}

absl::StatusOr<ElfFile> ElfFile::ParseHeaders(ElfFile elf) {
  const std::string_view data = elf.data_;
  const auto head =
      elf.FileRange(0, std::min<uint64_t>(data.size(), sizeof(Elf64_Ehdr)));
  if (!head) return absl::InvalidArgumentError("cannot read the ELF header");
  auto ehdr = ReadAt<Elf64_Ehdr>(*head, 0);
  if (head->size() < 4 || std::memcmp(head->data(), ELFMAG, SELFMAG) != 0) {
    return absl::InvalidArgumentError("not an ELF file");
  }
  if (!ehdr.has_value()) {
    return absl::InvalidArgumentError("truncated ELF header");
  }
  if (ehdr->e_ident[EI_CLASS] != ELFCLASS64 ||
      ehdr->e_ident[EI_DATA] != ELFDATA2LSB) {
    return absl::UnimplementedError(
        "only 64-bit little-endian ELF files are supported");
  }
  elf.machine_ = ehdr->e_machine;
  elf.type_ = ehdr->e_type;

  // Program headers. Counts are bounded by the file size implicitly: each
  // header must lie inside the file.
  if (ehdr->e_phnum > 0 && ehdr->e_phoff != 0) {
    if (ehdr->e_phentsize < sizeof(Elf64_Phdr)) {
      return absl::InvalidArgumentError("bad e_phentsize");
    }
    if (!elf.FileRange(ehdr->e_phoff,
                       uint64_t{ehdr->e_phnum} * ehdr->e_phentsize)) {
      return absl::InvalidArgumentError("program headers out of file");
    }
    for (uint64_t i = 0; i < ehdr->e_phnum; ++i) {
      auto ph = ReadAt<Elf64_Phdr>(data, ehdr->e_phoff + i * ehdr->e_phentsize);
      if (!ph) return absl::InvalidArgumentError("program header truncated");
      elf.segments_.push_back(ElfSegment{ph->p_type, ph->p_flags, ph->p_offset,
                                         ph->p_vaddr, ph->p_filesz,
                                         ph->p_memsz});
    }
  }

  // Section headers; optional (a file without them is still usable).
  if (ehdr->e_shnum > 0 && ehdr->e_shoff != 0) {
    if (ehdr->e_shentsize < sizeof(Elf64_Shdr)) {
      return absl::InvalidArgumentError("bad e_shentsize");
    }
    if (!elf.FileRange(ehdr->e_shoff,
                       uint64_t{ehdr->e_shnum} * ehdr->e_shentsize)) {
      return absl::InvalidArgumentError("section headers out of file");
    }
    std::vector<Elf64_Shdr> raw;
    raw.reserve(ehdr->e_shnum);
    for (uint64_t i = 0; i < ehdr->e_shnum; ++i) {
      auto sh = ReadAt<Elf64_Shdr>(data, ehdr->e_shoff + i * ehdr->e_shentsize);
      if (!sh) return absl::InvalidArgumentError("section header truncated");
      raw.push_back(*sh);
    }
    std::string_view shstr;
    if (ehdr->e_shstrndx < raw.size()) {
      const Elf64_Shdr& s = raw[ehdr->e_shstrndx];
      if (s.sh_type != SHT_NOBITS) {
        shstr = elf.FileRange(s.sh_offset, s.sh_size).value_or("");
      }
    }
    for (const Elf64_Shdr& s : raw) {
      ElfSection sec;
      sec.name = CStringAt(shstr, s.sh_name).value_or("");
      sec.type = s.sh_type;
      sec.flags = s.sh_flags;
      sec.addr = s.sh_addr;
      sec.offset = s.sh_offset;
      sec.size = s.sh_size;
      sec.link = s.sh_link;
      sec.entsize = s.sh_entsize;
      elf.sections_.push_back(sec);
    }
  }
  if (elf.segments_.empty() && elf.sections_.empty()) {
    return absl::InvalidArgumentError(
        "ELF file has neither program nor section headers");
  }
  return elf;
}

const ElfSection* ElfFile::FindSection(std::string_view name) const {
  for (const ElfSection& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<std::string_view> ElfFile::SectionData(
    const ElfSection& s) const {
  if (s.type == SHT_NOBITS) return std::nullopt;
  return FileRange(s.offset, s.size);
}

std::optional<std::pair<uint64_t, uint64_t>> ElfFile::Locate(
    uint64_t vaddr) const {
  bool have_load = false;
  for (const ElfSegment& seg : segments_) {
    if (seg.type != PT_LOAD) continue;
    have_load = true;
    if (vaddr < seg.vaddr || vaddr - seg.vaddr >= seg.filesz) continue;
    if (seg.offset > data_.size() || data_.size() - seg.offset < seg.filesz) {
      continue;
    }
    return std::make_pair(seg.offset + (vaddr - seg.vaddr),
                          seg.filesz - (vaddr - seg.vaddr));
  }
  if (have_load) return std::nullopt;
  // No program headers: fall back to allocated sections.
  for (const ElfSection& s : sections_) {
    if ((s.flags & SHF_ALLOC) == 0 || s.type == SHT_NOBITS) continue;
    if (vaddr < s.addr || vaddr - s.addr >= s.size) continue;
    if (s.offset > data_.size() || data_.size() - s.offset < s.size) continue;
    return std::make_pair(s.offset + (vaddr - s.addr),
                          s.size - (vaddr - s.addr));
  }
  return std::nullopt;
}

std::optional<std::string_view> ElfFile::ViewFromVaddr(uint64_t vaddr,
                                                       uint64_t max_len) const {
  auto at = Locate(vaddr);
  if (!at) return std::nullopt;
  return FileRange(at->first, std::min(at->second, max_len));
}

std::optional<std::string_view> ElfFile::ReadVaddr(uint64_t vaddr,
                                                   uint64_t len) const {
  auto at = Locate(vaddr);
  if (!at || at->second < len) return std::nullopt;
  return FileRange(at->first, len);
}

template <typename Fn>
void ElfFile::ForEachRelative(Fn fn) const {
  const uint32_t relative =
      machine_ == EM_AARCH64 ? kRelocAarch64Relative : kRelocX86Relative;
  // Streamed through a bounded buffer (relocation tables of a PIE run to
  // megabytes and are scanned a few times in a binary's life).
  constexpr uint64_t kChunk =
      (256 << 10) / sizeof(Elf64_Rela) * sizeof(Elf64_Rela);
  std::string buf;
  auto scan = [&](uint64_t file_off, uint64_t size) {
    for (uint64_t base = 0; base + sizeof(Elf64_Rela) <= size; base += kChunk) {
      const uint64_t len = std::min<uint64_t>(kChunk, size - base);
      buf.resize(len);
      if (!CopyOut(file_off + base, len, buf.data())) return true;
      for (uint64_t off = 0; off + sizeof(Elf64_Rela) <= len;
           off += sizeof(Elf64_Rela)) {
        auto r = ReadAt<Elf64_Rela>(buf, off);
        if (!r) return true;
        if (ELF64_R_TYPE(r->r_info) != relative) continue;
        if (!fn(r->r_offset, static_cast<uint64_t>(r->r_addend))) return false;
      }
    }
    return true;
  };
  bool any = false;
  for (const ElfSection& s : sections_) {
    if (s.type != SHT_RELA) continue;
    any = true;
    if (s.offset > data_.size() || data_.size() - s.offset < s.size) continue;
    if (!scan(s.offset, s.size)) return;
  }
  if (any) return;
  // No section headers: find DT_RELA/DT_RELASZ through PT_DYNAMIC.
  for (const ElfSegment& seg : segments_) {
    if (seg.type != PT_DYNAMIC) continue;
    auto dyn = FileRange(seg.offset, seg.filesz);
    if (!dyn) continue;
    uint64_t rela = 0, relasz = 0;
    for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= dyn->size();
         off += sizeof(Elf64_Dyn)) {
      auto d = ReadAt<Elf64_Dyn>(*dyn, off);
      if (!d || d->d_tag == DT_NULL) break;
      if (d->d_tag == DT_RELA) rela = d->d_un.d_ptr;
      if (d->d_tag == DT_RELASZ) relasz = d->d_un.d_val;
    }
    if (rela != 0 && relasz != 0) {
      auto at = Locate(rela);
      if (at && at->second >= relasz) scan(at->first, relasz);
    }
    return;
  }
}

std::optional<uint64_t> ElfFile::ReadPointer(uint64_t vaddr) const {
  auto bytes = ReadVaddr(vaddr, 8);
  if (!bytes) return std::nullopt;
  uint64_t v = ReadOr0<uint64_t>(*bytes, 0);
  if (v != 0 || type_ != ET_DYN) return v;
  ForEachRelative([&](uint64_t off, uint64_t addend) {
    if (off != vaddr) return true;
    v = addend;
    return false;
  });
  return v;
}

std::vector<uint64_t> ElfFile::RelativeRelocsTo(uint64_t value) const {
  std::vector<uint64_t> out;
  if (type_ != ET_DYN) return out;
  ForEachRelative([&](uint64_t off, uint64_t addend) {
    if (addend == value) out.push_back(off);
    return out.size() < 64;  // bound the candidates
  });
  return out;
}

std::optional<uint64_t> ElfFile::SymbolValue(std::string_view name) const {
  if (name.empty() || name.size() > 4096) return std::nullopt;
  // Streamed through a bounded buffer rather than read into the image: the
  // symbol tables of a large binary run to megabytes and are looked at a
  // few times in its life. First the offsets of `name` in the string table,
  // then the first symbol that points at one of them.
  constexpr uint64_t kChunk = 256 << 10;
  std::string buf;
  for (uint32_t want : {uint32_t{SHT_SYMTAB}, uint32_t{SHT_DYNSYM}}) {
    for (const ElfSection& s : sections_) {
      if (s.type != want || s.link >= sections_.size()) continue;
      const ElfSection& str = sections_[s.link];
      if (str.type == SHT_NOBITS || s.offset > data_.size() ||
          data_.size() - s.offset < s.size || str.offset > data_.size() ||
          data_.size() - str.offset < str.size) {
        continue;
      }
      // Windows start one byte early (for the preceding NUL) and overlap
      // the next chunk by the needle, so a match is seen whole once.
      std::vector<uint64_t> offsets;
      const uint64_t need = name.size() + 1;
      for (uint64_t base = 0; base < str.size && offsets.size() < 64;
           base += kChunk) {
        const uint64_t start = base == 0 ? 0 : base - 1;
        const uint64_t len =
            std::min<uint64_t>(kChunk + need + 1, str.size - start);
        buf.resize(len);
        if (!CopyOut(str.offset + start, len, buf.data())) break;
        for (size_t pos = buf.find(name); pos != std::string::npos;
             pos = buf.find(name, pos + 1)) {
          const uint64_t at = start + pos;
          if (at < base || at - base >= kChunk) continue;
          const bool starts = at == 0 || (pos > 0 && buf[pos - 1] == '\0');
          const bool ends =
              pos + name.size() < buf.size() && buf[pos + name.size()] == '\0';
          if (starts && ends && offsets.size() < 64) offsets.push_back(at);
        }
      }
      if (offsets.empty()) continue;
      const uint64_t per = kChunk / sizeof(Elf64_Sym) * sizeof(Elf64_Sym);
      for (uint64_t base = 0; base < s.size; base += per) {
        const uint64_t len = std::min<uint64_t>(per, s.size - base);
        buf.resize(len);
        if (!CopyOut(s.offset + base, len, buf.data())) break;
        for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= len;
             off += sizeof(Elf64_Sym)) {
          auto sym = ReadAt<Elf64_Sym>(buf, off);
          if (!sym) break;
          if (std::find(offsets.begin(), offsets.end(), sym->st_name) !=
              offsets.end()) {
            return sym->st_value;
          }
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace gspy::gobinary_internal
