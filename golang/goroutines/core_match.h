// Whether a core file was produced by a process running a given executable.
// A dump reads the core's memory with the executable's symbols and struct
// offsets; with the wrong executable it fails late and obscurely
// ("runtime.allgs not found") or, worse, shows garbage as goroutines. So
// `gspy goroutines --core --exe` compares the two first, by what the
// executable fixes at link time and the core holds at the same address:
//  - the build id notes (.note.go.buildid, .note.gnu.build-id), when the
//    core has their page: gcore and the kernel dump the first page of every
//    ELF mapping, where the linkers put the notes. A build id is a hash of
//    the build, so equal ids mean the same binary and different ids
//    different ones;
//  - runtime.firstmoduledata otherwise. It is writable data, so every core
//    has it; its first 24 words (the pcHeader pointer, the funcnametab,
//    cutab, filetab, pctab, pclntable and ftab slices, findfunctab, minpc,
//    maxpc, text, etext) are set by the linker and never written at run
//    time. Two builds of different code (another program, another Go
//    version) differ in the tables' lengths; builds that differ only in
//    data (-X flags) agree here, and their code, hence the dump, is the
//    same.
#ifndef GSPY_GOLANG_GOROUTINES_CORE_MATCH_H_
#define GSPY_GOLANG_GOROUTINES_CORE_MATCH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

// What an executable fixes at link time, at link-time addresses.
struct ExecutableIdentity {
  struct Note {
    std::string section;  // ".note.go.buildid"
    uint64_t vaddr = 0;
    std::string bytes;  // the whole note: header, name, descriptor
    std::string id;     // the descriptor as shown (text or hex)
  };
  std::vector<Note> notes;
  uint64_t moduledata_vaddr = 0;  // 0: not found
  // The moduledata words; pointers as link-time addresses (relocations
  // applied for externally linked PIEs).
  std::vector<uint64_t> moduledata_words;
};

// Reads the notes and moduledata of a Go executable. FAILED_PRECONDITION
// when it has neither (nothing to compare).
absl::StatusOr<ExecutableIdentity> ReadExecutableIdentity(
    std::string_view exe_bytes);

struct CoreMatch {
  enum class Verdict { kSame, kDifferent, kUnknown };
  Verdict verdict = Verdict::kUnknown;
  // What was compared, or how they differ: "its Go build id is \"a/b\",
  // the executable's \"c/d\"".
  std::string evidence;
};

// Compares `id` with the memory of `core` at the same addresses moved by
// `load_bias`. `core` must read the core alone (not the executable's
// segments, which would compare the executable with itself). A moduledata
// the core has no memory for is kDifferent in a whole core, kUnknown in a
// truncated one (`core_truncated`).
CoreMatch MatchCoreToExecutable(const MemorySource& core,
                                const ExecutableIdentity& id,
                                uint64_t load_bias, bool core_truncated);

// The check `gspy goroutines --core` runs, before
// CoreFileMemory::AddExecutable: FAILED_PRECONDITION "CORE was not
// produced by EXE: ..." when they differ, OK when they match or when it
// cannot tell (a truncated core; the dump then says what it could read).
absl::Status CheckCoreMatchesExecutable(const CoreFileMemory& core,
                                        const std::string& core_path,
                                        std::string_view exe_bytes,
                                        const std::string& exe_path,
                                        uint64_t load_bias);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_CORE_MATCH_H_
