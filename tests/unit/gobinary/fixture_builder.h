// Builds the Go fixture program (tests/fixtures/gobinary/inlinefix) with the
// installed toolchain in several variants, once per test process.
#ifndef GSPY_TESTS_UNIT_GOBINARY_FIXTURE_BUILDER_H_
#define GSPY_TESTS_UNIT_GOBINARY_FIXTURE_BUILDER_H_

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
// toolchain in $GSPY_GOBINARY_EXTRA_TOOLCHAINS (e.g. "go1.19 go1.22.0") adds
// a variant "go1_19" built with it; off by default since it downloads.
std::vector<std::string> VariantNames();

std::string ReadFileOrDie(const std::string& path);

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_GOBINARY_FIXTURE_BUILDER_H_
