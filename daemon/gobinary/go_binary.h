// GoBinary: everything gspy knows about one Go executable, read from the file
// alone: build info, the pclntab symbolizer and the runtime struct layout the
// BPF programs need. One instance serves every process running that binary.
#ifndef GSPY_DAEMON_GOBINARY_GO_BINARY_H_
#define GSPY_DAEMON_GOBINARY_GO_BINARY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/gobinary/runtime_layout.h"

namespace gspy {

// What `go version -m` prints, parsed from .go.buildinfo.
struct BuildInfo {
  std::string go_version;    // "go1.26.8"
  std::string module_path;   // main module path ("path" line), may be empty
  std::string main_version;  // main module version, "(devel)" when unknown
  std::vector<std::pair<std::string, std::string>> settings;  // "build" lines
  bool cgo = false;    // CGO_ENABLED=1 in settings
  std::string goarch;  // "amd64", "arm64"
};

// One symbolized frame. The views point into the GoBinary's own storage and
// stay valid for the GoBinary's lifetime.
struct Frame {
  std::string_view function;  // "main.work", "runtime/pprof.Do"
  std::string_view file;      // "/src/app/main.go"
  int32_t line = 0;
  int32_t start_line = 0;  // 0 where the format has no start line
  bool inlined = false;    // true for every frame but the physical one
};

// A function from the pclntab.
struct FuncInfo {
  std::string_view name;
  uint64_t entry = 0;  // link-time virtual address
  uint64_t end = 0;    // next function's entry
};

// A PT_LOAD program header, to map runtime addresses back to the file.
struct LoadSegment {
  uint64_t vaddr = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
  bool executable = false;
};

class GoBinary {
 public:
  // Opens and parses `path`. Errors: NOT_FOUND (no file), FAILED_PRECONDITION
  // ("not a Go binary: no .go.buildinfo and no pclntab"), INVALID_ARGUMENT
  // (corrupt or truncated ELF / pclntab), UNIMPLEMENTED (pclntab format we do
  // not know). Never crashes on hostile input.
  static absl::StatusOr<std::unique_ptr<GoBinary>> Open(
      const std::string& path);
  // Same, from bytes in memory (for tests and the fuzzer).
  static absl::StatusOr<std::unique_ptr<GoBinary>> FromBytes(std::string bytes);

  virtual ~GoBinary() = default;

  virtual const BuildInfo& build_info() const = 0;
  virtual std::string_view goarch() const = 0;  // from the ELF header
  virtual bool is_pie() const = 0;              // ET_DYN
  virtual const std::vector<LoadSegment>& segments() const = 0;

  // The runtime struct layout (offsets) for this binary: from DWARF when the
  // binary has it, else from the generated table keyed by Go version. An
  // error naming the version when neither knows it; never guessed offsets.
  virtual const absl::StatusOr<RuntimeLayout>& runtime_layout() const = 0;

  // Appends the frames at `pc` (a link-time virtual address), innermost
  // first, as Go's traceback shows them: inlined callees first, the physical
  // function last. Returns false (appending nothing) when no function
  // covers pc. Thread-safe, no allocation besides `out` growing.
  virtual bool Symbolize(uint64_t pc, std::vector<Frame>* out) const = 0;

  // The function containing pc, if any.
  virtual std::optional<FuncInfo> FindFunction(uint64_t pc) const = 0;
  // A function by exact name ("runtime.gopark").
  virtual std::optional<FuncInfo> FindFunctionByName(
      std::string_view name) const = 0;

  // The stack-pointer delta (bytes the function has pushed below its
  // caller's SP, not counting the return address) at pc, from the pcsp
  // table. Used to recover the leaf's return address when the leaf has no
  // frame pointer. nullopt when pc is not in a function.
  virtual std::optional<int32_t> SpDelta(uint64_t pc) const = 0;

  // Number of functions in the pclntab.
  virtual size_t function_count() const = 0;

  // The i-th function in address order (i < function_count()); nullopt for
  // an out-of-range index or a corrupt entry. Lets callers enumerate the
  // pclntab (e.g. to find RET instructions for uprobes).
  virtual std::optional<FuncInfo> FunctionAt(size_t i) const = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_GOBINARY_GO_BINARY_H_
