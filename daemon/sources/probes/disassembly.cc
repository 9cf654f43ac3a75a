#include "daemon/sources/probes/disassembly.h"

#include <capstone/capstone.h>

#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

// Calls `visit` on each instruction of `code` until it returns false.
absl::Status ForEachInstruction(
    std::string_view code, uint64_t address, std::string_view goarch,
    const std::function<bool(csh, const cs_insn&)>& visit) {
  cs_arch arch;
  cs_mode mode;
  if (goarch == "amd64") {
    arch = CS_ARCH_X86;
    mode = CS_MODE_64;
  } else if (goarch == "arm64") {
    arch = CS_ARCH_ARM64;
    mode = CS_MODE_ARM;
  } else {
    return absl::UnimplementedError(
        absl::StrCat("disassembling ", std::string(goarch), " code"));
  }
  csh handle;
  if (cs_open(arch, mode, &handle) != CS_ERR_OK) {
    return absl::InternalError("capstone: cs_open failed");
  }
  // Group information needs detail mode.
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  const auto* bytes = reinterpret_cast<const uint8_t*>(code.data());
  size_t size = code.size();
  uint64_t pc = address;
  cs_insn* insn = cs_malloc(handle);
  while (size > 0 && cs_disasm_iter(handle, &bytes, &size, &pc, insn)) {
    if (!visit(handle, *insn)) break;
  }
  cs_free(insn, 1);
  cs_close(&handle);
  return absl::OkStatus();
}

// Whether `insn` sets the frame pointer from the stack pointer, in
// Capstone's Intel / ARM syntax.
bool SetsFramePointer(const cs_insn& insn, std::string_view goarch) {
  const absl::string_view mnemonic = insn.mnemonic;
  const absl::string_view operands = insn.op_str;
  if (goarch == "amd64") {
    return (mnemonic == "mov" || mnemonic == "lea") &&
           absl::StartsWith(operands, "rbp, ") &&
           absl::StrContains(operands, "rsp");
  }
  return (mnemonic == "sub" || mnemonic == "add" || mnemonic == "mov") &&
         absl::StartsWith(operands, "x29, sp");
}

}  // namespace

absl::StatusOr<std::vector<uint64_t>> FindReturnInstructions(
    std::string_view code, uint64_t address, std::string_view goarch) {
  std::vector<uint64_t> rets;
  absl::Status s = ForEachInstruction(
      code, address, goarch, [&](csh handle, const cs_insn& insn) {
        if (cs_insn_group(handle, &insn, CS_GRP_RET)) {
          rets.push_back(insn.address);
        }
        return true;
      });
  if (!s.ok()) return s;
  if (rets.empty()) {
    return absl::NotFoundError(absl::StrCat("no RET instruction in the ",
                                            code.size(), " bytes at 0x",
                                            absl::Hex(address)));
  }
  return rets;
}

absl::StatusOr<uint64_t> FindFrameSetupEnd(std::string_view code,
                                           uint64_t address,
                                           std::string_view goarch) {
  bool after_setup = false;
  uint64_t found = 0;
  absl::Status s =
      ForEachInstruction(code, address, goarch, [&](csh, const cs_insn& insn) {
        if (after_setup) {
          found = insn.address;
          return false;
        }
        after_setup = SetsFramePointer(insn, goarch);
        return true;
      });
  if (!s.ok()) return s;
  if (found == 0) {
    return absl::NotFoundError(absl::StrCat("no frame-pointer setup in the ",
                                            code.size(), " bytes at 0x",
                                            absl::Hex(address)));
  }
  return found;
}

absl::StatusOr<std::vector<uint64_t>> FindReturnsFromCallsTo(
    std::string_view code, uint64_t address, std::string_view goarch,
    uint64_t target) {
  std::vector<uint64_t> out;
  absl::Status s = ForEachInstruction(
      code, address, goarch, [&](csh handle, const cs_insn& insn) {
        // Capstone 4 does not put arm64's BL in the call group.
        const bool call = cs_insn_group(handle, &insn, CS_GRP_CALL) ||
                          (goarch == "arm64" &&
                           absl::string_view(insn.mnemonic) == "bl");
        if (!call) return true;
        int64_t callee = 0;
        if (goarch == "amd64") {
          const cs_x86& x = insn.detail->x86;
          if (x.op_count != 1 || x.operands[0].type != X86_OP_IMM) return true;
          callee = x.operands[0].imm;
        } else {
          const cs_arm64& a = insn.detail->arm64;
          if (a.op_count != 1 || a.operands[0].type != ARM64_OP_IMM) {
            return true;
          }
          callee = a.operands[0].imm;
        }
        if (static_cast<uint64_t>(callee) == target) {
          out.push_back(insn.address + insn.size);
        }
        return true;
      });
  if (!s.ok()) return s;
  if (out.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no call to 0x", absl::Hex(target), " in the ",
                     code.size(), " bytes at 0x", absl::Hex(address)));
  }
  return out;
}

}  // namespace gspy
