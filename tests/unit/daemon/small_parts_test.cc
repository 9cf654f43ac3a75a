// Tests of the daemon's and CLI's small parsers and checks.
#include "cli/command_line.h"
#include "daemon/aggregator/kernel_symbols.h"
#include "daemon/preflight/preflight.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(KernelSymbolsTest, LooksUpTheEnclosingFunction) {
  KernelSymbols k = KernelSymbols::Parse(
      "ffffffff81000000 T _stext\n"
      "ffffffff81001000 t do_syscall_64\n"
      "ffffffff81002000 D some_data\n"
      "ffffffff81003000 T vfs_read\t[ext4]\n"
      "0000000000000000 T hidden\n");
  EXPECT_EQ(k.size(), 3u);
  EXPECT_EQ(k.Lookup(0xffffffff81001234), "do_syscall_64");
  EXPECT_EQ(k.Lookup(0xffffffff81003001), "vfs_read");
  EXPECT_EQ(k.Lookup(0x1000), "");
}

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

TEST(CommandLineTest, RepeatedFlagsPositionalsAndBooleans) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      {"--server=h:1", "profile", "cpu", "--pid=1", "--pid", "2",
       "--goroutine-ids", "-o", "x.svg", "--duration=-1s"},
      {"goroutine-ids"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->positional, (std::vector<std::string>{"profile", "cpu"}));
  EXPECT_EQ(cl->GetAll("pid"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(cl->Has("goroutine-ids"));
  EXPECT_EQ(cl->Get("o"), "x.svg");
  EXPECT_EQ(cl->Get("server"), "h:1");
  EXPECT_EQ(cl->Get("duration"), "-1s");
  EXPECT_FALSE(ParseCommandLine({"--pid"}, {}).ok());
  EXPECT_FALSE(ParseCommandLine({"-o"}, {}).ok());
}

}  // namespace
}  // namespace gspy
