// libFuzzer target for GoBinary::FromBytes and the lookups on whatever it
// accepts. Seed it with real Go binaries (e.g. the fixture variants).
// Run: scripts/fuzz (builds it with clang into build-fuzz, seeds the corpus
// with real Go binaries, fuzzes FUZZ_SECONDS, default 600); ctest runs it for
// 30 s as gobinary_fuzz_brief.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "golang/binary/go_binary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bin = gspy::GoBinary::FromBytes(
      std::string(reinterpret_cast<const char*>(data), size));
  if (!bin.ok()) return 0;
  (void)(*bin)->runtime_layout();
  std::vector<gspy::Frame> frames;
  const size_t n = (*bin)->function_count();
  for (size_t i = 0; i < n; i += 1 + n / 32) {
    auto f = (*bin)->FunctionAt(i);
    if (!f) continue;
    for (uint64_t pc = f->entry; pc < f->end && pc < f->entry + 32; pc += 5) {
      frames.clear();
      (*bin)->Symbolize(pc, &frames);
      (*bin)->SpDelta(pc);
    }
  }
  (*bin)->FindFunctionByName("runtime.gopark");
  return 0;
}
