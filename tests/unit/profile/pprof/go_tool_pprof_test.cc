// Interop: the real `go tool pprof` must read what ProfileBuilder writes.
// Fails (never skips) without a Go toolchain, so CI cannot go green by
// accident.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/profile/pprof/subprocess.h"
#include "tests/unit/profile/pprof/test_profiles.h"

namespace gspy {
namespace {

using testing::CommandResult;

class GoToolPprofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    go_ = testing::FindGo();
    ASSERT_FALSE(go_.empty())
        << "Go toolchain not found (set GSPY_GO or put `go` on PATH): the "
           "pprof interop tests need `go tool pprof`";
    dir_ = testing::MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/cpu.pb.gz";
    ASSERT_TRUE(
        testing::WriteFile(path_, testing::MakeCpuProfile()->SerializeGzip()));
  }
  void TearDown() override {
    if (!dir_.empty()) testing::RunCommand("rm -rf '" + dir_ + "'");
  }

  CommandResult Pprof(const std::string& flags) {
    // PPROF_BINARY_PATH points at an empty directory so pprof does not go
    // looking for /app/server to symbolize.
    return testing::RunCommand(testing::GoEnv() + "PPROF_BINARY_PATH='" + dir_ +
                               "' '" + go_ + "' tool pprof " + flags + " '" +
                               path_ + "'");
  }

  std::string go_, dir_, path_;
};

TEST_F(GoToolPprofTest, Raw) {
  CommandResult r = Pprof("-raw");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* want :
       {"PeriodType: cpu nanoseconds", "Period: 10000000",
        "samples/count cpu/nanoseconds", "main.handle", "main.parseRequest",
        "main.computeHash", "main.main", "[kernel] do_syscall_64",
        "/src/app/parse.go", "handler:[checkout]", "handler:[search]",
        "bytes:[4096", "/app/server"}) {
    EXPECT_NE(r.output.find(want), std::string::npos)
        << "missing '" << want << "' in:\n"
        << r.output;
  }
}

TEST_F(GoToolPprofTest, Top) {
  CommandResult r = Pprof("-top -nodecount=20");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* want : {"Type: cpu", "main.handle", "main.parseRequest",
                           "main.computeHash", "main.main"}) {
    EXPECT_NE(r.output.find(want), std::string::npos)
        << "missing '" << want << "' in:\n"
        << r.output;
  }
  // 100ms of cpu in total (30+50+20 ms).
  EXPECT_NE(r.output.find("100ms"), std::string::npos) << r.output;
}

TEST_F(GoToolPprofTest, TracesMarkInlineFrames) {
  CommandResult r = Pprof("-traces");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("main.parseRequest (inline)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("checkout"), std::string::npos) << r.output;
}

TEST_F(GoToolPprofTest, Tags) {
  CommandResult r = Pprof("-tags");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("handler"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("checkout"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("search"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bytes"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gspy
