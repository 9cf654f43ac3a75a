#include "golang/binary/dwarf_layout.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/byte_reader.h"
#include "golang/binary/elf_file.h"

namespace gspy {
namespace {

// Member name -> DW_AT_data_member_location for a structure DIE.
MemberMap Members(Dwarf_Die* st) {
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
        dwarf_formudata(&attr, &off) != 0 || off > INT32_MAX) {
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

// libelf trusts Elf64_Chdr.ch_size and mallocs that much before inflating.
// Reject sizes zlib cannot produce from the compressed bytes (its maximum
// ratio is about 1032:1) so a hostile header cannot ask for terabytes.
absl::Status CheckCompressedSections(std::string_view elf_bytes) {
  auto elf = gobinary_internal::ElfFile::Parse(elf_bytes);
  if (!elf.ok()) return elf.status();
  for (const auto& s : elf->sections()) {
    if ((s.flags & SHF_COMPRESSED) == 0) continue;
    auto data = elf->SectionData(s);
    if (!data)
      return absl::InvalidArgumentError("compressed section out of file");
    auto chdr = gobinary_internal::ReadAt<Elf64_Chdr>(*data, 0);
    if (!chdr || chdr->ch_type != ELFCOMPRESS_ZLIB ||
        chdr->ch_size / 1032 > data->size() || chdr->ch_size > (1ull << 32)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad compressed section ", std::string(s.name)));
    }
  }
  return absl::OkStatus();
}

// An anonymous private mapping the size of the file into which the ELF
// and program headers, the section header table, .shstrtab and the DWARF
// sections are copied.
class SparseCopy {
 public:
  explicit SparseCopy(std::string_view bytes) : size_(bytes.size()) {
    if (size_ == 0) return;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    data_ = static_cast<char*>(p);
    auto copy = [&](uint64_t off, uint64_t len) {
      if (off >= size_) return;
      len = std::min<uint64_t>(len, size_ - off);
      std::memcpy(data_ + off, bytes.data() + off, len);
    };
    auto ehdr = gobinary_internal::ReadAt<Elf64_Ehdr>(bytes, 0);
    if (!ehdr) {
      copy(0, size_);  // not ELF64: let libelf see (and reject) all of it
      return;
    }
    copy(0, sizeof(Elf64_Ehdr));
    copy(ehdr->e_phoff, uint64_t{ehdr->e_phnum} * ehdr->e_phentsize);
    uint64_t shnum = ehdr->e_shnum;
    if (shnum == 0 && ehdr->e_shoff != 0) {  // extended numbering
      auto sh0 = gobinary_internal::ReadAt<Elf64_Shdr>(bytes, ehdr->e_shoff);
      if (sh0) shnum = sh0->sh_size;
    }
    copy(ehdr->e_shoff, shnum * ehdr->e_shentsize);
    auto elf = gobinary_internal::ElfFile::Parse(bytes);
    if (!elf.ok()) return;
    const auto& sections = elf->sections();
    for (size_t i = 0; i < sections.size(); ++i) {
      const auto& sec = sections[i];
      if (sec.type == SHT_NOBITS) continue;
      if (i == ehdr->e_shstrndx || sec.name == ".shstrtab" ||
          sec.name.rfind(".debug", 0) == 0 ||
          sec.name.rfind(".zdebug", 0) == 0) {
        copy(sec.offset, sec.size);
      }
    }
  }
  ~SparseCopy() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  SparseCopy(const SparseCopy&) = delete;
  SparseCopy& operator=(const SparseCopy&) = delete;
  char* data() { return data_; }

 private:
  size_t size_;
  char* data_ = nullptr;
};

}  // namespace

absl::StatusOr<absl::flat_hash_map<std::string, DwarfStruct>> StructsFromDwarf(
    std::string_view elf_bytes, const std::vector<std::string>& names) {
  if (absl::Status st = CheckCompressedSections(elf_bytes); !st.ok()) {
    return st;
  }
  elf_version(EV_CURRENT);
  // libelf may write into an elf_memory image (it is opened "mmap private"),
  // and decompression replaces section data; give it a private copy so the
  // GoBinary's bytes stay immutable and shareable across threads. The copy
  // holds only what libdw reads; the rest are untouched zero pages, so
  // neither the copy nor the (mapped) binary becomes resident.
  SparseCopy copy(elf_bytes);
  if (copy.data() == nullptr) return absl::ResourceExhaustedError("mmap");
  Handles h;
  h.elf = elf_memory(copy.data(), elf_bytes.size());
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
              dwarf_formudata(&attr, &size) == 0 && size <= INT32_MAX) {
            st.size = static_cast<int32_t>(size);
          }
          st.members = Members(&die);
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
  auto structs =
      StructsFromDwarf(elf_bytes, {"runtime.g", "runtime.m", "runtime.gobuf"});
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
