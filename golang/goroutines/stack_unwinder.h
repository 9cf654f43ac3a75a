// Unwinds a goroutine that is not running from its saved scheduler context
// (g.sched: pc, sp, bp), reading its stack from outside. Frame sizes come
// from the pclntab's pcsp table, as Go's own traceback does, so frameless
// and assembly functions do not break the chain; the frame-pointer chain
// (bp) is the fallback where a pc has no pcsp entry.
#ifndef GSPY_GOLANG_GOROUTINES_STACK_UNWINDER_H_
#define GSPY_GOLANG_GOROUTINES_STACK_UNWINDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "golang/binary/go_binary.h"
#include "golang/goroutines/memory_source.h"
#include "golang/goroutines/pc_info_memo.h"

namespace gspy {

struct SavedContext {
  uint64_t pc = 0, sp = 0, bp = 0;  // runtime addresses
  uint64_t stack_lo = 0, stack_hi = 0;
};

struct UnwoundStack {
  // Link-time pcs, leaf first: each the pc the frame will continue at (a
  // return address, or a function entry for a goroutine not yet started).
  std::vector<uint64_t> pcs;
  // pcs[i] is exact (entry, or the interrupted pc above asyncPreempt), not
  // a return address: symbolize it as is rather than at pc-1.
  std::vector<bool> exact;
  bool complete = false;   // reached runtime.goexit (or another top frame)
  bool truncated = false;  // stopped at max_frames
  std::string error;       // why it stopped early, when it did
};

// Wrapper functions (method values "-fm", "gowrap" of go statements, ...):
// Go's tracebacks leave their frames out (elideWrapperCalling), profiles
// keep them, as the frame-pointer walk of the probes sees them.
enum class WrapperFrames { kElide, kKeep };

// The most of a stack, from its saved sp up, that one unwinding reads in
// one go (parked stacks use far less); words beyond are read one by one.
inline constexpr uint64_t kStackBulkBytes = 64 << 10;

// `max_frames` bounds the walk; every stack read must lie in
// [stack_lo, stack_hi) and sp must grow, so garbage cannot loop.
// `stack_at_sp`: the stack's bytes from sp up (at most
// min(stack_hi - sp, kStackBulkBytes)) when the caller read them already;
// empty: read here. `memo` (of `binary`), when given, answers the
// per-frame lookups.
UnwoundStack UnwindSaved(const MemorySource& memory, const GoBinary& binary,
                         uint64_t load_bias, const SavedContext& context,
                         size_t max_frames = 512,
                         WrapperFrames wrappers = WrapperFrames::kElide,
                         std::string_view stack_at_sp = {},
                         PcInfoMemo* memo = nullptr);

// The frames of `pcs` (as UnwindSaved returns them), inlined ones expanded,
// leaf first; a pc no function covers gives a frame with an empty name.
std::vector<Frame> SymbolizeStack(const GoBinary& binary,
                                  const UnwoundStack& stack);

// The pc to symbolize for a return address `pc`: pc-1, inside the call,
// unless the pc is exact.
uint64_t SymbolPc(uint64_t pc, bool exact);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_STACK_UNWINDER_H_
