#include "golang/goroutines/stack_unwinder.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

// Functions no goroutine stack goes above (funcFlag_TOPFRAME and the
// scheduler entry points).
bool IsTopFrame(std::string_view name) {
  return name == "runtime.goexit" || name == "runtime.mstart" ||
         name == "runtime.mstart0" || name == "runtime.rt0_go" ||
         name == "runtime.mcall" || name == "runtime.morestack" ||
         name == "runtime.systemstack";
}

// Reads words from a goroutine's stack through one bulk read of its used
// part (parked stacks are small), else word by word. A caller that read
// that part already (a sampler batches the stacks of many goroutines into
// one system call) hands it in.
class StackWords {
 public:
  StackWords(const MemorySource& memory, uint64_t sp, uint64_t hi,
             std::string_view at_sp)
      : memory_(memory), lo_(sp), hi_(hi) {
    if (!at_sp.empty()) {
      bulk_ = at_sp.substr(0, hi > sp ? hi - sp : 0);
      return;
    }
    if (hi > sp) {
      const uint64_t n = std::min(hi - sp, kStackBulkBytes);
      std::string buf(n, '\0');
      if (memory.Read(sp, absl::MakeSpan(buf.data(), n)).ok()) {
        owned_ = std::move(buf);
        bulk_ = owned_;
      }
    }
  }
  // The word at addr, which must be inside [sp, hi).
  absl::StatusOr<uint64_t> Word(uint64_t addr) const {
    if (addr < lo_ || addr + 8 > hi_) {
      return absl::OutOfRangeError(
          absl::StrCat("0x", absl::Hex(addr), " is outside the stack"));
    }
    if (addr - lo_ + 8 <= bulk_.size()) {
      uint64_t v;
      std::memcpy(&v, bulk_.data() + (addr - lo_), 8);
      return v;
    }
    return memory_.ReadU64(addr);
  }

 private:
  const MemorySource& memory_;
  uint64_t lo_, hi_;
  std::string owned_;
  std::string_view bulk_;  // the bytes from sp up that were read
};

}  // namespace

uint64_t SymbolPc(uint64_t pc, bool exact) { return exact ? pc : pc - 1; }

UnwoundStack UnwindSaved(const MemorySource& memory, const GoBinary& binary,
                         uint64_t load_bias, const SavedContext& ctx,
                         size_t max_frames, WrapperFrames wrappers,
                         std::string_view stack_at_sp, PcInfoMemo* memo) {
  UnwoundStack out;
  if (ctx.sp < ctx.stack_lo || ctx.sp >= ctx.stack_hi) {
    out.error = absl::StrCat(
        "saved sp 0x", absl::Hex(ctx.sp), " is outside the stack [0x",
        absl::Hex(ctx.stack_lo), ", 0x", absl::Hex(ctx.stack_hi), ")");
    return out;
  }
  const bool lr_machine = binary.goarch() == "arm64";
  StackWords words(memory, ctx.sp, ctx.stack_hi, stack_at_sp);
  uint64_t pc = ctx.pc, sp = ctx.sp, bp = ctx.bp;
  bool exact = false;
  std::string_view callee;
  // Bounded by frames visited, elided wrappers included.
  for (size_t visited = 0;; ++visited) {
    if (visited >= max_frames) {
      out.truncated = true;
      return out;
    }
    const uint64_t link_pc = pc - load_bias;
    const PcInfo info =
        memo != nullptr ? memo->Lookup(link_pc) : LookUpPcInfo(binary, link_pc);
    const std::optional<FuncInfo>& f = info.func;
    if (!f.has_value()) {
      out.error =
          absl::StrCat("pc 0x", absl::Hex(link_pc), " is in no Go function");
      return out;
    }
    // A goroutine that has not run yet is at its function's entry.
    exact = exact || link_pc == f->entry;
    // Like Go's tracebacks (elideWrapperCalling), a wrapper's frame is left
    // out unless it called a panic function.
    const bool elide = wrappers == WrapperFrames::kElide && f->wrapper &&
                       callee != "runtime.gopanic" &&
                       callee != "runtime.sigpanic" &&
                       callee != "runtime.panicwrap";
    if (!elide) {
      out.pcs.push_back(link_pc);
      out.exact.push_back(exact);
    }
    callee = f->name;
    if (IsTopFrame(f->name)) {
      out.complete = true;
      return out;
    }
    // asyncPreempt was "called" by the signal handler at the interrupted
    // instruction: its return address is that instruction itself.
    exact = f->name == "runtime.asyncPreempt";
    uint64_t ret = 0, caller_sp = 0, caller_bp = bp;
    if (const std::optional<int32_t>& delta = info.sp_delta;
        delta.has_value() && *delta >= 0) {
      if (lr_machine) {
        // arm64 keeps the return address at 0(RSP) of a frame that has one;
        // the caller's SP is above the frame.
        if (*delta == 0) {
          out.error = absl::StrCat("frameless ", std::string(f->name),
                                   " in a saved stack");
          return out;
        }
        absl::StatusOr<uint64_t> lr = words.Word(sp);
        if (!lr.ok()) {
          out.error = std::string(lr.status().message());
          return out;
        }
        ret = *lr;
        caller_sp = sp + static_cast<uint64_t>(*delta);
      } else {
        // amd64: the return address sits right above the frame.
        const uint64_t ret_at = sp + static_cast<uint64_t>(*delta);
        absl::StatusOr<uint64_t> r = words.Word(ret_at);
        if (!r.ok()) {
          out.error = std::string(r.status().message());
          return out;
        }
        ret = *r;
        caller_sp = ret_at + 8;
        // The frame saved the caller's bp just below the return address
        // when it has a frame pointer; keep it for the fallback.
        if (*delta >= 8) {
          if (absl::StatusOr<uint64_t> b = words.Word(ret_at - 8); b.ok()) {
            caller_bp = *b;
          }
        }
      }
    } else {
      // No pcsp entry: follow the frame pointer ([bp] = caller's bp,
      // [bp+8] = return address).
      absl::StatusOr<uint64_t> saved_bp = words.Word(bp);
      absl::StatusOr<uint64_t> r = words.Word(bp + 8);
      if (!saved_bp.ok() || !r.ok()) {
        out.error = absl::StrCat("no frame size for ", std::string(f->name),
                                 " and no frame pointer to follow");
        return out;
      }
      ret = *r;
      caller_sp = bp + 16;
      caller_bp = *saved_bp;
    }
    if (ret == 0) {
      out.error =
          absl::StrCat("a zero return address above ", std::string(f->name));
      return out;
    }
    if (caller_sp <= sp || caller_sp > ctx.stack_hi) {
      out.error = absl::StrCat("the frame of ", std::string(f->name),
                               " leaves the stack or does not grow it");
      return out;
    }
    pc = ret;
    sp = caller_sp;
    bp = caller_bp;
  }
}

std::vector<Frame> SymbolizeStack(const GoBinary& binary,
                                  const UnwoundStack& stack) {
  std::vector<Frame> frames;
  for (size_t i = 0; i < stack.pcs.size(); ++i) {
    const bool exact = i < stack.exact.size() && stack.exact[i];
    if (!binary.Symbolize(SymbolPc(stack.pcs[i], exact), &frames)) {
      frames.push_back(Frame{});
    }
  }
  return frames;
}

}  // namespace gspy
