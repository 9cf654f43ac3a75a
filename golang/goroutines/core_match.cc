#include "golang/goroutines/core_match.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "golang/binary/elf_file.h"
#include "golang/binary/moduledata.h"
#include "golang/binary/pclntab.h"

namespace gspy {
namespace {

using gobinary_internal::ElfFile;

// runtime.moduledata's first fields (runtime/symtab.go, Go 1.16 on): a
// pointer, six slices {ptr, len, cap}, then five pointers.
constexpr const char* kModuledataWords[] = {
    "pcHeader",        "funcnametab", "funcnametab len",
    "funcnametab cap", "cutab",       "cutab len",
    "cutab cap",       "filetab",     "filetab len",
    "filetab cap",     "pctab",       "pctab len",
    "pctab cap",       "pclntable",   "pclntable len",
    "pclntable cap",   "ftab",        "ftab len",
    "ftab cap",        "findfunctab", "minpc",
    "maxpc",           "text",        "etext"};
constexpr size_t kWords =
    sizeof(kModuledataWords) / sizeof(kModuledataWords[0]);

// Lengths and capacities are not moved by the load bias; pointers are.
bool IsPointerWord(size_t i) {
  return std::strstr(kModuledataWords[i], " len") == nullptr &&
         std::strstr(kModuledataWords[i], " cap") == nullptr;
}

// The descriptor of an ELF note {namesz, descsz, type, name, desc}, shown
// as text when it is (Go's "actionID/contentID"), else in hex (GNU's).
std::string NoteId(std::string_view note) {
  if (note.size() < 12) return "";
  uint32_t namesz, descsz;
  std::memcpy(&namesz, note.data(), 4);
  std::memcpy(&descsz, note.data() + 4, 4);
  const uint64_t desc_off = 12 + ((uint64_t{namesz} + 3) & ~3ull);
  if (desc_off > note.size() || note.size() - desc_off < descsz) return "";
  const std::string_view desc = note.substr(desc_off, descsz);
  bool printable = !desc.empty();
  for (char c : desc) printable = printable && c >= 0x20 && c < 0x7f;
  return printable ? std::string(desc)
                   : absl::BytesToHexString(
                         absl::string_view(desc.data(), desc.size()));
}

}  // namespace

absl::StatusOr<ExecutableIdentity> ReadExecutableIdentity(
    std::string_view exe_bytes) {
  absl::StatusOr<ElfFile> elf = ElfFile::Parse(exe_bytes);
  if (!elf.ok()) return elf.status();
  ExecutableIdentity id;
  for (const char* name : {".note.go.buildid", ".note.gnu.build-id"}) {
    const gobinary_internal::ElfSection* s = elf->FindSection(name);
    if (s == nullptr || s->addr == 0) continue;
    std::optional<std::string_view> data = elf->SectionData(*s);
    if (!data.has_value() || data->size() < 12) continue;
    id.notes.push_back(ExecutableIdentity::Note{
        name, s->addr, std::string(*data), NoteId(*data)});
  }
  absl::StatusOr<gobinary_internal::PclntabLocation> loc =
      gobinary_internal::FindPclntab(*elf);
  if (loc.ok()) {
    absl::StatusOr<gobinary_internal::Pclntab> t =
        gobinary_internal::Pclntab::Parse(*loc);
    if (t.ok()) {
      absl::StatusOr<gobinary_internal::ModuleData> md =
          gobinary_internal::FindModuleData(*elf, *t);
      if (md.ok()) {
        for (size_t i = 0; i < kWords; ++i) {
          std::optional<uint64_t> v = elf->ReadPointer(md->vaddr + 8 * i);
          if (!v.has_value()) break;
          id.moduledata_words.push_back(*v);
        }
        if (id.moduledata_words.size() == kWords) {
          id.moduledata_vaddr = md->vaddr;
        } else {
          id.moduledata_words.clear();
        }
      }
    }
  }
  if (id.notes.empty() && id.moduledata_vaddr == 0) {
    return absl::FailedPreconditionError(
        "the executable has no build id note and no runtime.firstmoduledata "
        "to compare with the core");
  }
  return id;
}

CoreMatch MatchCoreToExecutable(const MemorySource& core,
                                const ExecutableIdentity& id,
                                uint64_t load_bias, bool core_truncated) {
  using Verdict = CoreMatch::Verdict;
  // A note decides both ways, when the core has its page.
  for (const ExecutableIdentity::Note& note : id.notes) {
    absl::StatusOr<std::string> in_core =
        core.ReadAt(note.vaddr + load_bias, note.bytes.size());
    if (!in_core.ok()) continue;
    if (*in_core == note.bytes) {
      return {Verdict::kSame, absl::StrCat(note.section, " ", note.id)};
    }
    const std::string core_id = NoteId(*in_core);
    if (core_id.empty()) {
      // Another linker or version put its note elsewhere.
      return {Verdict::kDifferent,
              absl::StrCat("the executable's build id \"", note.id,
                           "\" is not in the core, which holds other bytes "
                           "at 0x",
                           absl::Hex(note.vaddr + load_bias), " (",
                           note.section, ")")};
    }
    return {Verdict::kDifferent,
            absl::StrCat("its build id (", note.section, ") is \"", core_id,
                         "\", the executable's \"", note.id, "\"")};
  }
  if (id.moduledata_vaddr == 0) {
    return {Verdict::kUnknown,
            "the core does not hold the executable's build id notes, and "
            "the executable has no runtime.firstmoduledata to compare"};
  }
  const uint64_t addr = id.moduledata_vaddr + load_bias;
  std::string words(id.moduledata_words.size() * 8, '\0');
  if (absl::Status s = core.Read(addr, absl::MakeSpan(words)); !s.ok()) {
    const std::string what =
        absl::StrCat("the core has no memory at 0x", absl::Hex(addr),
                     ", where the executable's runtime.firstmoduledata is");
    return {core_truncated ? Verdict::kUnknown : Verdict::kDifferent, what};
  }
  for (size_t i = 0; i < id.moduledata_words.size(); ++i) {
    uint64_t got;
    std::memcpy(&got, words.data() + 8 * i, 8);
    const uint64_t want =
        id.moduledata_words[i] + (IsPointerWord(i) ? load_bias : 0);
    if (got != want) {
      return {
          Verdict::kDifferent,
          absl::StrCat("runtime.firstmoduledata differs: ", kModuledataWords[i],
                       " is 0x", absl::Hex(got), " in the core, 0x",
                       absl::Hex(want), " in the executable")};
    }
  }
  return {Verdict::kSame,
          absl::StrCat("runtime.firstmoduledata at 0x", absl::Hex(addr))};
}

absl::Status CheckCoreMatchesExecutable(const CoreFileMemory& core,
                                        const std::string& core_path,
                                        std::string_view exe_bytes,
                                        const std::string& exe_path,
                                        uint64_t load_bias) {
  absl::StatusOr<ExecutableIdentity> id = ReadExecutableIdentity(exe_bytes);
  if (!id.ok()) return absl::OkStatus();  // nothing to compare: let it try
  const CoreMatch m =
      MatchCoreToExecutable(core, *id, load_bias, !core.warnings().empty());
  if (m.verdict != CoreMatch::Verdict::kDifferent) return absl::OkStatus();
  std::string message = absl::StrCat(core_path, " was not produced by ",
                                     exe_path, ": ", m.evidence);
  // The core's own executable is usually its first mapped file.
  if (!core.mapped_files().empty()) {
    absl::StrAppend(&message, " (the core's first mapped file is ",
                    core.mapped_files().front().first, ")");
  }
  return absl::FailedPreconditionError(message);
}

}  // namespace gspy
