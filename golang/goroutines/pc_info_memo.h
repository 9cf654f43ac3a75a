// PcInfoMemo: what unwinding asks of a binary for each pc (its function,
// its frame size), remembered for the pcs seen last. Parked goroutines sit
// at a few hundred distinct pcs however many of them there are, and the
// pclntab's binary search and pcsp decoding were a fifth of a first
// sampled sweep at 100k goroutines. Direct-mapped and not thread-safe: one
// per caller (a sampler owns one), allocated on first use.
#ifndef GSPY_GOLANG_GOROUTINES_PC_INFO_MEMO_H_
#define GSPY_GOLANG_GOROUTINES_PC_INFO_MEMO_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "golang/binary/go_binary.h"

namespace gspy {

struct PcInfo {
  std::optional<FuncInfo> func;     // binary.FindFunction(pc)
  std::optional<int32_t> sp_delta;  // binary.SpDelta(pc), when func is set
};

// What `binary` says of link-time `pc`, without a memo.
PcInfo LookUpPcInfo(const GoBinary& binary, uint64_t pc);

class PcInfoMemo {
 public:
  static constexpr size_t kSlots = 1024;  // 64 KiB once used

  // `binary` outlives the memo (FuncInfo names point into it), and is the
  // only binary asked through it.
  explicit PcInfoMemo(const GoBinary& binary) : binary_(binary) {}

  // The function and frame size of link-time `pc`.
  const PcInfo& Lookup(uint64_t pc);

 private:
  struct Slot {
    uint64_t pc = 0;
    bool filled = false;
    PcInfo info;
  };
  const GoBinary& binary_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_PC_INFO_MEMO_H_
