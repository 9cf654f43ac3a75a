#include "golang/process/proc_maps.h"

#include <unistd.h>

#include "gtest/gtest.h"

namespace gspy {
namespace {

constexpr char kMaps[] =
    "00400000-00401000 r--p 00000000 08:01 1234 /app/server\n"
    "00401000-004a0000 r-xp 00001000 08:01 1234 /app/server\n"
    "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
    "7f1000000000-7f1000001000 r-xp 00000000 08:01 99 /lib/with space.so\n"
    "garbage line\n";

TEST(ProcMapsTest, ParsesFieldsAndPathsWithSpaces) {
  std::vector<MemoryMapping> m = ParseProcMaps(kMaps);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1].start, 0x401000u);
  EXPECT_EQ(m[1].offset, 0x1000u);
  EXPECT_TRUE(m[1].executable);
  EXPECT_FALSE(m[0].executable);
  EXPECT_EQ(m[1].inode, 1234u);
  EXPECT_EQ(m[1].path, "/app/server");
  EXPECT_EQ(m[2].path, "");
  EXPECT_EQ(m[3].path, "/lib/with space.so");
}

TEST(ProcMapsTest, FindMapping) {
  std::vector<MemoryMapping> m = ParseProcMaps(kMaps);
  ASSERT_NE(FindMapping(m, 0x401234), nullptr);
  EXPECT_EQ(FindMapping(m, 0x401234)->start, 0x401000u);
  EXPECT_EQ(FindMapping(m, 0x3fffff), nullptr);
  EXPECT_EQ(FindMapping(m, 0x4a0000), nullptr);  // end is exclusive
}

TEST(ProcMapsTest, LoadBiasIsZeroForAnExecutableAtItsLinkAddress) {
  std::vector<MemoryMapping> m = ParseProcMaps(kMaps);
  std::vector<LoadSegment> segs = {
      {.vaddr = 0x400000, .offset = 0, .filesz = 0x1000, .memsz = 0x1000},
      {.vaddr = 0x401000,
       .offset = 0x1000,
       .filesz = 0x9f000,
       .memsz = 0x9f000,
       .executable = true}};
  EXPECT_EQ(ComputeLoadBias(m, 1234, segs), 0u);
  EXPECT_EQ(ComputeLoadBias(m, 555, segs), std::nullopt);
}

TEST(ProcMapsTest, LoadBiasOfAPieWithUnalignedSegments) {
  // A PIE linked at 0 and loaded at 0x555555554000; its text segment starts
  // mid-page in the file, as linkers lay them out.
  std::vector<MemoryMapping> m = ParseProcMaps(
      "555555555000-555555600000 r-xp 00001000 08:01 77 /app/pie\n");
  std::vector<LoadSegment> segs = {{.vaddr = 0x1240,
                                    .offset = 0x1240,
                                    .filesz = 0xa0000,
                                    .memsz = 0xa0000,
                                    .executable = true}};
  EXPECT_EQ(ComputeLoadBias(m, 77, segs), 0x555555554000u);
}

TEST(ProcMapsTest, ReadsOwnMapsAndReportsGoneProcesses) {
  absl::StatusOr<std::vector<MemoryMapping>> own = ReadProcMaps(getpid());
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->empty());
  EXPECT_TRUE(absl::IsNotFound(ReadProcMaps(0x7ffffff0).status()));
}

}  // namespace
}  // namespace gspy
