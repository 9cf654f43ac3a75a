// Hostile and unusual inputs: every one must yield an error or a usable
// GoBinary, never a crash, hang or huge allocation (run under ASan too).
#include <elf.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "golang/binary/go_binary.h"
#include "gtest/gtest.h"
#include "tests/unit/golang/binary/fixture_builder.h"

namespace gspy {
namespace {

using ::gspy::testing::GetFixtures;
using ::gspy::testing::ReadFileOrDie;

std::string DefaultBytes() {
  const auto& fx = GetFixtures();
  if (!fx.ok()) return "";
  return ReadFileOrDie(fx->Find("default")->path);
}

// Exercises a successfully opened binary the way the daemon would.
void Poke(const GoBinary& bin) {
  (void)bin.runtime_layout();
  std::vector<Frame> frames;
  const size_t n = bin.function_count();
  for (size_t i = 0; i < n; i += 1 + n / 64) {
    auto f = bin.FunctionAt(i);
    if (!f) continue;
    for (uint64_t pc = f->entry; pc < f->end && pc < f->entry + 64; pc += 7) {
      frames.clear();
      bin.Symbolize(pc, &frames);
      for (const Frame& fr : frames) {
        // Touch the bytes so ASan sees out-of-range views.
        volatile size_t sink = fr.function.size() + fr.file.size();
        if (!fr.function.empty()) sink = sink + fr.function.back();
        if (!fr.file.empty()) sink = sink + fr.file.back();
        (void)sink;
      }
      bin.SpDelta(pc);
    }
  }
  bin.FindFunctionByName("main.main");
}

std::pair<uint64_t, uint64_t> SectionRange(const std::string& b,
                                           const char* name) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, b.data(), sizeof(eh));
  Elf64_Shdr str;
  std::memcpy(&str, b.data() + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr),
              sizeof(str));
  for (int i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, b.data() + eh.e_shoff + i * sizeof(Elf64_Shdr),
                sizeof(sh));
    if (std::strcmp(b.data() + str.sh_offset + sh.sh_name, name) == 0) {
      return {sh.sh_offset, sh.sh_size};
    }
  }
  return {0, 0};
}

TEST(CorruptInputTest, EmptyAndNonElf) {
  auto empty = GoBinary::FromBytes("");
  EXPECT_FALSE(empty.ok());
  auto text = GoBinary::FromBytes("hello, this is not an ELF file at all");
  EXPECT_FALSE(text.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(text.status())) << text.status();
  auto header_only =
      GoBinary::FromBytes(std::string("\x7f"
                                      "ELF\x02\x01\x01",
                                      7));
  EXPECT_FALSE(header_only.ok());
}

TEST(CorruptInputTest, MissingFile) {
  auto bin = GoBinary::Open("/nonexistent/gspy/binary");
  EXPECT_TRUE(absl::IsNotFound(bin.status())) << bin.status();
}

TEST(CorruptInputTest, NonGoElf) {
  auto bin = GoBinary::Open("/bin/true");
  ASSERT_FALSE(bin.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(bin.status())) << bin.status();
  EXPECT_NE(bin.status().message().find("not a Go binary"), std::string::npos);
}

TEST(CorruptInputTest, Truncated) {
  const std::string bytes = DefaultBytes();
  ASSERT_FALSE(bytes.empty()) << "fixtures did not build";
  std::vector<size_t> lengths = {1, 4, 16, 63, 64, 65, 120, 4096};
  for (size_t i = 1; i < 200; ++i) lengths.push_back(bytes.size() * i / 200);
  auto [pcln_off, pcln_size] = SectionRange(bytes, ".gopclntab");
  for (size_t d : {0, 8, 40, 72, 100, 1000}) lengths.push_back(pcln_off + d);
  lengths.push_back(pcln_off + pcln_size - 1);
  for (size_t len : lengths) {
    auto bin = GoBinary::FromBytes(bytes.substr(0, len));
    if (bin.ok()) Poke(**bin);
  }
}

TEST(CorruptInputTest, RandomByteFlips) {
  const std::string bytes = DefaultBytes();
  ASSERT_FALSE(bytes.empty()) << "fixtures did not build";
  auto [pcln_off, pcln_size] = SectionRange(bytes, ".gopclntab");
  auto [bi_off, bi_size] = SectionRange(bytes, ".go.buildinfo");
  auto [md_off, md_size] = SectionRange(bytes, ".go.module");
  auto [di_off, di_size] = SectionRange(bytes, ".debug_info");
  auto [da_off, da_size] = SectionRange(bytes, ".debug_abbrev");
  ASSERT_GT(di_size, 24u);
  ASSERT_GT(da_size, 24u);
  ASSERT_GT(pcln_size, 0u);
  std::mt19937_64 rng(20261122);
  int ok = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::string b = bytes;
    const int flips = 1 + rng() % 16;
    for (int k = 0; k < flips; ++k) {
      // Aim most flips at the structures we parse; random file offsets would
      // mostly land in machine code.
      uint64_t off;
      switch (rng() % 9) {
        case 0:
          off = rng() % b.size();
          break;
        case 1:
          off = rng() % 4096;
          break;  // ELF + program/section headers
        case 2:
          off = pcln_off + rng() % 80;
          break;  // pcHeader
        case 3:
          off = pcln_off + rng() % pcln_size;
          break;
        case 4:
          off = bi_off + rng() % (bi_size ? bi_size : 1);
          break;
        default:
          off = md_off + rng() % (md_size ? md_size : 1);
          break;
      }
      b[off] = static_cast<char>(rng());
    }
    auto bin = GoBinary::FromBytes(std::move(b));
    if (bin.ok()) {
      ++ok;
      Poke(**bin);
    }
  }
  // Sanity: the harness is not rejecting everything.
  EXPECT_GT(ok, 0);
}

TEST(CorruptInputTest, OldPclntabMagicIsUnimplemented) {
  std::string b = DefaultBytes();
  ASSERT_FALSE(b.empty());
  auto [pcln_off, pcln_size] = SectionRange(b, ".gopclntab");
  const uint32_t magic = 0xfffffffa;
  std::memcpy(&b[pcln_off], &magic, 4);
  auto bin = GoBinary::FromBytes(b);
  ASSERT_FALSE(bin.ok());
  EXPECT_TRUE(absl::IsUnimplemented(bin.status())) << bin.status();
  EXPECT_NE(bin.status().message().find("0xfffffffa"), std::string::npos);
}

// Without section headers every lookup falls back to scanning segments:
// buildinfo, pclntab and moduledata must still be found and agree.
TEST(CorruptInputTest, NoSectionHeaders) {
  const std::string bytes = DefaultBytes();
  ASSERT_FALSE(bytes.empty());
  std::string b = bytes;
  Elf64_Ehdr eh;
  std::memcpy(&eh, b.data(), sizeof(eh));
  eh.e_shoff = 0;
  eh.e_shnum = 0;
  eh.e_shstrndx = 0;
  std::memcpy(b.data(), &eh, sizeof(eh));
  auto orig = GoBinary::FromBytes(bytes);
  auto bin = GoBinary::FromBytes(b);
  ASSERT_TRUE(orig.ok()) << orig.status();
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_EQ((*bin)->build_info().go_version, (*orig)->build_info().go_version);
  EXPECT_EQ((*bin)->build_info().module_path,
            (*orig)->build_info().module_path);
  ASSERT_EQ((*bin)->function_count(), (*orig)->function_count());
  // No DWARF reachable: the layout must come from the table.
  ASSERT_TRUE((*bin)->runtime_layout().ok())
      << (*bin)->runtime_layout().status();
  EXPECT_EQ((*bin)->runtime_layout()->source, LayoutSource::kTable);
  for (size_t i = 0; i < (*orig)->function_count(); i += 7) {
    auto f = (*orig)->FunctionAt(i);
    ASSERT_TRUE(f.has_value());
    for (uint64_t pc = f->entry; pc < f->end; pc += 5) {
      std::vector<Frame> a, c;
      ASSERT_TRUE((*orig)->Symbolize(pc, &a));
      ASSERT_TRUE((*bin)->Symbolize(pc, &c));
      ASSERT_EQ(a.size(), c.size());
      for (size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a[k].function, c[k].function);
        EXPECT_EQ(a[k].line, c[k].line);
      }
    }
  }
}

TEST(CorruptInputTest, UnknownVersionWithoutDwarfIsAnError) {
  // Rewrite the inline version string of a stripped build to an unreleased
  // version of the same length.
  const auto& fx = GetFixtures();
  ASSERT_TRUE(fx.ok()) << fx.status();
  std::string b = ReadFileOrDie(fx->Find("stripped_sw")->path);
  const std::string from = fx->go_version;
  std::string to = "go1.99";
  to.resize(from.size(), '.');
  to.replace(to.size() - 1, 1, "0");
  size_t pos = b.find(from);
  ASSERT_NE(pos, std::string::npos);
  // The buildinfo copy is the one right after the magic's 32-byte header.
  size_t magic = b.find(std::string("\xff Go buildinf:", 14));
  ASSERT_NE(magic, std::string::npos);
  pos = b.find(from, magic);
  b.replace(pos, from.size(), to);
  auto bin = GoBinary::FromBytes(b);
  ASSERT_TRUE(bin.ok()) << bin.status();
  const auto& layout = (*bin)->runtime_layout();
  ASSERT_FALSE(layout.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(layout.status()));
  EXPECT_NE(layout.status().message().find(
                to + ": no DWARF and no built-in runtime layout"),
            std::string::npos)
      << layout.status();
}

}  // namespace
}  // namespace gspy

namespace gspy {
namespace {

// Externally linked PIEs may leave pointer fields 0 in the file and keep the
// link-time value only in the R_X86_64_RELATIVE addend (otel#1146). GNU ld
// fills them in here, so simulate the other linkers by zeroing every
// relocated word of moduledata, with and without section headers (the
// latter finds relocations through PT_DYNAMIC and moduledata by addend).
TEST(CorruptInputTest, PiePointersOnlyInRelocations) {
  const auto& fx = GetFixtures();
  ASSERT_TRUE(fx.ok()) << fx.status();
  const std::string orig_bytes = ReadFileOrDie(fx->Find("cgo_pie")->path);
  std::string b = orig_bytes;
  auto [md_off, md_size] = SectionRange(b, ".go.module");
  auto [rela_off, rela_size] = SectionRange(b, ".rela.dyn");
  ASSERT_GT(md_size, 0u);
  ASSERT_GT(rela_size, 0u);
  // Section address of .go.module: its file offset and vaddr differ.
  Elf64_Ehdr eh;
  std::memcpy(&eh, b.data(), sizeof(eh));
  uint64_t md_addr = 0;
  for (int i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, b.data() + eh.e_shoff + i * sizeof(Elf64_Shdr),
                sizeof(sh));
    if (sh.sh_offset == md_off && sh.sh_size == md_size) md_addr = sh.sh_addr;
  }
  ASSERT_NE(md_addr, 0u);
  int zeroed = 0;
  for (uint64_t o = 0; o + sizeof(Elf64_Rela) <= rela_size;
       o += sizeof(Elf64_Rela)) {
    Elf64_Rela r;
    std::memcpy(&r, b.data() + rela_off + o, sizeof(r));
    if (ELF64_R_TYPE(r.r_info) != R_X86_64_RELATIVE) continue;
    if (r.r_offset < md_addr || r.r_offset + 8 > md_addr + md_size) continue;
    std::memset(&b[md_off + (r.r_offset - md_addr)], 0, 8);
    ++zeroed;
  }
  ASSERT_GT(zeroed, 10);
  std::string no_shdr = b;
  eh.e_shoff = 0;
  eh.e_shnum = 0;
  eh.e_shstrndx = 0;
  std::memcpy(no_shdr.data(), &eh, sizeof(eh));

  auto orig = GoBinary::FromBytes(orig_bytes);
  ASSERT_TRUE(orig.ok()) << orig.status();
  for (std::string* bytes : {&b, &no_shdr}) {
    auto bin = GoBinary::FromBytes(*bytes);
    ASSERT_TRUE(bin.ok()) << bin.status();
    ASSERT_EQ((*bin)->function_count(), (*orig)->function_count());
    int inlined = 0;
    for (size_t i = 0; i < (*orig)->function_count(); i += 3) {
      auto f = (*orig)->FunctionAt(i);
      ASSERT_TRUE(f.has_value());
      for (uint64_t pc = f->entry; pc < f->end; pc += 3) {
        std::vector<Frame> want, got;
        ASSERT_TRUE((*orig)->Symbolize(pc, &want));
        ASSERT_TRUE((*bin)->Symbolize(pc, &got));
        ASSERT_EQ(want.size(), got.size());
        inlined += want.size() - 1;
        for (size_t k = 0; k < want.size(); ++k) {
          EXPECT_EQ(want[k].function, got[k].function);
          EXPECT_EQ(want[k].file, got[k].file);
          EXPECT_EQ(want[k].line, got[k].line);
        }
      }
    }
    // Inline trees need moduledata.gofunc, which only a relocation holds.
    EXPECT_GT(inlined, 100);
  }
}

}  // namespace
}  // namespace gspy
