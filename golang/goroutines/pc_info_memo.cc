#include "golang/goroutines/pc_info_memo.h"

namespace gspy {

PcInfo LookUpPcInfo(const GoBinary& binary, uint64_t pc) {
  PcInfo info;
  info.func = binary.FindFunction(pc);
  if (info.func.has_value()) info.sp_delta = binary.SpDelta(pc);
  return info;
}

const PcInfo& PcInfoMemo::Lookup(uint64_t pc) {
  if (slots_ == nullptr) slots_ = std::make_unique<Slot[]>(kSlots);
  // Return addresses of one function are close together: mix the bits so
  // they spread over the slots.
  uint64_t h = pc * 0x9E3779B97F4A7C15ull;
  Slot& slot = slots_[(h >> 32) % kSlots];
  if (!slot.filled || slot.pc != pc) {
    slot.pc = pc;
    slot.filled = true;
    slot.info = LookUpPcInfo(binary_, pc);
  }
  return slot.info;
}

}  // namespace gspy
