// The dump's API messages must parse on the other side whatever bytes the
// process held: found by tests/fuzz/goroutines_fuzz.
#include "golang/goroutines/dump_proto.h"

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
  g.labels = {{"request\xff", std::string("\x00\x9f\x92\x96", 4)},
              {"handler", "checkout"}};
  dump.goroutines.push_back(g);
  dump.warnings.push_back("core /tmp/core.\xff: truncated");

  v1::ProcessGoroutines p;
  DumpToProto(dump, binary, 0, nullptr, &p);
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
}  // namespace gspy
