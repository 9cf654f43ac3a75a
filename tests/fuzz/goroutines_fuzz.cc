// libFuzzer target for a goroutine dump over hostile memory: allgs
// discovery, g decoding, labels (slice and map layouts), the stack unwinder
// (pcsp frames, the frame-pointer fallback, amd64 and arm64), then the
// dump's API messages, which must survive a serialize/parse round trip
// (gspyd sends them to the CLI). A gspyd reads live processes and cores
// that may be corrupt or crafted; nothing read may crash it, loop or grow
// without bound.
//
// Input: one options byte, then memory regions, each {u64 address, u16
// length, bytes} (little-endian; the last may be cut short). The binary is
// a FakeGoBinary whose runtime.forEachG code (served here, at a fixed
// address) loads runtime.allgs from kAllgs, so an input that puts a slice
// of g's there gets a dump. Seeds: corpus/goroutines/ (make_seeds.py).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "golang/binary/layout_table.h"
#include "golang/goroutines/dump_proto.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/memory_source.h"
#include "golang/goroutines/stack_unwinder.h"
#include "proto/gspy/v1/profiler.pb.h"
#include "tests/fuzz/region_memory.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy {
namespace {

// Link-time addresses of the fake binary's functions and of allgs (the
// layout make_seeds.py writes).
constexpr uint64_t kForEachG = 0x401000;
constexpr uint64_t kAllgs = 0x500000;

enum Options : uint8_t {
  kGo123 = 1,  // go1.23's layout: labels in a map; else go1.26's (slice)
  kArm64 = 2,
  kIncludeSystem = 4,
  kStatesOnly = 8,
  kBiased = 16,  // loaded at a load bias (PIE)
  kFewFrames = 32,
};
constexpr uint64_t kBias = 0x7f0000000000;

class FuzzBinary : public testing::FakeGoBinary {
 public:
  FuzzBinary(bool arm64, int minor)
      : FakeGoBinary(
            {{"runtime.forEachG", kForEachG, kForEachG + 0x100, 32, ""},
             {"runtime.gopark", 0x402000, 0x402100, 24, ""},
             {"main.block", 0x403000, 0x403100, 40, "main.inl"},
             {"runtime.goexit", 0x404000, 0x404010, 0, ""},
             {"runtime.bgsweep", 0x405000, 0x405100, 8, ""},
             {"runtime.asyncPreempt", 0x406000, 0x406100, 368, ""},
             // No pcsp: the frame-pointer fallback.
             {"main.nofp", 0x407000, 0x407100, -1, ""},
             {"main.main", 0x408000, 0x408100, 88, ""},
             {"main.(*T).M-fm", 0x409000, 0x409100, 16, ""},
             {"runtime.main", 0x40a000, 0x40a100, 24, ""}}),
        arm64_(arm64) {
    RuntimeLayout layout = *BuiltinRuntimeLayout(minor);
    layout.go_version = "go1." + std::to_string(minor) + ".1";
    set_runtime_layout(layout);
  }
  std::string_view goarch() const override {
    return arm64_ ? "arm64" : "amd64";
  }
  std::optional<FuncInfo> FindFunction(uint64_t pc) const override {
    std::optional<FuncInfo> f = FakeGoBinary::FindFunction(pc);
    if (f.has_value()) f->wrapper = f->name.ends_with("-fm");
    return f;
  }

 private:
  bool arm64_;
};

// forEachG's code: a load of allgs (amd64: MOVQ allgs(RIP), CX; arm64:
// ADRP X0, allgs page; LDR X1, [X0, #offset]), then padding.
std::string ForEachGCode(bool arm64) {
  std::string code;
  auto put32 = [&](uint32_t v) {
    code.append(reinterpret_cast<const char*>(&v), 4);
  };
  if (arm64) {
    const uint64_t pages = (kAllgs >> 12) - (kForEachG >> 12);
    put32(0x90000000u | static_cast<uint32_t>((pages & 3) << 29) |
          static_cast<uint32_t>(((pages >> 2) & 0x7ffff) << 5));
    put32(0xf9400000u | static_cast<uint32_t>(((kAllgs & 0xfff) / 8) << 10) |
          (0u << 5) | 1u);
    while (code.size() < 0x100) put32(0xd503201f);  // NOP
  } else {
    code = "\x48\x8b\x0d";
    put32(static_cast<uint32_t>(kAllgs - (kForEachG + 7)));
    code.append(0x100 - code.size(), '\xcc');
  }
  return code;
}

}  // namespace
}  // namespace gspy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gspy;
  if (size < 1) return 0;
  const uint8_t options = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool arm64 = options & kArm64;
  const uint64_t bias = (options & kBiased) ? kBias : 0;
  const FuzzBinary binary(arm64, (options & kGo123) ? 23 : 26);

  RegionMemory memory;
  const std::string code = ForEachGCode(arm64);
  memory.Add(kForEachG + bias, code);
  memory.AddEncoded(rest);

  DumpOptions dump_options;
  dump_options.include_system = options & kIncludeSystem;
  dump_options.states_only = options & kStatesOnly;
  dump_options.max_frames = (options & kFewFrames) ? 4 : 512;
  dump_options.max_goroutines = 4096;
  dump_options.now_monotonic_ns = int64_t{1} << 40;
  absl::StatusOr<GoroutineDump> dump =
      TakeGoroutineDump(binary, memory, bias, dump_options);
  // GSPY_FUZZ_DEBUG=1: what an input makes of the dump (for writing seeds).
  static const bool debug = getenv("GSPY_FUZZ_DEBUG") != nullptr;
  if (debug) {
    fprintf(stderr, "dump: %s\n",
            dump.ok() ? "ok" : dump.status().ToString().c_str());
  }
  if (!dump.ok()) return 0;
  if (debug) {
    for (const GoroutineRecord& g : dump->goroutines) {
      fprintf(stderr, "goroutine %lu status %u labels %zu%s frames %zu%s %s\n",
              g.goid, g.status, g.labels != nullptr ? g.labels->size() : 0,
              g.labels_error.c_str(), g.stack.pcs.size(),
              g.stack.complete ? " complete" : "", g.stack.error.c_str());
    }
    for (const std::string& w : dump->warnings)
      fprintf(stderr, "warning: %s\n", w.c_str());
  }
  for (const GoroutineRecord& g : dump->goroutines) {
    if (g.stack.pcs.size() > dump_options.max_frames) __builtin_trap();
    if (g.stack.pcs.size() != g.stack.exact.size()) __builtin_trap();
    (void)SymbolizeStack(binary, g.stack);
  }

  // What gspyd sends: the messages must parse on the other side.
  v1::ProcessGoroutines p;
  DumpToProto(*dump, binary, bias, {}, &p);
  std::string wire;
  if (!p.SerializeToString(&wire)) __builtin_trap();
  v1::ProcessGoroutines back;
  if (!back.ParseFromString(wire)) __builtin_trap();
  (void)GoroutinesPprof({&p}, 1'700'000'000'000'000'000);
  return 0;
}
