#include "golang/binary/dwarf_layout.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/byte_reader.h"
#include "golang/binary/elf_file.h"

namespace gspy {
namespace {

using gobinary_internal::FileImage;

// Member name -> DW_AT_data_member_location for a structure DIE. Offsets are
// hostile input: one at or past the struct's size (when known) or beyond
// kMaxDwarfStructBytes is dropped, so a layout never points outside the
// struct it describes.
MemberMap Members(Dwarf_Die* st, int32_t size) {
  const int64_t limit = size > 0 ? size : kMaxDwarfStructBytes;
  MemberMap out;
  Dwarf_Die child;
  if (dwarf_child(st, &child) != 0) return out;
  int guard = 0;
  do {
    if (dwarf_tag(&child) != DW_TAG_member) continue;
    const char* name = dwarf_diename(&child);
    Dwarf_Attribute attr;
    Dwarf_Word off;
    if (name == nullptr ||
        dwarf_attr(&child, DW_AT_data_member_location, &attr) == nullptr ||
        dwarf_formudata(&attr, &off) != 0 ||
        off >= static_cast<Dwarf_Word>(limit)) {
      continue;
    }
    out.emplace(name, static_cast<int32_t>(off));
  } while (++guard < 10000 && dwarf_siblingof(&child, &child) == 0);
  return out;
}

int32_t Get(const MemberMap& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? -1 : it->second;
}

// RAII for the libelf/libdw handles.
struct Handles {
  Elf* elf = nullptr;
  Dwarf* dwarf = nullptr;
  ~Handles() {
    if (dwarf != nullptr) dwarf_end(dwarf);
    if (elf != nullptr) elf_end(elf);
    // libelf inflated the DWARF sections into the heap (tens of MB for a
    // 100 MB binary); glibc keeps freed memory of that size in the heap
    // unless asked to give it back.
    if (dwarf != nullptr) malloc_trim(0);
  }
};

bool IsDwarfSection(std::string_view name) {
  return name.rfind(".debug", 0) == 0 || name.rfind(".zdebug", 0) == 0;
}

// The DWARF sections struct layouts need. The others (line tables, frames,
// location lists, ranges: most of the bytes) are hidden from libdw, which
// would otherwise inflate them all in dwarf_begin_elf.
bool IsNeededDwarfSection(std::string_view name) {
  if (name.rfind(".zdebug", 0) == 0)
    name.remove_prefix(2);
  else if (name.rfind(".debug", 0) == 0)
    name.remove_prefix(1);
  else
    return false;
  for (std::string_view want :
       {"debug_info", "debug_abbrev", "debug_str", "debug_line_str",
        "debug_str_offsets", "debug_addr"}) {
    if (name == want) return true;
  }
  return false;
}

// libelf trusts Elf64_Chdr.ch_size (and the .zdebug size word) and mallocs
// that much before inflating. Rejects sizes zlib cannot produce from the
// compressed bytes (its maximum ratio is about 1032:1), and caps what the
// needed sections inflate to in total: a 1 GiB .debug_info passes the ratio
// check from 1 MB of zeros.
absl::Status CheckCompressedSections(const gobinary_internal::ElfFile& elf,
                                     const FileImage& image) {
  uint64_t total = 0;
  for (const auto& s : elf.sections()) {
    if (!IsNeededDwarfSection(s.name) || s.type == SHT_NOBITS) continue;
    if (s.offset > image.size() || image.size() - s.offset < s.size) {
      return absl::InvalidArgumentError(
          absl::StrCat("DWARF section ", std::string(s.name), " out of file"));
    }
    uint64_t inflated = s.size;
    if ((s.flags & SHF_COMPRESSED) != 0) {
      Elf64_Chdr chdr;
      if (s.size < sizeof(chdr) ||
          !image.Read(s.offset, sizeof(chdr), reinterpret_cast<char*>(&chdr)) ||
          chdr.ch_type != ELFCOMPRESS_ZLIB || chdr.ch_size / 1032 > s.size) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad compressed section ", std::string(s.name)));
      }
      inflated = chdr.ch_size;
    } else if (s.name.rfind(".zdebug", 0) == 0) {
      unsigned char hdr[12];
      if (s.size < sizeof(hdr) ||
          !image.Read(s.offset, sizeof(hdr), reinterpret_cast<char*>(hdr)) ||
          std::memcmp(hdr, "ZLIB", 4) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad compressed section ", std::string(s.name)));
      }
      inflated = 0;
      for (int i = 4; i < 12; ++i) inflated = inflated << 8 | hdr[i];
      if (inflated / 1032 > s.size) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad compressed section ", std::string(s.name)));
      }
    }
    total += inflated;
    if (total > kMaxDecompressedDwarfBytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "DWARF inflates to over ", kMaxDecompressedDwarfBytes >> 20, " MiB (",
          std::string(s.name), " alone to ", inflated, " bytes); not read"));
    }
  }
  return absl::OkStatus();
}

// An anonymous private mapping the size of the file into which the ELF
// and program headers, the section header table, .shstrtab and the needed
// DWARF sections are read; the other DWARF sections are marked SHT_NOBITS
// so libdw skips them. Untouched pages cost nothing.
class SparseCopy {
 public:
  SparseCopy(const FileImage& image, const gobinary_internal::ElfFile& elf)
      : size_(image.size()) {
    if (size_ == 0) return;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    data_ = static_cast<char*>(p);
    ok_ = Fill(image, elf);
  }
  ~SparseCopy() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  SparseCopy(const SparseCopy&) = delete;
  SparseCopy& operator=(const SparseCopy&) = delete;
  char* data() { return ok_ ? data_ : nullptr; }

 private:
  bool Copy(const FileImage& image, uint64_t off, uint64_t len) {
    if (off >= size_) return true;
    len = std::min<uint64_t>(len, size_ - off);
    return image.Read(off, len, data_ + off);
  }
  bool Fill(const FileImage& image, const gobinary_internal::ElfFile& elf) {
    Elf64_Ehdr ehdr;
    if (!image.Read(0, sizeof(ehdr), reinterpret_cast<char*>(&ehdr))) {
      return false;
    }
    std::memcpy(data_, &ehdr, sizeof(ehdr));
    if (!Copy(image, ehdr.e_phoff, uint64_t{ehdr.e_phnum} * ehdr.e_phentsize) ||
        ehdr.e_shentsize < sizeof(Elf64_Shdr)) {
      return false;
    }
    const auto& sections = elf.sections();
    if (!Copy(image, ehdr.e_shoff, sections.size() * ehdr.e_shentsize)) {
      return false;
    }
    for (size_t i = 0; i < sections.size(); ++i) {
      const auto& sec = sections[i];
      if (sec.type == SHT_NOBITS) continue;
      if (i == ehdr.e_shstrndx || sec.name == ".shstrtab" ||
          IsNeededDwarfSection(sec.name)) {
        if (!Copy(image, sec.offset, sec.size)) return false;
      } else if (IsDwarfSection(sec.name)) {
        const uint64_t at =
            ehdr.e_shoff + i * ehdr.e_shentsize + offsetof(Elf64_Shdr, sh_type);
        if (at + sizeof(Elf64_Word) > size_) return false;
        const Elf64_Word nobits = SHT_NOBITS;
        std::memcpy(data_ + at, &nobits, sizeof(nobits));
      }
    }
    return true;
  }

  size_t size_;
  char* data_ = nullptr;
  bool ok_ = false;
};

}  // namespace

absl::StatusOr<absl::flat_hash_map<std::string, DwarfStruct>> StructsFromDwarf(
    std::string_view elf_bytes, const std::vector<std::string>& names) {
  return StructsFromDwarf(*FileImage::View(elf_bytes), names);
}

absl::StatusOr<absl::flat_hash_map<std::string, DwarfStruct>> StructsFromDwarf(
    const FileImage& image, const std::vector<std::string>& names) {
  // Headers only; the DWARF itself is copied out below, never kept in the
  // image (it is read once).
  auto elf = gobinary_internal::ElfFile::Parse(image);
  if (!elf.ok()) return elf.status();
  if (absl::Status st = CheckCompressedSections(*elf, image); !st.ok()) {
    return st;
  }
  elf_version(EV_CURRENT);
  // libelf may write into an elf_memory image (it is opened "mmap private"),
  // and decompression replaces section data; give it a private copy of only
  // what libdw reads.
  SparseCopy copy(image, *elf);
  if (copy.data() == nullptr) {
    return absl::DataLossError("cannot read the DWARF sections");
  }
  Handles h;
  h.elf = elf_memory(copy.data(), image.size());
  if (h.elf == nullptr) return absl::InvalidArgumentError("elf_memory failed");
  h.dwarf = dwarf_begin_elf(h.elf, DWARF_C_READ, nullptr);
  if (h.dwarf == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no usable DWARF: ", dwarf_errmsg(-1)));
  }
  absl::flat_hash_map<std::string, DwarfStruct> out;
  Dwarf_Off off = 0, next;
  size_t hsize;
  int cus = 0;
  int64_t dies = 0;
  while (out.size() < names.size() && ++cus < 100000 &&
         dwarf_nextcu(h.dwarf, off, &next, &hsize, nullptr, nullptr, nullptr) ==
             0) {
    Dwarf_Die cu;
    if (dwarf_offdie(h.dwarf, off + hsize, &cu) != nullptr) {
      Dwarf_Die die;
      if (dwarf_child(&cu, &die) == 0) {
        do {
          if (dwarf_tag(&die) != DW_TAG_structure_type) continue;
          const char* name = dwarf_diename(&die);
          if (name == nullptr || out.contains(name)) continue;
          if (std::find(names.begin(), names.end(), name) == names.end()) {
            continue;
          }
          DwarfStruct st;
          Dwarf_Word size;
          Dwarf_Attribute attr;
          if (dwarf_attr(&die, DW_AT_byte_size, &attr) != nullptr &&
              dwarf_formudata(&attr, &size) == 0 &&
              size <= static_cast<Dwarf_Word>(kMaxDwarfStructBytes)) {
            st.size = static_cast<int32_t>(size);
          }
          st.members = Members(&die, st.size);
          out.emplace(name, std::move(st));
          // Bounded: a hostile DW_AT_sibling can point backwards.
        } while (++dies < 10'000'000 && dwarf_siblingof(&die, &die) == 0);
      }
    }
    if (next <= off) break;
    off = next;
  }
  return out;
}

absl::StatusOr<RuntimeLayout> LayoutFromDwarf(std::string_view elf_bytes) {
  return LayoutFromDwarf(*FileImage::View(elf_bytes));
}

absl::StatusOr<RuntimeLayout> LayoutFromDwarf(const FileImage& image) {
  auto structs =
      StructsFromDwarf(image, {"runtime.g", "runtime.m", "runtime.gobuf"});
  if (!structs.ok()) return structs.status();
  if (structs->size() != 3) {
    return absl::NotFoundError("DWARF lacks runtime.g/runtime.m/runtime.gobuf");
  }
  const MemberMap& g = (*structs)["runtime.g"].members;
  const MemberMap& m = (*structs)["runtime.m"].members;
  const MemberMap& gobuf = (*structs)["runtime.gobuf"].members;
  RuntimeLayout l;
  l.source = LayoutSource::kDwarf;
  l.g_m = Get(g, "m");
  l.g_sched = Get(g, "sched");
  l.g_atomicstatus = Get(g, "atomicstatus");
  l.g_goid = Get(g, "goid");
  l.g_waitreason = Get(g, "waitreason");
  l.g_labels = Get(g, "labels");
  l.g_parentgoid = Get(g, "parentGoid");
  l.g_gopc = Get(g, "gopc");
  l.g_startpc = Get(g, "startpc");
  l.g_waitsince = Get(g, "waitsince");
  l.gobuf_sp = Get(gobuf, "sp");
  l.gobuf_pc = Get(gobuf, "pc");
  l.gobuf_bp = Get(gobuf, "bp");
  l.m_g0 = Get(m, "g0");
  l.m_curg = Get(m, "curg");
  l.m_procid = Get(m, "procid");
  if (l.g_m < 0 || l.g_sched < 0 || l.g_goid < 0 || l.m_curg < 0 ||
      l.gobuf_sp < 0 || l.gobuf_pc < 0) {
    return absl::NotFoundError("DWARF runtime structs lack required members");
  }
  return l;
}

}  // namespace gspy
