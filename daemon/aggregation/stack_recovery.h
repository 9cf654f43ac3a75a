// Turning the raw frame-pointer walk of a sample into the true user stack.
#ifndef GSPY_DAEMON_AGGREGATION_STACK_RECOVERY_H_
#define GSPY_DAEMON_AGGREGATION_STACK_RECOVERY_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "golang/binary/go_binary.h"

namespace gspy {

// `fp_walk` is what the kernel's frame-pointer walk gave, leaf pc first
// (runtime addresses). A frame-pointer walk starts from the frame of the
// function that last set BP: when the leaf has not pushed a frame at its pc
// (a frameless leaf, or a function sampled in its prologue), the leaf's
// caller is missing. The pcsp table says whether SP still sits at the
// return address (SP delta 0); then `sp_word`, the word at SP, is that
// caller's return address, and is inserted after the leaf.
std::vector<uint64_t> RecoverUserStack(absl::Span<const uint64_t> fp_walk,
                                       uint64_t sp_word, const GoBinary& binary,
                                       uint64_t load_bias);

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_STACK_RECOVERY_H_
