// Checks the symbolizer against the Go toolchain itself: `go tool addr2line`
// for function entries and sampled pcs, and runtime.CallersFrames (printed
// by the fixture) for inline chains, on every build variant.
#include "daemon/gobinary/go_binary.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "daemon/gobinary/go_version.h"
#include "daemon/gobinary/layout_table.h"
#include "gtest/gtest.h"
#include "tests/unit/gobinary/fixture_builder.h"

namespace gspy {
namespace {

using ::gspy::testing::GetFixtures;
using ::gspy::testing::RunCommand;
using ::gspy::testing::Variant;

// Offsets only: go_version and source legitimately differ between rows.
void ExpectSameOffsets(const RuntimeLayout& a, const RuntimeLayout& b) {
  EXPECT_EQ(a.g_m, b.g_m);
  EXPECT_EQ(a.g_sched, b.g_sched);
  EXPECT_EQ(a.g_atomicstatus, b.g_atomicstatus);
  EXPECT_EQ(a.g_goid, b.g_goid);
  EXPECT_EQ(a.g_waitreason, b.g_waitreason);
  EXPECT_EQ(a.g_labels, b.g_labels);
  EXPECT_EQ(a.g_parentgoid, b.g_parentgoid);
  EXPECT_EQ(a.g_gopc, b.g_gopc);
  EXPECT_EQ(a.g_startpc, b.g_startpc);
  EXPECT_EQ(a.gobuf_sp, b.gobuf_sp);
  EXPECT_EQ(a.gobuf_pc, b.gobuf_pc);
  EXPECT_EQ(a.gobuf_bp, b.gobuf_bp);
  EXPECT_EQ(a.m_g0, b.m_g0);
  EXPECT_EQ(a.m_curg, b.m_curg);
  EXPECT_EQ(a.m_procid, b.m_procid);
  EXPECT_EQ(a.tls_g_offset, b.tls_g_offset);
  EXPECT_EQ(a.labels_layout, b.labels_layout);
}

class GoBinaryVariantTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto& fx = GetFixtures();
    // A missing Go toolchain is a failure, not a skip.
    ASSERT_TRUE(fx.ok()) << "cannot build Go fixtures: " << fx.status();
    fixtures_ = &*fx;
    variant_ = fx->Find(GetParam());
    ASSERT_NE(variant_, nullptr);
    auto bin = GoBinary::Open(variant_->path);
    ASSERT_TRUE(bin.ok()) << bin.status();
    bin_ = *std::move(bin);
  }

  // Runs `go tool addr2line` over pcs; returns "name\nfile:line" per pc.
  std::vector<std::pair<std::string, std::string>> Addr2Line(
      const std::vector<uint64_t>& pcs) {
    std::string input;
    for (uint64_t pc : pcs) absl::StrAppendFormat(&input, "0x%x\n", pc);
    auto r = RunCommand(absl::StrCat("GOTOOLCHAIN=local go tool addr2line '",
                                     variant_->path, "'"),
                        input, /*merge_stderr=*/false);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::string> lines = absl::StrSplit(r.output, '\n');
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 0; i + 1 < lines.size(); i += 2) {
      out.emplace_back(lines[i], lines[i + 1]);
    }
    EXPECT_EQ(out.size(), pcs.size());
    return out;
  }

  // Compares our symbolization of pcs with addr2line: addr2line prints the
  // physical function's name but the innermost (inlined) file:line.
  void CompareWithAddr2Line(const std::vector<uint64_t>& pcs) {
    auto want = Addr2Line(pcs);
    int mismatches = 0;
    for (size_t i = 0; i < pcs.size() && i < want.size(); ++i) {
      std::vector<Frame> frames;
      ASSERT_TRUE(bin_->Symbolize(pcs[i], &frames))
          << absl::StrFormat("pc 0x%x", pcs[i]);
      ASSERT_FALSE(frames.empty());
      EXPECT_FALSE(frames.back().inlined);
      for (size_t k = 0; k + 1 < frames.size(); ++k) {
        EXPECT_TRUE(frames[k].inlined);
      }
      const std::string got_name(frames.back().function);
      const std::string got_pos = std::string(frames.front().file) + ":" +
                                  std::to_string(frames.front().line);
      // Where the pc-value tables do not cover pc (padding after the last
      // instruction) addr2line prints ":-1"; for marker symbols without
      // tables (go:textfipsstart) debug/gosym decodes pctab offset 0 and
      // prints a negative line. The runtime, and we, say "?" and 0.
      const std::string want_pos =
          absl::StartsWith(want[i].second, ":-") ? "?:0" : want[i].second;
      if (got_name != want[i].first || got_pos != want_pos) {
        if (++mismatches <= 10) {
          ADD_FAILURE() << absl::StrFormat(
              "%s pc 0x%x: got %s %s, addr2line %s %s", variant_->name, pcs[i],
              got_name, got_pos, want[i].first, want[i].second);
        }
      }
    }
    EXPECT_EQ(mismatches, 0);
  }

  const testing::Fixtures* fixtures_ = nullptr;
  const Variant* variant_ = nullptr;
  std::unique_ptr<GoBinary> bin_;
};

TEST_P(GoBinaryVariantTest, BuildInfo) {
  const BuildInfo& bi = bin_->build_info();
  EXPECT_EQ(bi.go_version, variant_->go_version);
  EXPECT_EQ(bi.module_path, "gspy.test/inlinefix");
  EXPECT_EQ(bi.main_version, "(devel)");
  EXPECT_EQ(bi.cgo, variant_->cgo);
  EXPECT_EQ(bi.goarch, "amd64");
  EXPECT_EQ(bin_->goarch(), "amd64");
  bool saw_goos = false;
  for (const auto& [k, v] : bi.settings)
    saw_goos |= k == "GOOS" && v == "linux";
  EXPECT_TRUE(saw_goos);
  EXPECT_EQ(bin_->is_pie(), variant_->name.find("pie") != std::string::npos);
  EXPECT_FALSE(bin_->segments().empty());
}

TEST_P(GoBinaryVariantTest, FunctionEntriesMatchAddr2Line) {
  ASSERT_GT(bin_->function_count(), 1000u);
  std::vector<uint64_t> pcs;
  for (size_t i = 0; i < bin_->function_count(); ++i) {
    auto f = bin_->FunctionAt(i);
    ASSERT_TRUE(f.has_value()) << i;
    ASSERT_LT(f->entry, f->end);
    pcs.push_back(f->entry);
    // Entry lookups agree with the enumeration and the name index.
    auto found = bin_->FindFunction(f->entry);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->entry, f->entry);
    EXPECT_EQ(bin_->SpDelta(f->entry), 0) << f->name;
  }
  CompareWithAddr2Line(pcs);
}

TEST_P(GoBinaryVariantTest, SampledPcsMatchAddr2Line) {
  std::vector<uint64_t> pcs;
  for (size_t i = 0; i < bin_->function_count(); ++i) {
    auto f = bin_->FunctionAt(i);
    ASSERT_TRUE(f.has_value());
    const uint64_t size = f->end - f->entry;
    for (uint64_t k = 1; k <= 4; ++k) {
      uint64_t pc = f->entry + size * k / 5;
      if (pc > f->entry && pc < f->end) pcs.push_back(pc);
    }
  }
  CompareWithAddr2Line(pcs);
}

TEST_P(GoBinaryVariantTest, InlineChainsMatchCallersFrames) {
  auto r = RunCommand(absl::StrCat("'", variant_->path, "'"), "", false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  struct Want {
    uint64_t pc, entry;
    bool inlined;
    std::string function, file;
    int line;
  };
  std::vector<Want> frames;
  int chains = 0;
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    if (absl::StartsWith(line, "CHAIN")) ++chains;
    if (!absl::StartsWith(line, "FRAME ")) continue;
    std::vector<std::string> tabs = absl::StrSplit(line.substr(6), '\t');
    ASSERT_EQ(tabs.size(), 3u) << line;
    std::vector<std::string> head = absl::StrSplit(tabs[0], ' ');
    ASSERT_EQ(head.size(), 4u) << line;
    Want w;
    ASSERT_TRUE(absl::SimpleHexAtoi(head[0], &w.pc)) << line;
    ASSERT_TRUE(absl::SimpleHexAtoi(head[1], &w.entry)) << line;
    w.inlined = head[2] == "1";
    w.function = head[3];
    w.file = tabs[1];
    ASSERT_TRUE(absl::SimpleAtoi(tabs[2], &w.line)) << line;
    frames.push_back(w);
  }
  EXPECT_EQ(chains, variant_->cgo ? 5 : 4);
  ASSERT_FALSE(frames.empty());
  // PIE binaries run at a random base: translate runtime pcs back to
  // link-time addresses with the first physical frame's entry.
  uint64_t bias = 0;
  for (const Want& w : frames) {
    if (w.inlined) continue;
    auto f = bin_->FindFunctionByName(w.function);
    ASSERT_TRUE(f.has_value()) << w.function;
    bias = w.entry - f->entry;
    break;
  }
  EXPECT_EQ(bias != 0, bin_->is_pie());
  for (Want& w : frames) w.pc -= bias;
  int inlined_seen = 0;
  // Each run of inlined frames plus the physical frame that ends it is what
  // one Symbolize(pc) call must return, for the first frame's pc.
  for (size_t i = 0; i < frames.size();) {
    size_t j = i;
    while (j < frames.size() && frames[j].inlined) ++j;
    ASSERT_LT(j, frames.size()) << "chain does not end in a physical frame";
    std::vector<Frame> got;
    ASSERT_TRUE(bin_->Symbolize(frames[i].pc, &got))
        << absl::StrFormat("pc 0x%x", frames[i].pc);
    ASSERT_EQ(got.size(), j - i + 1)
        << absl::StrFormat("pc 0x%x (%s)", frames[i].pc, frames[i].function);
    for (size_t k = 0; k < got.size(); ++k) {
      const Want& w = frames[i + k];
      EXPECT_EQ(got[k].function, w.function);
      EXPECT_EQ(got[k].file, w.file);
      EXPECT_EQ(got[k].line, w.line) << w.function;
      EXPECT_EQ(got[k].inlined, w.inlined) << w.function;
      inlined_seen += w.inlined;
    }
    i = j + 1;
  }
  // leaf, mid, (*acc).add and the closure must have been inlined.
  EXPECT_GE(inlined_seen, 8);
}

TEST_P(GoBinaryVariantTest, NamesStartLinesAndSpDelta) {
  auto outer = bin_->FindFunctionByName("main.outer");
  ASSERT_TRUE(outer.has_value());
  EXPECT_EQ(outer->name, "main.outer");
  auto by_pc = bin_->FindFunction(outer->entry + 1);
  ASSERT_TRUE(by_pc.has_value());
  EXPECT_EQ(by_pc->name, "main.outer");
  EXPECT_FALSE(bin_->FindFunctionByName("main.noSuchFunction").has_value());
  // main.outer has a frame: somewhere inside it the SP delta is positive.
  int32_t max_delta = 0;
  for (uint64_t pc = outer->entry; pc < outer->end; ++pc) {
    // nullopt is allowed only in the padding after the last instruction.
    auto d = bin_->SpDelta(pc);
    if (!d.has_value()) continue;
    EXPECT_GE(*d, 0);
    max_delta = std::max(max_delta, *d);
  }
  EXPECT_GT(max_delta, 0);
  std::vector<Frame> frames;
  ASSERT_TRUE(bin_->Symbolize(outer->entry, &frames));
  ASSERT_EQ(frames.size(), 1u);
  if (GoMinorVersion(variant_->go_version).value_or(0) >= 20) {
    // The entry's line is the func keyword line, which is start_line.
    EXPECT_EQ(frames[0].line, frames[0].start_line);
    EXPECT_GT(frames[0].start_line, 0);
  } else {
    EXPECT_EQ(frames[0].start_line, 0);  // the 1.18 format has no start line
  }
  EXPECT_FALSE(bin_->Symbolize(0, &frames));
  EXPECT_FALSE(bin_->FindFunction(~uint64_t{0}).has_value());
  EXPECT_FALSE(bin_->SpDelta(0).has_value());
}

TEST_P(GoBinaryVariantTest, RuntimeLayout) {
  const auto& layout = bin_->runtime_layout();
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->go_version, variant_->go_version);
  EXPECT_EQ(layout->source,
            variant_->has_dwarf ? LayoutSource::kDwarf : LayoutSource::kTable);
  EXPECT_EQ(layout->tls_g_offset, -8);
  // Every variant of the installed toolchain equals the DWARF layout of the
  // default build ...
  if (variant_->toolchain == "local") {
    auto def = GoBinary::Open(fixtures_->Find("default")->path);
    ASSERT_TRUE(def.ok());
    ASSERT_TRUE((*def)->runtime_layout().ok());
    ASSERT_EQ((*def)->runtime_layout()->source, LayoutSource::kDwarf);
    ExpectSameOffsets(*layout, *(*def)->runtime_layout());
  }
  // ... and the generated table row for its version.
  auto minor = GoMinorVersion(variant_->go_version);
  ASSERT_TRUE(minor.has_value());
  auto row = BuiltinRuntimeLayout(*minor);
  ASSERT_TRUE(row.has_value()) << "layout_table.cc lacks go1." << *minor
                               << "; rerun tools/gen_layout_table";
  ExpectSameOffsets(*layout, *row);
}

INSTANTIATE_TEST_SUITE_P(Variants, GoBinaryVariantTest,
                         ::testing::ValuesIn(testing::VariantNames()),
                         [](const auto& info) { return info.param; });

TEST(GoVersionTest, Minor) {
  EXPECT_EQ(GoMinorVersion("go1.26.8"), 26);
  EXPECT_EQ(GoMinorVersion("go1.20"), 20);
  EXPECT_EQ(GoMinorVersion("go1.21rc2"), 21);
  EXPECT_EQ(GoMinorVersion("devel go1.27-abcdef Tue"), 27);
  EXPECT_EQ(GoMinorVersion("weird"), std::nullopt);
}

TEST(LayoutTableTest, LabelsLayoutByVersion) {
  EXPECT_EQ(LabelsLayoutForMinor(23), LabelsLayout::kMap);
  EXPECT_EQ(LabelsLayoutForMinor(24), LabelsLayout::kSlice);
  EXPECT_FALSE(BuiltinRuntimeLayout(99).has_value());
}

}  // namespace
}  // namespace gspy
