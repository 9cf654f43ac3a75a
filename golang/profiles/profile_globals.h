// Finds the runtime globals behind the heap, block and mutex profiles
// (runtime/mprof.go): mbuckets, bbuckets, xbuckets, the heap profile's
// publication cycle (mProfCycle, go1.19+; mProf.cycle in go1.18) and
// MemProfileRate; for block and mutex profiles their rates
// (runtime.blockprofilerate, mutexprofilerate) and the cycles-to-seconds
// conversion (runtime.ticks.val). From .symtab when the binary has it, else by
// decoding the runtime functions that load them (amd64), each candidate checked
// against the process's memory.
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
  // uint64 each. The block rate is in CPU ticks, the mutex rate is the
  // fraction (1/rate of contention events recorded).
  BooksGlobal block_profile_rate, mutex_profile_rate;
  // runtime.ticks.val: the CPU ticks per second, 0 until the program first
  // needed it (ticksPerSecond/tickspersecond computes it lazily). Always
  // found by decoding that function: its first 8-byte load.
  BooksGlobal ticks_per_second;
  // Where a list head was not found because every candidate held nil: the
  // list is empty so far (stripped binaries cannot tell more).
  bool bbuckets_nil = false, xbuckets_nil = false;
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
