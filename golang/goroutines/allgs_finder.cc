#include "golang/goroutines/allgs_finder.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "golang/goroutines/g_struct.h"

namespace gspy {
namespace {

// Functions that read allgs directly, in the order they are tried. forEachG
// loads ptr and len in its loop (1.17+); allgadd appends to it; checkdead
// walks it in older releases and through forEachG (inlined) in newer ones.
constexpr const char* kAllgsUsers[] = {"runtime.forEachG", "runtime.allgadd",
                                       "runtime.checkdead"};
constexpr uint64_t kMaxFunctionBytes = 16 << 10;
constexpr uint64_t kMaxAllgs = uint64_t{1} << 24;

}  // namespace

absl::StatusOr<std::vector<uint64_t>> DataReferences(std::string_view code,
                                                     uint64_t address,
                                                     std::string_view goarch) {
  const bool amd64 = goarch == "amd64";
  if (!amd64 && goarch != "arm64") {
    return absl::UnimplementedError(absl::StrCat("finding data references in ",
                                                 std::string(goarch), " code"));
  }
  csh handle;
  if (cs_open(amd64 ? CS_ARCH_X86 : CS_ARCH_ARM64,
              amd64 ? CS_MODE_64 : CS_MODE_ARM, &handle) != CS_ERR_OK) {
    return absl::InternalError("capstone: cs_open failed");
  }
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  std::vector<uint64_t> out;
  absl::flat_hash_set<uint64_t> seen;
  auto add = [&](uint64_t a) {
    if (seen.insert(a).second) out.push_back(a);
  };
  // arm64: the page each register holds after an ADRP, until overwritten.
  absl::flat_hash_map<unsigned, uint64_t> pages;
  const auto* bytes = reinterpret_cast<const uint8_t*>(code.data());
  size_t size = code.size();
  uint64_t pc = address;
  cs_insn* insn = cs_malloc(handle);
  while (size > 0) {
    if (!cs_disasm_iter(handle, &bytes, &size, &pc, insn)) {
      // Skip what Capstone cannot decode (data in text, new instructions).
      const size_t step = amd64 ? 1 : 4;
      if (size < step) break;
      bytes += step;
      size -= step;
      pc += step;
      continue;
    }
    if (amd64) {
      const cs_x86& x = insn->detail->x86;
      for (int i = 0; i < x.op_count; ++i) {
        const cs_x86_op& op = x.operands[i];
        if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP &&
            op.mem.index == X86_REG_INVALID) {
          add(insn->address + insn->size + op.mem.disp);
        }
      }
      continue;
    }
    const cs_arm64& a = insn->detail->arm64;
    const std::string_view mnemonic = insn->mnemonic;
    if (mnemonic == "adrp" && a.op_count == 2 &&
        a.operands[0].type == ARM64_OP_REG &&
        a.operands[1].type == ARM64_OP_IMM) {
      pages[a.operands[0].reg] = static_cast<uint64_t>(a.operands[1].imm);
      continue;
    }
    bool used = false;
    for (int i = 0; i < a.op_count; ++i) {
      const cs_arm64_op& op = a.operands[i];
      if (op.type == ARM64_OP_MEM) {
        if (auto it = pages.find(op.mem.base); it != pages.end()) {
          add(it->second + static_cast<int64_t>(op.mem.disp));
          used = true;
        }
      }
    }
    if (!used && mnemonic == "add" && a.op_count == 3 &&
        a.operands[1].type == ARM64_OP_REG &&
        a.operands[2].type == ARM64_OP_IMM) {
      if (auto it = pages.find(a.operands[1].reg); it != pages.end()) {
        add(it->second + static_cast<uint64_t>(a.operands[2].imm));
      }
    }
    // A write to a register ends what it held (the common case is the
    // destination in operand 0; loads into the base register included).
    if (a.op_count > 0 && a.operands[0].type == ARM64_OP_REG &&
        mnemonic != "str" && mnemonic != "stp" && mnemonic != "cmp") {
      pages.erase(a.operands[0].reg);
    }
  }
  cs_free(insn, 1);
  cs_close(&handle);
  return out;
}

absl::StatusOr<std::vector<uint64_t>> AllgsCandidates(
    const GoBinary& binary, const MemorySource& memory, uint64_t load_bias) {
  std::vector<uint64_t> out;
  absl::flat_hash_set<uint64_t> seen;
  std::vector<std::string> errors;
  for (const char* name : kAllgsUsers) {
    std::optional<FuncInfo> f = binary.FindFunctionByName(name);
    if (!f.has_value()) continue;  // inlined everywhere in this release
    const uint64_t size = std::min<uint64_t>(
        f->end > f->entry ? f->end - f->entry : 0, kMaxFunctionBytes);
    absl::StatusOr<std::string> code =
        memory.ReadAt(f->entry + load_bias, size);
    if (!code.ok()) {
      if (absl::IsNotFound(code.status())) return code.status();  // exited
      errors.push_back(absl::StrCat(name, ": ", code.status().message()));
      continue;
    }
    absl::StatusOr<std::vector<uint64_t>> refs =
        DataReferences(*code, f->entry, binary.goarch());
    if (!refs.ok()) return refs.status();
    for (uint64_t r : *refs) {
      for (uint64_t back : {0, 8, 16}) {
        if (r >= back && seen.insert(r - back).second) out.push_back(r - back);
      }
    }
  }
  if (out.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no data references in runtime.forEachG, allgadd or checkdead",
        errors.empty() ? "" : ": ", absl::StrJoin(errors, "; ")));
  }
  return out;
}

AllgsCheck CheckAllgs(const MemorySource& memory, const RuntimeLayout& layout,
                      uint64_t addr) {
  AllgsCheck c;
  uint64_t header[3];
  if (!memory.Read(addr, absl::MakeSpan(reinterpret_cast<char*>(header), 24))
           .ok()) {
    c.why = "unreadable";
    return c;
  }
  const uint64_t ptr = header[0], len = header[1], cap = header[2];
  if (ptr == 0 || ptr % 8 != 0 || len == 0 || len > cap || cap > kMaxAllgs) {
    c.why = absl::StrCat("not a slice of g's: ptr=0x", absl::Hex(ptr),
                         " len=", len, " cap=", cap);
    return c;
  }
  c.array = ptr;
  c.len = len;
  // Up to 64 entries, spread over the slice: the first ones (main, system
  // goroutines) and some from the rest.
  const uint64_t step = std::max<uint64_t>(1, len / 64);
  for (uint64_t i = 0; i < len && c.checked < 64; i += step) {
    ++c.checked;
    absl::StatusOr<uint64_t> gp = memory.ReadU64(ptr + i * 8);
    if (!gp.ok() || *gp == 0 || *gp % 8 != 0) continue;
    absl::StatusOr<GFields> g = ReadG(memory, layout, *gp);
    if (!g.ok() || !PlausibleG(*g)) continue;
    ++c.plausible;
    if (g->base_status() != kGDead && g->goid != 0) ++c.live;
  }
  c.ok = c.live > 0 && c.plausible * 8 >= c.checked * 7;
  if (!c.ok) {
    c.why = absl::StrCat(c.plausible, " of ", c.checked,
                         " entries look like g's, ", c.live, " alive");
  }
  return c;
}

absl::StatusOr<AllgsLocation> FindAllgs(const GoBinary& binary,
                                        const MemorySource& memory,
                                        uint64_t load_bias,
                                        const RuntimeLayout& layout) {
  absl::StatusOr<std::vector<uint64_t>> candidates =
      AllgsCandidates(binary, memory, load_bias);
  if (!candidates.ok()) return candidates.status();
  std::vector<std::string> tried;
  for (uint64_t c : *candidates) {
    const AllgsCheck check = CheckAllgs(memory, layout, c + load_bias);
    if (check.ok) {
      return AllgsLocation{c + load_bias,
                           "data references of runtime.forEachG/allgadd"};
    }
    if (tried.size() < 8) {
      tried.push_back(absl::StrCat("0x", absl::Hex(c), ": ", check.why));
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("runtime.allgs not found in ", memory.Describe(), " among ",
                   candidates->size(), " addresses the runtime references (",
                   absl::StrJoin(tried, "; "), ")"));
}

}  // namespace gspy
