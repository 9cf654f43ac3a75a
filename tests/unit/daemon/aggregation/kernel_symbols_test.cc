// KernelSymbols: /proc/kallsyms parsed, addresses to the enclosing function.
#include "daemon/aggregation/kernel_symbols.h"
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

}  // namespace
}  // namespace gspy
