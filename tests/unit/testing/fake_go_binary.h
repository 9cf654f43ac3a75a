// A GoBinary with a handful of made-up functions, for tests of the code that
// consumes symbolized stacks without building a Go program.
#ifndef GSPY_TESTS_UNIT_TESTING_FAKE_GO_BINARY_H_
#define GSPY_TESTS_UNIT_TESTING_FAKE_GO_BINARY_H_

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bpf/gspy_types.h"
#include "golang/binary/go_binary.h"
#include "golang/process/go_process.h"
#include "golang/process/proc_maps.h"

namespace gspy::testing {

class FakeGoBinary : public GoBinary {
 public:
  struct Func {
    std::string name;
    uint64_t entry, end;
    int32_t sp_delta;            // for every pc in the function
    std::string inlined_callee;  // non-empty: every pc shows an inline frame
  };

  explicit FakeGoBinary(std::vector<Func> funcs) : funcs_(std::move(funcs)) {
    info_.go_version = "go1.26.8";
    layout_ = RuntimeLayout{};
  }
  // For readers of runtime structs (goroutine dumps): a real layout.
  void set_runtime_layout(RuntimeLayout layout) { layout_ = std::move(layout); }
  // For readers of the runtime's books.
  void set_books_layout(BooksLayout layout) { books_ = layout; }
  void set_go_version(std::string v) { info_.go_version = std::move(v); }
  // .symtab entries; none means a stripped binary.
  void set_symbols(std::map<std::string, uint64_t> symbols) {
    symbols_ = std::move(symbols);
  }

  const BuildInfo& build_info() const override { return info_; }
  std::string_view goarch() const override { return "amd64"; }
  bool is_pie() const override { return false; }
  const std::vector<LoadSegment>& segments() const override { return segs_; }
  const absl::StatusOr<RuntimeLayout>& runtime_layout() const override {
    return layout_;
  }
  const absl::StatusOr<BooksLayout>& books_layout() const override {
    return books_;
  }
  std::optional<uint64_t> SymbolAddress(std::string_view name) const override {
    auto it = symbols_.find(std::string(name));
    if (it == symbols_.end()) return std::nullopt;
    return it->second;
  }
  bool Symbolize(uint64_t pc, std::vector<Frame>* out) const override {
    const Func* f = Find(pc);
    if (f == nullptr) return false;
    const int32_t line = static_cast<int32_t>(pc - f->entry);
    if (!f->inlined_callee.empty()) {
      out->push_back({f->inlined_callee, "fake.go", line + 1000, 0, true});
    }
    out->push_back({f->name, "fake.go", line, 1, false});
    return true;
  }
  std::optional<FuncInfo> FindFunction(uint64_t pc) const override {
    const Func* f = Find(pc);
    if (f == nullptr) return std::nullopt;
    return FuncInfo{f->name, f->entry, f->end};
  }
  std::optional<FuncInfo> FindFunctionByName(
      std::string_view name) const override {
    for (const Func& f : funcs_) {
      if (f.name == name) return FuncInfo{f.name, f.entry, f.end};
    }
    return std::nullopt;
  }
  std::optional<int32_t> SpDelta(uint64_t pc) const override {
    const Func* f = Find(pc);
    if (f == nullptr) return std::nullopt;
    return f->sp_delta;
  }
  size_t function_count() const override { return funcs_.size(); }
  std::optional<FuncInfo> FunctionAt(size_t i) const override {
    if (i >= funcs_.size()) return std::nullopt;
    return FuncInfo{funcs_[i].name, funcs_[i].entry, funcs_[i].end};
  }

 private:
  const Func* Find(uint64_t pc) const {
    for (const Func& f : funcs_) {
      if (pc >= f.entry && pc < f.end) return &f;
    }
    return nullptr;
  }
  std::vector<Func> funcs_;
  BuildInfo info_;
  std::vector<LoadSegment> segs_;
  absl::StatusOr<RuntimeLayout> layout_;
  absl::StatusOr<BooksLayout> books_ = absl::UnimplementedError("no books");
  std::map<std::string, uint64_t> symbols_;
};

// A process of a FakeGoBinary with main.work (inlining main.hash) at
// 0x1000-0x1100 and main.main at 0x2000-0x2100, mapped from inode kExeInode,
// plus a libc mapping.
inline constexpr uint64_t kExeInode = 42;
inline GoProcess FakeProcess(int pid) {
  GoProcess p;
  p.pid = pid;
  p.exe_path = "/app/server";
  p.exe_inode = kExeInode;
  p.binary = std::make_shared<FakeGoBinary>(std::vector<FakeGoBinary::Func>{
      {"main.work", 0x1000, 0x1100, 16, "main.hash"},
      {"main.main", 0x2000, 0x2100, 40, ""}});
  p.mappings = ParseProcMaps(
      "00001000-00003000 r-xp 00001000 08:01 42 /app/server\n"
      "7f0000000000-7f0000001000 r-xp 00000000 08:01 7 /lib/libc.so.6\n");
  return p;
}

// Writes `labels` into a BPF record's label array and count.
inline void FillLabels(
    const std::vector<std::pair<std::string, std::string>>& labels,
    gspy_label* out, uint8_t* count) {
  for (const auto& [k, v] : labels) {
    gspy_label& l = out[(*count)++];
    memcpy(l.key, k.data(), k.size());
    l.key_len = k.size();
    memcpy(l.value, v.data(), v.size());
    l.value_len = v.size();
  }
}

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_TESTING_FAKE_GO_BINARY_H_
