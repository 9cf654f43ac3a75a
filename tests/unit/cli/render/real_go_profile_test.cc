// Reads a CPU profile written by Go's own runtime/pprof: the decoder and the
// renderers must handle what real producers emit, not just our builder.
// Fails (never skips) without a Go toolchain.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "cli/render/flame_graph.h"
#include "profile/pprof/profile_builder.h"
#include "tests/unit/cli/render/svg_check.h"
#include "tests/unit/profile/pprof/subprocess.h"

namespace gspy {
namespace {

// Two functions burn CPU for ~0.5 s each under different pprof.Do labels.
constexpr char kProgram[] = R"go(package main

import (
	"context"
	"os"
	"runtime/pprof"
	"time"
)

var sink uint64

//go:noinline
func burnAlpha(d time.Duration) { sink += spin(d) }

//go:noinline
func burnBeta(d time.Duration) { sink += spin(d) }

//go:noinline
func spin(d time.Duration) uint64 {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 10000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	return x
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	ctx := context.Background()
	pprof.Do(ctx, pprof.Labels("phase", "alpha"), func(context.Context) {
		burnAlpha(500 * time.Millisecond)
	})
	pprof.Do(ctx, pprof.Labels("phase", "beta"), func(context.Context) {
		burnBeta(500 * time.Millisecond)
	})
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		panic(err)
	}
}
)go";

class RealGoProfileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string go = testing::FindGo();
    if (go.empty()) {
      error_ = "Go toolchain not found (set GSPY_GO or put `go` on PATH)";
      return;
    }
    dir_ = testing::MakeTempDir();
    const std::string src = dir_ + "/main.go";
    const std::string out = dir_ + "/cpu.pprof";
    testing::WriteFile(src, kProgram);
    testing::CommandResult r = testing::RunCommand(
        "cd '" + dir_ + "' && " + testing::GoEnv() + "GO111MODULE=off '" + go +
        "' run ./main.go '" + out + "'");
    if (r.exit_code != 0) {
      error_ = "go run failed: " + r.output;
      return;
    }
    bytes_ = testing::ReadFile(out);
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) testing::RunCommand("rm -rf '" + dir_ + "'");
  }
  void SetUp() override { ASSERT_TRUE(error_.empty()) << error_; }

  static std::string dir_, error_, bytes_;
};
std::string RealGoProfileTest::dir_;
std::string RealGoProfileTest::error_;
std::string RealGoProfileTest::bytes_;

TEST_F(RealGoProfileTest, DecodesAndFoldsByLabel) {
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(bytes_);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->sample_type_size(), 2);
  EXPECT_EQ(p->string_table(p->sample_type(1).type()), "cpu");
  EXPECT_EQ(p->string_table(p->sample_type(1).unit()), "nanoseconds");

  absl::StatusOr<std::string> folded =
      RenderFolded(*p, {.group_by_label = "phase"});
  ASSERT_TRUE(folded.ok()) << folded.status();
  bool alpha = false, beta = false;
  for (absl::string_view line : absl::StrSplit(*folded, '\n')) {
    if (line.empty()) continue;
    // Every line ends in a positive count.
    const size_t space = line.rfind(' ');
    ASSERT_NE(space, absl::string_view::npos) << line;
    EXPECT_GT(std::stoll(std::string(line.substr(space + 1))), 0) << line;
    if (line.find("main.burnAlpha") != absl::string_view::npos) {
      EXPECT_EQ(line.rfind("phase=alpha;", 0), 0u) << line;
      alpha = true;
    }
    if (line.find("main.burnBeta") != absl::string_view::npos) {
      EXPECT_EQ(line.rfind("phase=beta;", 0), 0u) << line;
      beta = true;
    }
  }
  EXPECT_TRUE(alpha) << *folded;
  EXPECT_TRUE(beta) << *folded;
}

TEST_F(RealGoProfileTest, RendersWellFormedSvg) {
  absl::StatusOr<perftools::profiles::Profile> p = DecodeProfile(bytes_);
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<std::string> svg =
      RenderFlameGraphSvg(*p, {.group_by_label = "phase"});
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_TRUE(testing::IsWellFormedXml(*svg));
  const auto rects = testing::FrameRects(*svg);
  EXPECT_EQ(rects.count("phase=alpha"), 1u);
  EXPECT_EQ(rects.count("phase=beta"), 1u);
  EXPECT_GE(rects.count("main.burnAlpha"), 1u);
}

}  // namespace
}  // namespace gspy
