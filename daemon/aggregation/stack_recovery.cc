#include "daemon/aggregation/stack_recovery.h"

namespace gspy {

std::vector<uint64_t> RecoverUserStack(absl::Span<const uint64_t> fp_walk,
                                       uint64_t sp_word, const GoBinary& binary,
                                       uint64_t load_bias) {
  std::vector<uint64_t> stack(fp_walk.begin(), fp_walk.end());
  if (stack.empty() || sp_word == 0) return stack;
  const uint64_t leaf = stack[0] - load_bias;
  std::optional<int32_t> delta = binary.SpDelta(leaf);
  if (!delta.has_value() || *delta != 0) return stack;
  // The word at SP must be a return address into Go code, else this was
  // not a Go frame (e.g. a C function in a cgo binary).
  if (!binary.FindFunction(sp_word - load_bias - 1).has_value()) return stack;
  if (stack.size() >= 2 && stack[1] == sp_word) return stack;
  stack.insert(stack.begin() + 1, sp_word);
  return stack;
}

}  // namespace gspy
