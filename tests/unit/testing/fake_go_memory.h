// A Go process's memory, made up: sparse bytes (FakeMemory) and a process
// image (Image) with runtime.allgs, g structs laid out as go1.26 lays them
// out, and parked goroutines' stacks, for the readers of goroutines from
// outside (goroutine dumps, the sampled wait source).
#ifndef GSPY_TESTS_UNIT_TESTING_FAKE_GO_MEMORY_H_
#define GSPY_TESTS_UNIT_TESTING_FAKE_GO_MEMORY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "golang/binary/layout_table.h"
#include "golang/goroutines/g_struct.h"
#include "golang/goroutines/memory_source.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy::testing {

// Sparse memory: regions of bytes. `mutate` runs before every read, so a
// test can change a goroutine between the dump's two reads of it; with
// `gone` set every read is NOT_FOUND, as for a process that exited.
class FakeMemory : public MemorySource {
 public:
  void Put(uint64_t addr, const std::string& bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) bytes_[addr + i] = bytes[i];
  }
  void PutU64(uint64_t addr, uint64_t v) {
    Put(addr, std::string(reinterpret_cast<const char*>(&v), 8));
  }
  void PutU32(uint64_t addr, uint32_t v) {
    Put(addr, std::string(reinterpret_cast<const char*>(&v), 4));
  }
  void Zero(uint64_t addr, size_t n) { Put(addr, std::string(n, '\0')); }
  absl::Status Read(uint64_t addr, absl::Span<char> out) const override {
    if (gone) return absl::NotFoundError("gone");
    if (mutate) mutate(addr);
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = bytes_.find(addr + i);
      if (it == bytes_.end()) {
        return absl::OutOfRangeError(
            absl::StrCat("unmapped 0x", absl::Hex(addr + i)));
      }
      out[i] = it->second;
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "fake"; }
  // Counts the batched reads (the default reads each range with Read).
  absl::Status ReadMany(absl::Span<const MemoryRange> ranges,
                        std::vector<bool>* ok) const override {
    ++read_many_calls;
    return MemorySource::ReadMany(ranges, ok);
  }
  std::function<void(uint64_t)> mutate;
  bool gone = false;
  mutable int read_many_calls = 0;

 private:
  std::map<uint64_t, char> bytes_;
};

// Labels as Go 1.24+ keeps them: {ptr, len, cap} of {key, value}.
inline uint64_t PutSliceLabels(
    FakeMemory& mem, uint64_t at,
    const std::vector<std::pair<std::string, std::string>>& kvs) {
  const uint64_t list = at + 0x100, strings = at + 0x1000;
  mem.PutU64(at, list);
  mem.PutU64(at + 8, kvs.size());
  mem.PutU64(at + 16, kvs.size());
  uint64_t s = strings;
  for (size_t i = 0; i < kvs.size(); ++i) {
    for (int j = 0; j < 2; ++j) {
      const std::string& str = j == 0 ? kvs[i].first : kvs[i].second;
      mem.Put(s, str);
      mem.PutU64(list + i * 32 + j * 16, s);
      mem.PutU64(list + i * 32 + j * 16 + 8, str.size());
      s += str.size() + 1;
    }
  }
  return at;
}

// The daemon tests' fake binary, with go1.26's real runtime layout.

inline constexpr uint64_t kForEachG = 0x401000;
inline constexpr uint64_t kGopark = 0x402000;
inline constexpr uint64_t kBlock = 0x403000;
inline constexpr uint64_t kGoexit = 0x404000;
inline constexpr uint64_t kBgsweep = 0x405000;
inline constexpr uint64_t kAllgs = 0x500000;
inline constexpr uint64_t kArray = 0x600000;

inline FakeGoBinary MakeBinary() {
  FakeGoBinary bin({{"runtime.forEachG", kForEachG, kForEachG + 0x100, 32, ""},
                    {"runtime.gopark", kGopark, kGopark + 0x100, 24, ""},
                    {"main.block", kBlock, kBlock + 0x100, 40, ""},
                    {"runtime.goexit", kGoexit, kGoexit + 0x10, 0, ""},
                    {"runtime.bgsweep", kBgsweep, kBgsweep + 0x100, 8, ""}});
  RuntimeLayout layout = *BuiltinRuntimeLayout(26);
  layout.go_version = "go1.26.8";
  bin.set_runtime_layout(layout);
  return bin;
}

// A process image: forEachG's code loads allgs (MOVQ allgs(RIP), CX), allgs
// holds `gs`, each g is laid out with the go1.26 offsets.
struct Image {
  FakeMemory mem;
  FakeGoBinary bin = MakeBinary();
  const RuntimeLayout& l() const { return *bin.runtime_layout(); }

  Image() {
    // 48 8b 0d <disp32>: the target is the next instruction + disp.
    const uint32_t disp = static_cast<uint32_t>(kAllgs - (kForEachG + 7));
    std::string code = "\x48\x8b\x0d";
    code.append(reinterpret_cast<const char*>(&disp), 4);
    code.append(0x100 - code.size(), '\xcc');
    mem.Put(kForEachG, code);
  }
  void SetAllgs(const std::vector<uint64_t>& gs) {
    mem.PutU64(kAllgs, kArray);
    mem.PutU64(kAllgs + 8, gs.size());
    mem.PutU64(kAllgs + 16, gs.size());
    for (size_t i = 0; i < gs.size(); ++i) mem.PutU64(kArray + i * 8, gs[i]);
  }
  // A goroutine parked in main.block -> runtime.gopark, stack at `stack`.
  void AddG(uint64_t g, uint64_t goid, uint32_t status, uint64_t stack,
            uint64_t startpc = kBlock, uint64_t labels = 0) {
    mem.Zero(g, GReadSize(l()));
    const uint64_t lo = stack, hi = stack + 0x2000, sp = hi - 0x100;
    mem.PutU64(g, lo);
    mem.PutU64(g + 8, hi);
    mem.PutU64(g + l().g_sched + l().gobuf_sp, sp);
    mem.PutU64(g + l().g_sched + l().gobuf_pc, kGopark + 0x50);
    mem.PutU32(g + l().g_atomicstatus, status);
    mem.PutU64(g + l().g_goid, goid);
    mem.Put(g + l().g_waitreason, std::string(1, '\x0e'));
    mem.PutU64(g + l().g_labels, labels);
    mem.PutU64(g + l().g_parentgoid, 1);
    mem.PutU64(g + l().g_gopc, kBlock + 0x80);
    mem.PutU64(g + l().g_startpc, startpc);
    mem.Zero(lo, 0x2000);
    mem.PutU64(sp + 24, kBlock + 0x20);     // gopark's return address
    mem.PutU64(sp + 32 + 40, kGoexit + 1);  // main.block's
  }
};

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_TESTING_FAKE_GO_MEMORY_H_
