// Binaries as a tenant can shape them: truncated on disk after gspy opened
// them (which killed gspyd with SIGBUS while binaries were mmap'd), and
// DWARF that inflates past the cap.
#include <elf.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "golang/binary/dwarf_layout.h"
#include "golang/binary/file_image.h"
#include "golang/binary/go_binary.h"
#include "gtest/gtest.h"
#include "tests/unit/golang/binary/fixture_builder.h"

namespace gspy {
namespace {

using ::gspy::testing::GetFixtures;
using ::gspy::testing::ReadFileOrDie;

std::string TempPath(const char* name) {
  return ::testing::TempDir() + "/" + name + std::to_string(getpid());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Symbolizes every function's entry: reads the pclntab end to end.
size_t SymbolizeAll(const GoBinary& bin) {
  size_t named = 0;
  std::vector<Frame> frames;
  for (size_t i = 0; i < bin.function_count(); ++i) {
    auto f = bin.FunctionAt(i);
    if (!f) continue;
    frames.clear();
    if (bin.Symbolize(f->entry, &frames) && !frames.back().function.empty()) {
      ++named;
    }
  }
  return named;
}

TEST(HostileFileTest, TruncatedAfterOpenNeverCrashes) {
  const auto& fx = GetFixtures();
  ASSERT_TRUE(fx.ok()) << fx.status();
  const std::string bytes = ReadFileOrDie(fx->Find("default")->path);
  const std::string path = TempPath("truncated");
  for (off_t cut :
       {off_t{0}, off_t{4096}, static_cast<off_t>(bytes.size() / 2)}) {
    WriteFile(path, bytes);
    auto bin = GoBinary::Open(path);
    ASSERT_TRUE(bin.ok()) << bin.status();
    ASSERT_EQ(truncate(path.c_str(), cut), 0);
    // What Open read stays: every function still symbolizes.
    EXPECT_EQ(SymbolizeAll(**bin), (*bin)->function_count()) << "cut " << cut;
    ASSERT_TRUE((*bin)->FindFunctionByName("main.main").has_value());
    // What is read later (symbols, DWARF) fails cleanly.
    (void)(*bin)->SymbolAddress("runtime.allgs");
    (void)(*bin)->books_layout();
  }
  std::remove(path.c_str());
}

TEST(HostileFileTest, ReadsLessThanTheFile) {
  const auto& fx = GetFixtures();
  ASSERT_TRUE(fx.ok()) << fx.status();
  const std::string& path = fx->Find("default")->path;
  const size_t size = ReadFileOrDie(path).size();
  auto bin = GoBinary::Open(path);
  ASSERT_TRUE(bin.ok()) << bin.status();
  SymbolizeAll(**bin);
  ASSERT_TRUE((*bin)->SymbolAddress("runtime.allgs").has_value());
  // The DWARF and symbol tables are streamed, never kept.
  const size_t used = (*bin)->memory_bytes();
  EXPECT_LT(used, size / 2) << "a binary of " << size << " bytes held " << used;
  RecordProperty("file_bytes", std::to_string(size));
  RecordProperty("memory_bytes", std::to_string(used));
}

TEST(HostileFileTest, FileImageEnsureFailsOnceTruncated) {
  const std::string path = TempPath("image");
  WriteFile(path, std::string(3 * 4096, 'x'));
  auto image = gobinary_internal::FileImage::Open(path);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_TRUE((*image)->Ensure(0, 10));
  EXPECT_EQ((*image)->bytes()[5], 'x');
  ASSERT_EQ(truncate(path.c_str(), 4096), 0);
  EXPECT_TRUE((*image)->Ensure(0, 4096));  // read before the cut
  EXPECT_FALSE((*image)->Ensure(8192, 100));
  char buf[16];
  EXPECT_FALSE((*image)->Read(8192, sizeof(buf), buf));
  EXPECT_FALSE((*image)->Ensure(3 * 4096, 1));  // past the size at open
  std::remove(path.c_str());
}

TEST(HostileFileTest, ClosedImageRereadsOnlyTheSameFile) {
  const std::string path = TempPath("closed");
  WriteFile(path, std::string(3 * 4096, 'y'));
  auto image = gobinary_internal::FileImage::Open(path);
  ASSERT_TRUE(image.ok()) << image.status();
  (*image)->CloseFile();
  char buf[4];
  EXPECT_TRUE((*image)->Read(4096, sizeof(buf), buf));  // reopened
  EXPECT_EQ(buf[0], 'y');
  EXPECT_TRUE((*image)->Ensure(8192, 10));
  // Replaced by another file at the same path: not read.
  std::remove(path.c_str());
  WriteFile(path, std::string(3 * 4096, 'z'));
  EXPECT_FALSE((*image)->Read(4096, sizeof(buf), buf));
  EXPECT_FALSE((*image)->Ensure(0, 10));
  EXPECT_EQ((*image)->bytes()[8192], 'y');  // what was read stays
  std::remove(path.c_str());
}

// The default fixture with its .debug_info replaced by a zlib stream that
// inflates to `inflated` bytes (a random block repeated: about 80:1, far
// within zlib's ratio).
std::string WithDwarfBomb(std::string b, uint64_t inflated) {
  std::string block(16 << 10, '\0');
  uint32_t x = 1;
  for (char& c : block)
    c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  z_stream z{};
  EXPECT_EQ(deflateInit(&z, Z_BEST_SPEED), Z_OK);
  std::string comp;
  std::vector<char> out(1 << 20);
  for (uint64_t n = 0; n < inflated; n += block.size()) {
    const bool last = n + block.size() >= inflated;
    z.next_in = reinterpret_cast<Bytef*>(block.data());
    z.avail_in = block.size();
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = out.size();
      deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      comp.append(out.data(), out.size() - z.avail_out);
    } while (z.avail_out == 0 || (last && z.avail_in != 0));
  }
  deflateEnd(&z);
  while (b.size() % 8 != 0) b.push_back('\0');
  const uint64_t off = b.size();
  Elf64_Chdr chdr{ELFCOMPRESS_ZLIB, 0, inflated, 1};
  b.append(reinterpret_cast<const char*>(&chdr), sizeof(chdr));
  b += comp;
  Elf64_Ehdr eh;
  std::memcpy(&eh, b.data(), sizeof(eh));
  Elf64_Shdr str;
  std::memcpy(&str, b.data() + eh.e_shoff + eh.e_shstrndx * eh.e_shentsize,
              sizeof(str));
  for (int i = 0; i < eh.e_shnum; ++i) {
    const size_t at = eh.e_shoff + i * eh.e_shentsize;
    Elf64_Shdr sh;
    std::memcpy(&sh, b.data() + at, sizeof(sh));
    if (std::strcmp(b.data() + str.sh_offset + sh.sh_name, ".debug_info") !=
        0) {
      continue;
    }
    sh.sh_flags |= SHF_COMPRESSED;
    sh.sh_offset = off;
    sh.sh_size = sizeof(chdr) + comp.size();
    std::memcpy(b.data() + at, &sh, sizeof(sh));
  }
  return b;
}

TEST(HostileFileTest, DwarfBombFallsBackToTheTable) {
  const auto& fx = GetFixtures();
  ASSERT_TRUE(fx.ok()) << fx.status();
  const std::string bytes = ReadFileOrDie(fx->Find("default")->path);
  auto plain = GoBinary::FromBytes(bytes);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE((*plain)->runtime_layout().ok());
  ASSERT_EQ((*plain)->runtime_layout()->source, LayoutSource::kDwarf);

  const std::string bomb =
      WithDwarfBomb(bytes, kMaxDecompressedDwarfBytes + (1 << 20));
  auto structs = StructsFromDwarf(bomb, {"runtime.g"});
  ASSERT_FALSE(structs.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(structs.status())) << structs.status();
  EXPECT_NE(structs.status().message().find("MiB"), std::string::npos);
  auto bin = GoBinary::FromBytes(bomb);
  ASSERT_TRUE(bin.ok()) << bin.status();
  ASSERT_TRUE((*bin)->runtime_layout().ok())
      << (*bin)->runtime_layout().status();
  EXPECT_EQ((*bin)->runtime_layout()->source, LayoutSource::kTable);
  // The table agrees with the DWARF the bomb replaced.
  EXPECT_EQ((*bin)->runtime_layout()->g_goid,
            (*plain)->runtime_layout()->g_goid);
  EXPECT_EQ((*bin)->runtime_layout()->m_curg,
            (*plain)->runtime_layout()->m_curg);

  // Under the cap, the same stream is inflated (and is no DWARF).
  auto small = StructsFromDwarf(WithDwarfBomb(bytes, 8 << 20), {"runtime.g"});
  EXPECT_FALSE(absl::IsResourceExhausted(small.status())) << small.status();
}

}  // namespace
}  // namespace gspy
