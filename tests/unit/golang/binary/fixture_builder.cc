#include "tests/unit/golang/binary/fixture_builder.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace gspy::testing {
namespace {

struct Spec {
  const char* name;
  const char* env;    // prepended to `go build`
  const char* flags;  // `go build` flags
  bool cgo;
  bool has_dwarf;
  bool gnu_strip;  // strip a copy of the default build instead of building
};

// CGO_ENABLED is explicit: gcc is installed, so the go default would be 1.
constexpr Spec kSpecs[] = {
    {"default", "CGO_ENABLED=0", "", false, true, false},
    {"pie", "CGO_ENABLED=0", "-buildmode=pie", false, true, false},
    {"stripped_sw", "CGO_ENABLED=0", "-ldflags='-s -w'", false, false, false},
    {"gnu_strip", "", "", false, false, true},
    {"cgo", "CGO_ENABLED=1", "", true, true, false},
    // cgo + PIE links externally: moduledata pointers live in relocations.
    {"cgo_pie", "CGO_ENABLED=1", "-buildmode=pie", true, true, false},
    {"trimpath", "CGO_ENABLED=0", "-trimpath", false, true, false},
    // Cross-compiled: minLC 4 and arm64 DWARF; cannot run here.
    {"arm64", "CGO_ENABLED=0 GOARCH=arm64", "", false, true, false},
};

std::vector<std::string> ExtraToolchains() {
  const char* env = getenv("GSPY_GOBINARY_EXTRA_TOOLCHAINS");
  if (env == nullptr) return {};
  return absl::StrSplit(env, ' ', absl::SkipEmpty());
}

std::string VariantPrefix(std::string toolchain) {
  for (char& c : toolchain) {
    if (c == '.') c = '_';
  }
  return absl::StrCat(toolchain, "_");
}

// What every toolchain of the version matrix builds.
constexpr Spec kMatrixSpecs[] = {
    {"default", "CGO_ENABLED=0", "", false, true, false},
    {"pie", "CGO_ENABLED=0", "-buildmode=pie", false, true, false},
    {"stripped_sw", "CGO_ENABLED=0", "-ldflags='-s -w'", false, false, false},
    {"cgo", "CGO_ENABLED=1", "", true, true, false},
};

absl::StatusOr<Fixtures> Build() {
  Fixtures fx;
  CommandResult v = RunCommand("GOTOOLCHAIN=local go version");
  if (v.exit_code != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "`go version` failed (is Go installed and on PATH?): ", v.output));
  }
  // "go version go1.26.8 linux/amd64"
  std::vector<std::string> parts = absl::StrSplit(v.output, ' ');
  if (parts.size() < 3) {
    return absl::InternalError(absl::StrCat("odd go version: ", v.output));
  }
  fx.go_version = parts[2];
  char tmpl[] = "/tmp/gspy_gobinary_test.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  fx.dir = tmpl;
  // Copy the sources so -trimpath and file names are predictable.
  const std::string src = absl::StrCat(fx.dir, "/src");
  CommandResult cp = RunCommand(absl::StrCat(
      "cp -r '", GSPY_GOBINARY_FIXTURE_DIR, "/inlinefix' '", src, "'"));
  if (cp.exit_code != 0) return absl::InternalError(cp.output);
  for (const Spec& s : kSpecs) {
    Variant var{s.name,  absl::StrCat(fx.dir, "/", s.name),
                s.cgo,   s.has_dwarf,
                "local", fx.go_version};
    std::string cmd;
    if (s.gnu_strip) {
      cmd = absl::StrCat("strip -o '", var.path, "' '", fx.dir, "/default'");
    } else {
      cmd = absl::StrCat("cd '", src, "' && ", s.env, " ", GoCommand("local"),
                         " build ", s.flags, " -o '", var.path, "' .");
    }
    CommandResult r = RunCommand(cmd);
    if (r.exit_code != 0) {
      return absl::InternalError(absl::StrCat(
          "building variant ", s.name, " failed: ", cmd, "\n", r.output));
    }
    fx.variants.push_back(var);
  }
  for (const std::string& tc : ExtraToolchains()) {
    CommandResult ver = RunCommand(GoCommand(tc) + " env GOVERSION");
    if (ver.exit_code != 0) {
      return absl::InternalError(absl::StrCat(
          "toolchain ", tc,
          " could not be downloaded or run (GOTOOLCHAIN via the module "
          "proxy; set GOPROXY/GOMODCACHE or drop it from "
          "GSPY_GOBINARY_EXTRA_TOOLCHAINS): ",
          ver.output));
    }
    // The output starts with "go: downloading go1.18.10 ..." on the first
    // use of a toolchain; the version is the last line.
    std::vector<std::string> lines =
        absl::StrSplit(absl::StripTrailingAsciiWhitespace(ver.output), '\n');
    const std::string version = lines.empty() ? "" : lines.back();
    if (!absl::StartsWith(version, "go1.")) {
      return absl::InternalError(absl::StrCat(
          "toolchain ", tc, ": odd `go env GOVERSION`: ", ver.output));
    }
    for (const Spec& s : kMatrixSpecs) {
      const std::string name = absl::StrCat(VariantPrefix(tc), s.name);
      Variant var{name,
                  absl::StrCat(fx.dir, "/", name),
                  s.cgo,
                  s.has_dwarf,
                  tc,
                  version,
                  absl::StrCat(VariantPrefix(tc), "default")};
      const std::string cmd =
          absl::StrCat("cd '", src, "' && ", s.env, " ", GoCommand(tc),
                       " build ", s.flags, " -o '", var.path, "' .");
      CommandResult r = RunCommand(cmd);
      if (r.exit_code != 0) {
        return absl::InternalError(absl::StrCat(
            "building ", name, " with ", tc, " failed: ", cmd, "\n", r.output));
      }
      fx.variants.push_back(var);
    }
  }
  return fx;
}

}  // namespace

CommandResult RunCommand(const std::string& cmd, const std::string& input,
                         bool merge_stderr) {
  std::string full = cmd;
  std::string input_path;
  if (!input.empty()) {
    char tmpl[] = "/tmp/gspy_cmd_input.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) {
      size_t off = 0;
      while (off < input.size()) {
        ssize_t n = write(fd, input.data() + off, input.size() - off);
        if (n <= 0) break;
        off += n;
      }
      close(fd);
      input_path = tmpl;
      full = absl::StrCat("(", cmd, ") < '", input_path, "'");
    }
  }
  if (merge_stderr) full = absl::StrCat("(", full, ") 2>&1");
  CommandResult res;
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return res;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) res.output.append(buf, n);
  int st = pclose(p);
  res.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (!input_path.empty()) unlink(input_path.c_str());
  return res;
}

const Variant* Fixtures::Find(const std::string& name) const {
  for (const Variant& v : variants) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

namespace {

const absl::StatusOr<Fixtures>* built_fixtures = nullptr;

// Removes the temp dir with the built variants after the last test.
class FixtureCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (built_fixtures != nullptr && built_fixtures->ok() &&
        !(*built_fixtures)->dir.empty() &&
        getenv("GSPY_KEEP_FIXTURES") == nullptr) {
      RunCommand(absl::StrCat("rm -rf '", (*built_fixtures)->dir, "'"));
    }
  }
};

[[maybe_unused]] ::testing::Environment* const cleanup_env =
    ::testing::AddGlobalTestEnvironment(new FixtureCleanup);

}  // namespace

const absl::StatusOr<Fixtures>& GetFixtures() {
  static const auto* fx = built_fixtures =
      new absl::StatusOr<Fixtures>(Build());
  return *fx;
}

std::vector<std::string> VariantNames() {
  std::vector<std::string> out;
  for (const Spec& s : kSpecs) out.push_back(s.name);
  for (const std::string& tc : ExtraToolchains()) {
    for (const Spec& s : kMatrixSpecs) {
      out.push_back(absl::StrCat(VariantPrefix(tc), s.name));
    }
  }
  return out;
}

std::string GoCommand(const std::string& toolchain) {
  return absl::StrCat("GOENV=off GOFLAGS= GOTOOLCHAIN=", toolchain, " go");
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace gspy::testing
