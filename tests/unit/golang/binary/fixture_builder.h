// Builds the Go fixture program (tests/fixtures/gobinary/inlinefix) with the
// installed toolchain in several variants, once per test process.
#ifndef GSPY_TESTS_UNIT_GOLANG_BINARY_FIXTURE_BUILDER_H_
#define GSPY_TESTS_UNIT_GOLANG_BINARY_FIXTURE_BUILDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gspy::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout (stderr too when merge_stderr)
};

// Runs `cmd` through /bin/sh; `input` is written to its stdin via a file.
CommandResult RunCommand(const std::string& cmd, const std::string& input = "",
                         bool merge_stderr = true);

struct Variant {
  std::string name;  // "default", "pie", ...
  std::string path;  // the built binary
  bool cgo = false;
  bool has_dwarf = true;
  // The toolchain that built it ("local" = installed) and its version.
  std::string toolchain = "local";
  std::string go_version;
  // The DWARF-carrying default build of the same toolchain ("default",
  // "go1_18_10_default"), whose layout every variant must match.
  std::string base = "default";
};

struct Fixtures {
  std::string go_version;  // "go1.26.8", from `go version`
  std::string dir;         // temp dir holding the binaries
  std::vector<Variant> variants;
  const Variant* Find(const std::string& name) const;
};

// Builds every variant on first call; the error explains what failed (for
// instance that `go` is not installed), and tests FAIL on it, never skip.
const absl::StatusOr<Fixtures>& GetFixtures();

// Variant names, for parameterized tests. Besides the fixed variants, each
// toolchain in $GSPY_GOBINARY_EXTRA_TOOLCHAINS (e.g. "go1.19.13 go1.27.4")
// adds the variants "go1_19_13_default", "_pie", "_stripped_sw" and "_cgo"
// built with it (downloaded through the module proxy; a toolchain that cannot
// be downloaded fails every test). The ctest entry gobinary_version_matrix
// sets it; the plain gobinary_test entry does not.
std::vector<std::string> VariantNames();

// The Go command prefix that runs `toolchain` ("local" or "go1.18.10")
// independently of the user's go env (GOENV=off: ~/.config/go/env may set
// GOFLAGS that old toolchains reject).
std::string GoCommand(const std::string& toolchain);

std::string ReadFileOrDie(const std::string& path);

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_GOLANG_BINARY_FIXTURE_BUILDER_H_
