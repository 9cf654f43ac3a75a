#include "golang/binary/inline_unwinder.h"

#include <optional>

#include "golang/binary/byte_reader.h"

namespace gspy::gobinary_internal {
namespace {

// A hostile inline tree could make parentPc point back into the same
// inlined range; real inline depth never comes close to this.
constexpr int kMaxInlineDepth = 256;

struct InlinedCall {
  uint8_t func_id;
  int32_t name_off;
  int32_t parent_pc;
  int32_t start_line;
};

std::optional<InlinedCall> ReadInlinedCall(PclntabVersion v,
                                           std::string_view tree, int32_t ix) {
  if (v == PclntabVersion::kGo118) {
    // {i16 parent; u8 funcID, _; i32 file, line, func_, parentPc}
    auto raw = SubView(tree, uint64_t(ix) * 20, 20);
    if (!raw) return std::nullopt;
    return InlinedCall{static_cast<uint8_t>((*raw)[2]),
                       ReadOr0<int32_t>(*raw, 12), ReadOr0<int32_t>(*raw, 16),
                       0};
  }
  // {u8 funcID, _[3]; i32 nameOff, parentPc, startLine}
  auto raw = SubView(tree, uint64_t(ix) * 16, 16);
  if (!raw) return std::nullopt;
  return InlinedCall{static_cast<uint8_t>((*raw)[0]), ReadOr0<int32_t>(*raw, 4),
                     ReadOr0<int32_t>(*raw, 8), ReadOr0<int32_t>(*raw, 12)};
}

// funcline1: file and line of pc inside f.
void FileLine(const Pclntab& t, const RawFunc& f, uint64_t pc, Frame* fr) {
  auto fileno = t.PcValue(f.pcfile, f.entry, pc);
  auto line = t.PcValue(f.pcln, f.entry, pc);
  if (!fileno || !line || *fileno < 0 || *line < 0) {
    fr->file = "?";
    fr->line = 0;
    return;
  }
  fr->file = t.FileName(f.cu_offset, *fileno);
  fr->line = *line;
}

// runtime.elideWrapperCalling: a wrapper is hidden unless it called one of
// the panic functions (then it is where the panic happened).
bool Elide(const std::optional<FuncIds>& ids, uint8_t id, uint8_t callee) {
  if (!ids || id != ids->wrapper) return false;
  return callee != ids->gopanic && callee != ids->sigpanic &&
         callee != ids->panicwrap;
}

}  // namespace

std::optional<FuncIds> FuncIdsForMinor(int minor) {
  // Counted from the FuncID enums in internal/abi/symtab.go (runtime/
  // symtab.go before 1.21) of each release.
  if (minor >= 18 && minor <= 21) return FuncIds{21, 9, 18, 14};
  if (minor >= 22 && minor <= 24) return FuncIds{22, 10, 19, 15};
  // 1.27 kept the 1.25 enum (checked against go1.27.4).
  if (minor >= 25 && minor <= 27) return FuncIds{23, 10, 20, 15};
  return std::nullopt;
}

void AppendFrames(const Pclntab& t, std::string_view gofunc,
                  const std::optional<FuncIds>& ids, const RawFunc& f,
                  uint64_t pc, std::vector<Frame>* out) {
  const size_t first = out->size();
  uint8_t callee = 0;  // FuncIDNormal
  std::string_view tree;
  const uint32_t ix_table = t.PcData(f, kPcdataInlTreeIndex);
  if (ix_table != 0 && !gofunc.empty()) {
    if (auto off = t.FuncData(f, kFuncdataInlTree)) {
      if (*off < gofunc.size()) tree = gofunc.substr(*off);
    }
  }
  int32_t ix = -1;
  if (!tree.empty()) ix = t.PcValue(ix_table, f.entry, pc).value_or(-1);
  for (int depth = 0; ix >= 0 && depth < kMaxInlineDepth; ++depth) {
    auto call = ReadInlinedCall(t.version(), tree, ix);
    if (!call) break;
    const bool elide = Elide(ids, call->func_id, callee);
    callee = call->func_id;
    if (!elide) {
      Frame fr;
      fr.function = t.FuncName(call->name_off);
      FileLine(t, f, pc, &fr);
      fr.start_line = call->start_line;
      fr.inlined = true;
      out->push_back(fr);
    }
    pc = f.entry + static_cast<uint32_t>(call->parent_pc);
    ix = t.PcValue(ix_table, f.entry, pc).value_or(-1);
  }
  if (Elide(ids, f.func_id, callee) && out->size() > first) return;
  Frame fr;
  fr.function = t.FuncName(f.name_off);
  FileLine(t, f, pc, &fr);
  fr.start_line = f.start_line;
  fr.inlined = false;
  out->push_back(fr);
}

}  // namespace gspy::gobinary_internal
