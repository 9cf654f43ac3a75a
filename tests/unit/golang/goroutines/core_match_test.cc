// The core/executable match check on two real Go executables, the
// toolchain's own `go` and `gofmt` (same Go version, different programs),
// against synthetic core memory built from their link-time contents.
#include "golang/goroutines/core_match.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

// Regions of bytes; reads must fall inside one.
class RegionMemory : public MemorySource {
 public:
  void Put(uint64_t addr, std::string bytes) { regions_[addr] = bytes; }
  void PutWords(uint64_t addr, const std::vector<uint64_t>& words) {
    std::string b(words.size() * 8, '\0');
    std::memcpy(b.data(), words.data(), b.size());
    Put(addr, b);
  }
  absl::Status Read(uint64_t addr, absl::Span<char> out) const override {
    auto it = regions_.upper_bound(addr);
    if (it != regions_.begin()) {
      --it;
      const uint64_t rel = addr - it->first;
      if (rel <= it->second.size() && it->second.size() - rel >= out.size()) {
        std::memcpy(out.data(), it->second.data() + rel, out.size());
        return absl::OkStatus();
      }
    }
    return absl::OutOfRangeError(absl::StrCat("no memory at ", addr));
  }
  std::string Describe() const override { return "regions"; }

 private:
  std::map<uint64_t, std::string> regions_;
};

// The installed toolchain's bin directory: where `go` is (the tests need
// Go anyway; they fail, not skip, without it).
std::string GoBinDir() {
  std::string path;
  if (FILE* p = popen("command -v go || ls /usr/local/go/bin/go", "r")) {
    char buf[4096];
    if (fgets(buf, sizeof(buf), p) != nullptr) path = buf;
    pclose(p);
  }
  path = std::string(absl::StripTrailingAsciiWhitespace(path));
  char real[4096];
  if (path.empty() || realpath(path.c_str(), real) == nullptr) return "";
  std::string dir(real);
  return dir.substr(0, dir.rfind('/'));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CoreMatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = GoBinDir();
    ASSERT_FALSE(dir.empty()) << "the go command was not found";
    go_bytes_ = ReadFile(dir + "/go");
    gofmt_bytes_ = ReadFile(dir + "/gofmt");
    ASSERT_GT(go_bytes_.size(), 1u << 20) << dir << "/go";
    ASSERT_GT(gofmt_bytes_.size(), 1u << 20) << dir << "/gofmt";
    absl::StatusOr<ExecutableIdentity> go = ReadExecutableIdentity(go_bytes_);
    absl::StatusOr<ExecutableIdentity> gofmt =
        ReadExecutableIdentity(gofmt_bytes_);
    ASSERT_TRUE(go.ok()) << go.status();
    ASSERT_TRUE(gofmt.ok()) << gofmt.status();
    go_ = *go;
    gofmt_ = *gofmt;
  }

  // A core of a process running `id` at `bias`: its moduledata, and its
  // notes' page when `with_notes`.
  static RegionMemory CoreOf(const ExecutableIdentity& id, uint64_t bias,
                             bool with_notes) {
    RegionMemory m;
    std::vector<uint64_t> words = id.moduledata_words;
    for (size_t i : {0, 1, 4, 7, 10, 13, 16, 19, 20, 21, 22, 23}) {
      words[i] += bias;  // the pointers
    }
    m.PutWords(id.moduledata_vaddr + bias, words);
    if (with_notes) {
      for (const auto& n : id.notes) m.Put(n.vaddr + bias, n.bytes);
    }
    return m;
  }

  std::string go_bytes_, gofmt_bytes_;
  ExecutableIdentity go_, gofmt_;
};

using Verdict = CoreMatch::Verdict;

TEST_F(CoreMatchTest, ReadsNotesAndModuledata) {
  ASSERT_FALSE(go_.notes.empty());
  EXPECT_EQ(go_.notes[0].section, ".note.go.buildid");
  // Go's build id is "actionID/contentID" (two or more parts).
  EXPECT_NE(go_.notes[0].id.find('/'), std::string::npos) << go_.notes[0].id;
  EXPECT_NE(go_.notes[0].id, gofmt_.notes[0].id);
  EXPECT_NE(go_.moduledata_vaddr, 0u);
  ASSERT_EQ(go_.moduledata_words.size(), 24u);
  EXPECT_GT(go_.moduledata_words[2], 1000u);  // funcnametab len
  EXPECT_EQ(go_.moduledata_words[2], go_.moduledata_words[3]);  // len == cap
}

TEST_F(CoreMatchTest, SameExecutableMatchesByNoteOrModuledata) {
  CoreMatch m = MatchCoreToExecutable(CoreOf(go_, 0, true), go_, 0, false);
  EXPECT_EQ(m.verdict, Verdict::kSame) << m.evidence;
  EXPECT_NE(m.evidence.find(".note.go.buildid"), std::string::npos);
  // gcore may leave the notes' page out: moduledata alone decides.
  m = MatchCoreToExecutable(CoreOf(go_, 0, false), go_, 0, false);
  EXPECT_EQ(m.verdict, Verdict::kSame) << m.evidence;
  EXPECT_NE(m.evidence.find("firstmoduledata"), std::string::npos);
  // A PIE: pointers moved by the load bias, lengths not.
  const uint64_t bias = 0x555555554000;
  m = MatchCoreToExecutable(CoreOf(go_, bias, false), go_, bias, false);
  EXPECT_EQ(m.verdict, Verdict::kSame) << m.evidence;
  m = MatchCoreToExecutable(CoreOf(go_, bias, false), go_, bias - 0x1000,
                            false);
  EXPECT_EQ(m.verdict, Verdict::kDifferent) << m.evidence;
}

TEST_F(CoreMatchTest, OtherExecutableIsNamedByItsBuildId) {
  // Go's linker puts the note at the same place in every executable, so a
  // core of gofmt holds gofmt's build id where go has its own.
  ASSERT_EQ(gofmt_.notes[0].vaddr, go_.notes[0].vaddr);
  const CoreMatch m =
      MatchCoreToExecutable(CoreOf(gofmt_, 0, true), go_, 0, false);
  EXPECT_EQ(m.verdict, Verdict::kDifferent);
  EXPECT_NE(m.evidence.find("\"" + gofmt_.notes[0].id + "\""),
            std::string::npos)
      << m.evidence;
  EXPECT_NE(m.evidence.find("\"" + go_.notes[0].id + "\""), std::string::npos)
      << m.evidence;
}

TEST_F(CoreMatchTest, OtherExecutableDiffersInModuledata) {
  // gofmt's moduledata at go's address: another program's table lengths.
  RegionMemory core;
  core.PutWords(go_.moduledata_vaddr, gofmt_.moduledata_words);
  CoreMatch m = MatchCoreToExecutable(core, go_, 0, false);
  EXPECT_EQ(m.verdict, Verdict::kDifferent);
  EXPECT_NE(m.evidence.find("runtime.firstmoduledata differs"),
            std::string::npos)
      << m.evidence;
  // One length off is enough.
  std::vector<uint64_t> words = go_.moduledata_words;
  words[14] += 8;  // pclntable len
  core.PutWords(go_.moduledata_vaddr, words);
  m = MatchCoreToExecutable(core, go_, 0, false);
  EXPECT_EQ(m.verdict, Verdict::kDifferent);
  EXPECT_NE(m.evidence.find("pclntable len"), std::string::npos) << m.evidence;
}

TEST_F(CoreMatchTest, MissingModuledataIsDifferentUnlessTruncated) {
  RegionMemory empty;
  CoreMatch m = MatchCoreToExecutable(empty, go_, 0, false);
  EXPECT_EQ(m.verdict, Verdict::kDifferent);
  EXPECT_NE(m.evidence.find("no memory"), std::string::npos) << m.evidence;
  m = MatchCoreToExecutable(empty, go_, 0, true);
  EXPECT_EQ(m.verdict, Verdict::kUnknown) << m.evidence;
}

TEST(CoreMatch, NotAGoExecutable) {
  EXPECT_FALSE(ReadExecutableIdentity("not an elf").ok());
}

}  // namespace
}  // namespace gspy
