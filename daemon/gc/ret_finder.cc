#include "daemon/gc/ret_finder.h"

#include <capstone/capstone.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace gspy {

absl::StatusOr<std::vector<uint64_t>> FindReturnInstructions(
    std::string_view code, uint64_t address, std::string_view goarch) {
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
        absl::StrCat("finding RET instructions on ", std::string(goarch)));
  }
  csh handle;
  if (cs_open(arch, mode, &handle) != CS_ERR_OK) {
    return absl::InternalError("capstone: cs_open failed");
  }
  // Group information needs detail mode.
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  std::vector<uint64_t> rets;
  const auto* bytes = reinterpret_cast<const uint8_t*>(code.data());
  size_t size = code.size();
  uint64_t pc = address;
  cs_insn* insn = cs_malloc(handle);
  while (size > 0 && cs_disasm_iter(handle, &bytes, &size, &pc, insn)) {
    if (cs_insn_group(handle, insn, CS_GRP_RET)) rets.push_back(insn->address);
  }
  cs_free(insn, 1);
  cs_close(&handle);
  if (rets.empty()) {
    return absl::NotFoundError(absl::StrCat("no RET instruction in the ",
                                            code.size(), " bytes at 0x",
                                            absl::Hex(address)));
  }
  return rets;
}

}  // namespace gspy
