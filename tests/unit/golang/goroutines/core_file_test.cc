// CoreFileMemory on crafted cores: what the core fuzz target
// (tests/fuzz/core_fuzz.cc) found or was pointed at.
#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "golang/goroutines/memory_source.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

std::string CoreHeader(uint16_t phnum) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_CORE;
  eh.e_phoff = sizeof(eh);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = phnum;
  return std::string(reinterpret_cast<char*>(&eh), sizeof(eh));
}

std::string Phdr(uint32_t type, uint64_t offset, uint64_t vaddr,
                 uint64_t filesz) {
  Elf64_Phdr ph{};
  ph.p_type = type;
  ph.p_offset = offset;
  ph.p_vaddr = vaddr;
  ph.p_filesz = ph.p_memsz = filesz;
  return std::string(reinterpret_cast<char*>(&ph), sizeof(ph));
}

// An NT_FILE note naming one file mapped at `start`.
std::string FileNote(uint64_t start, const std::string& name) {
  std::string desc;
  for (uint64_t v :
       {uint64_t{1}, uint64_t{4096}, start, start + 4096, uint64_t{0}}) {
    desc.append(reinterpret_cast<const char*>(&v), 8);
  }
  desc.append(name).push_back('\0');
  while (desc.size() % 4 != 0) desc.push_back('\0');
  const uint32_t hdr[3] = {5, static_cast<uint32_t>(desc.size()), 0x46494c45};
  std::string note(reinterpret_cast<const char*>(hdr), 12);
  note.append("CORE\0\0\0\0", 8);
  return note + desc;
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// Every PT_NOTE header of a crafted core points at the same 4 MB of notes.
// Walking them all took 65534 x 350k note headers: `gspy goroutines --core`
// sat on it for many minutes. A note byte is walked once now; the NT_FILE
// entries are not repeated either.
TEST(CoreFile, OverlappingNoteSegmentsAreWalkedOnce) {
  constexpr uint16_t kNoteHeaders = 65534;
  const uint64_t notes_at =
      sizeof(Elf64_Ehdr) + (kNoteHeaders + 1) * sizeof(Elf64_Phdr);
  std::string notes = FileNote(0x400000, "/app/server");
  notes.resize(4 << 20, '\0');  // then empty notes, 12 bytes each
  std::string core = CoreHeader(kNoteHeaders + 1);
  for (int i = 0; i < kNoteHeaders; ++i) {
    core += Phdr(PT_NOTE, notes_at, 0, notes.size());
  }
  core += Phdr(PT_LOAD, notes_at + notes.size(), 0xc000000000, 16);
  core += notes + std::string(16, '\x07');
  const std::string path = WriteTemp("core.overlapping_notes", core);

  absl::StatusOr<std::unique_ptr<CoreFileMemory>> c =
      CoreFileMemory::Open(path);
  unlink(path.c_str());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ((*c)->mapped_files().size(), 1u);
  EXPECT_EQ((*c)->mapped_files()[0].first, "/app/server");
  ASSERT_EQ((*c)->warnings().size(), 1u);
  EXPECT_NE((*c)->warnings()[0].find("overlap"), std::string::npos)
      << (*c)->warnings()[0];
  EXPECT_EQ((*c)->ReadAt(0xc000000000, 2).value(), "\x07\x07");
}

// 65000 one-byte segments, and reads across all of them: each byte's
// segment was looked for linearly, 2e9 steps per 64 KiB read (a goroutine
// stack's bulk read), so a dump of such a core took hours (a 3.7 MB core
// was over 60 s per input in tests/fuzz/core_fuzz).
TEST(CoreFile, ManyTinySegmentsReadFast) {
  constexpr int kSegments = 65000;
  constexpr uint64_t kBase = 0xc000000000;
  const uint64_t data_at =
      sizeof(Elf64_Ehdr) + uint64_t{kSegments} * sizeof(Elf64_Phdr);
  std::string core = CoreHeader(kSegments);
  std::string data;
  for (int i = 0; i < kSegments; ++i) {
    core += Phdr(PT_LOAD, data_at + i, kBase + i, 1);
    data.push_back(static_cast<char>(i * 7));
  }
  const std::string path = WriteTemp("core.tiny_segments", core + data);
  absl::StatusOr<std::unique_ptr<CoreFileMemory>> c =
      CoreFileMemory::Open(path);
  unlink(path.c_str());
  ASSERT_TRUE(c.ok()) << c.status();

  const absl::Time start = absl::Now();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ((*c)->ReadAt(kBase, kSegments).value(), data);
  }
  EXPECT_EQ((*c)->ReadAt(kBase + kSegments - 1, 2).status().code(),
            absl::StatusCode::kOutOfRange);
  // Linear, 20 x 2e9 steps took minutes; sorted, it is milliseconds.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// Overlapping segments (a crafted core): the one that starts lower wins
// where they overlap, the other serves the rest.
TEST(CoreFile, OverlappingSegments) {
  const uint64_t data_at = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
  std::string core = CoreHeader(2);
  core += Phdr(PT_LOAD, data_at + 0x100, 0x1080, 0x180);  // 'b'
  core += Phdr(PT_LOAD, data_at, 0x1000, 0x100);          // 'a'
  core += std::string(0x100, 'a') + std::string(0x180, 'b');
  const std::string path = WriteTemp("core.overlapping_segments", core);
  absl::StatusOr<std::unique_ptr<CoreFileMemory>> c =
      CoreFileMemory::Open(path);
  unlink(path.c_str());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->ReadAt(0x10f0, 0x20).value(),
            std::string(0x10, 'a') + std::string(0x10, 'b'));
  EXPECT_EQ((*c)->ReadAt(0x11f8, 8).value(), std::string(8, 'b'));
  EXPECT_FALSE((*c)->ReadAt(0x11f8, 16).ok());
}

}  // namespace
}  // namespace gspy
