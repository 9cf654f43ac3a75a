// Test helpers shared by the pprof and render tests: run a shell command,
// find the Go toolchain, make a scratch directory.
#ifndef GSPY_TESTS_UNIT_PROFILE_PPROF_SUBPROCESS_H_
#define GSPY_TESTS_UNIT_PROFILE_PPROF_SUBPROCESS_H_

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <fstream>
#include <sstream>
#include <string>

namespace gspy::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    result.output.append(buf.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The go binary: $GSPY_GO, else `go` on PATH, else /usr/local/go/bin/go.
// Empty when none works; callers must fail, not skip, so a missing
// toolchain cannot silently turn the interop tests green.
inline std::string FindGo() {
  if (const char* env = getenv("GSPY_GO"); env != nullptr && *env != '\0') {
    return env;
  }
  CommandResult which = RunCommand("command -v go");
  if (which.exit_code == 0 && !which.output.empty()) {
    std::string path = which.output.substr(0, which.output.find('\n'));
    if (!path.empty()) return path;
  }
  if (RunCommand("test -x /usr/local/go/bin/go").exit_code == 0) {
    return "/usr/local/go/bin/go";
  }
  return "";
}

// Keeps go from touching the network or switching toolchains mid-test.
inline std::string GoEnv() { return "GOTOOLCHAIN=local GOPROXY=off GOFLAGS= "; }

inline std::string MakeTempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr ? base : "/tmp") + "/gspy-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

inline bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
  return static_cast<bool>(out);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_PROFILE_PPROF_SUBPROCESS_H_
