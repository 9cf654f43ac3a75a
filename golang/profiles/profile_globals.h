// Finds the runtime globals behind the heap, block and mutex profiles
// (runtime/mprof.go): mbuckets, bbuckets, xbuckets, the heap profile's
// publication cycle (mProfCycle, go1.19+; mProf.cycle in go1.18) and
// MemProfileRate. From .symtab when the binary has it, else by decoding the
// runtime functions that load them (amd64), each candidate checked against
// the process's memory.
#ifndef GSPY_GOLANG_PROFILES_PROFILE_GLOBALS_H_
#define GSPY_GOLANG_PROFILES_PROFILE_GLOBALS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "golang/binary/go_binary.h"
#include "golang/books/books_finder.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

struct ProfileGlobals {
  BooksGlobal mbuckets, bbuckets, xbuckets, cycle, mem_profile_rate;
  // go1.19+ keeps the cycle as cycle<<1 | flushed (mProfCycleHolder);
  // go1.18 as a plain uint32 (mProf.cycle).
  bool cycle_shifted = true;
  // runtime.MemProfile (or memProfileInternal, go1.23+) is in the binary.
  // Without it the linker set disableMemoryProfiling: the runtime never
  // records a heap sample.
  bool memory_profiler_linked = false;
};

// NOT_FOUND when the process is gone; otherwise each global says how it
// was found or why not.
absl::StatusOr<ProfileGlobals> FindProfileGlobals(const GoBinary& binary,
                                                  const MemorySource& memory,
                                                  uint64_t load_bias,
                                                  bool use_symtab = true);

}  // namespace gspy

#endif  // GSPY_GOLANG_PROFILES_PROFILE_GLOBALS_H_
