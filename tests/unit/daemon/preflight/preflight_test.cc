// The start-up checks name every missing privilege or kernel feature.
#include "daemon/preflight/preflight.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(PreflightTest, NamesEveryMissingPiece) {
  PreflightReport none = CheckPreflight(0, false, false);
  ASSERT_EQ(none.missing.size(), 4u);
  EXPECT_NE(none.ToStatus().message().find("CAP_BPF"), std::string::npos);
  EXPECT_NE(none.ToStatus().message().find("/sys/kernel/btf/vmlinux"),
            std::string::npos);
  EXPECT_EQ(none.warnings.size(), 1u);

  const uint64_t bpf_perfmon_ptrace =
      (1ull << 39) | (1ull << 38) | (1ull << 19);
  PreflightReport ok = CheckPreflight(bpf_perfmon_ptrace, true, true);
  EXPECT_TRUE(ok.missing.empty());
  EXPECT_TRUE(ok.ToStatus().ok());
  // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, not for ptrace.
  PreflightReport admin = CheckPreflight(1ull << 21, true, true);
  ASSERT_EQ(admin.missing.size(), 1u);
  EXPECT_NE(admin.missing[0].find("CAP_SYS_PTRACE"), std::string::npos);
}

}  // namespace
}  // namespace gspy
