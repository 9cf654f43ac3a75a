// The dump's API messages must parse on the other side whatever bytes the
// process held: found by tests/fuzz/goroutines_fuzz.
#include "golang/goroutines/dump_proto.h"

#include <memory>
#include <string>

#include "golang/binary/layout_table.h"
#include "golang/goroutines/valid_utf8.h"
#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_binary.h"

namespace gspy {
namespace {

TEST(ValidUtf8, KeepsUtf8ReplacesEachBadRunOnce) {
  EXPECT_EQ(ValidUtf8(""), "");
  EXPECT_EQ(ValidUtf8("checkout"), "checkout");
  // 2, 3 and 4 byte sequences, the highest code point.
  EXPECT_EQ(
      ValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"),
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
  const std::string kBad = "\xef\xbf\xbd";
  EXPECT_EQ(ValidUtf8("id-\xff\xfe"), "id-" + kBad);
  EXPECT_EQ(ValidUtf8("\x80x\xc3"), kBad + "x" + kBad);  // lone, truncated
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), kBad);                // overlong '/'
  EXPECT_EQ(ValidUtf8("\xe0\x80\xaf"), kBad);            // overlong
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), kBad);            // surrogate
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80"), kBad);        // past U+10FFFF
  EXPECT_EQ(ValidUtf8(std::string("a\0b", 3)), std::string("a\0b", 3));
}

// Go's pprof labels are any Go strings; one goroutine with a binary label
// made gspyd's whole GetGoroutines response unparseable.
TEST(DumpToProto, BinaryLabelsStillParse) {
  testing::FakeGoBinary binary({{"main.block", 0x1000, 0x1100, 8, ""}});
  binary.set_runtime_layout(*BuiltinRuntimeLayout(26));
  GoroutineDump dump;
  dump.go_version = "go1.26.8";
  GoroutineRecord g;
  g.goid = 7;
  g.status = 4;
  g.labels = std::make_shared<const LabelList>(
      LabelList{{"request\xff", std::string("\x00\x9f\x92\x96", 4)},
                {"handler", "checkout"}});
  dump.goroutines.push_back(g);
  dump.warnings.push_back("core /tmp/core.\xff: truncated");

  v1::ProcessGoroutines p;
  DumpToProto(dump, binary, 0, {}, &p);
  v1::ProcessGoroutines back;
  ASSERT_TRUE(back.ParseFromString(p.SerializeAsString()));
  ASSERT_EQ(back.goroutines_size(), 1);
  ASSERT_EQ(back.goroutines(0).labels_size(), 2);
  EXPECT_EQ(back.goroutines(0).labels(0).key(), "request\xef\xbf\xbd");
  EXPECT_EQ(back.goroutines(0).labels(0).value(),
            std::string("\x00\xef\xbf\xbd", 4));
  EXPECT_EQ(back.goroutines(0).labels(1).value(), "checkout");
  EXPECT_EQ(back.warnings(0), "core /tmp/core.\xef\xbf\xbd: truncated");
}

}  // namespace
// Goroutines that share one label set (pprof.Do's children): with
// shared_label_sets it is sent once and each goroutine points to it; the
// labels each goroutine has, and the pprof, are the same either way; a byte
// limit stops the conversion.
TEST(DumpToProto, SharedLabelSetsAreSentOnce) {
  testing::FakeGoBinary binary({{"main.block", 0x1000, 0x1100, 8, ""}});
  binary.set_runtime_layout(*BuiltinRuntimeLayout(26));
  GoroutineDump dump;
  dump.go_version = "go1.26.8";
  auto big = std::make_shared<const LabelList>(
      LabelList{{"tenant", std::string(4000, 't')}, {"user", "alice"}});
  auto small = std::make_shared<const LabelList>(LabelList{{"k", "v"}});
  for (int i = 0; i < 100; ++i) {
    GoroutineRecord g;
    g.goid = 10 + i;
    g.status = 4;
    g.labels = i % 10 == 9 ? small : big;
    dump.goroutines.push_back(g);
  }
  dump.goroutines.emplace_back().goid = 200;  // no labels

  v1::ProcessGoroutines inline_labels, shared;
  ASSERT_TRUE(DumpToProto(dump, binary, 0, {}, &inline_labels));
  DumpProtoOptions options;
  options.shared_label_sets = true;
  ASSERT_TRUE(DumpToProto(dump, binary, 0, options, &shared));
  ASSERT_EQ(shared.label_sets_size(), 2);
  ASSERT_EQ(shared.goroutines_size(), 101);
  for (int i = 0; i < shared.goroutines_size(); ++i) {
    const v1::Goroutine& a = inline_labels.goroutines(i);
    const v1::Goroutine& b = shared.goroutines(i);
    EXPECT_TRUE(b.labels().empty());
    EXPECT_EQ(a.label_set(), 0);
    ASSERT_EQ(GoroutineLabels(shared, b).size(), a.labels().size()) << i;
    for (int j = 0; j < a.labels().size(); ++j) {
      EXPECT_EQ(GoroutineLabels(shared, b)[j].SerializeAsString(),
                a.labels(j).SerializeAsString());
    }
  }
  EXPECT_EQ(shared.goroutines(100).label_set(), 0);
  // 90 copies of 4000 bytes against one.
  EXPECT_GT(inline_labels.ByteSizeLong(), 90u * 4000);
  EXPECT_LT(shared.ByteSizeLong(), 20'000u);
  EXPECT_EQ(GoroutinesPprof({&inline_labels}, 1),
            GoroutinesPprof({&shared}, 1));

  options.max_bytes = 100'000;
  v1::ProcessGoroutines capped;
  EXPECT_TRUE(DumpToProto(dump, binary, 0, options, &capped));
  DumpProtoOptions inline_capped;
  inline_capped.max_bytes = 100'000;
  capped.Clear();
  EXPECT_FALSE(DumpToProto(dump, binary, 0, inline_capped, &capped));
  EXPECT_LE(capped.ByteSizeLong(), 100'000u);
}

}  // namespace gspy
