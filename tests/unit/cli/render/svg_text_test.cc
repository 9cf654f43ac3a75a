#include "cli/render/svg_text.h"

#include <gtest/gtest.h>

namespace gspy::render_internal {
namespace {

TEST(EscapeXmlTest, EscapesSpecialCharacters) {
  EXPECT_EQ(EscapeXml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(EscapeXml("main.(*T).M"), "main.(*T).M");
}

TEST(EscapeXmlTest, ReplacesBytesXmlCannotHold) {
  EXPECT_EQ(EscapeXml(std::string("a\0b\x01", 4)), "a?b?");
  EXPECT_EQ(EscapeXml("caf\xc3\xa9"), "caf\xc3\xa9") << "valid UTF-8 kept";
  EXPECT_EQ(EscapeXml("bad\xff\xc3"), "bad??");
  EXPECT_EQ(EscapeXml("\xed\xa0\x80"), "???") << "surrogate";
  EXPECT_EQ(EscapeXml("\xc0\xaf"), "??") << "overlong";
}

TEST(TruncateTest, FitsOrCutsWithDots) {
  EXPECT_EQ(TruncateToChars("main.work", 9), "main.work");
  EXPECT_EQ(TruncateToChars("main.work", 100), "main.work");
  EXPECT_EQ(TruncateToChars("main.work", 8), "main.w..");
  EXPECT_EQ(TruncateToChars("main.work", 3), "m..");
  EXPECT_EQ(TruncateToChars("main.work", 2), "");
  EXPECT_EQ(TruncateToChars("main.work", 0), "");
  // Cuts between characters, never inside a UTF-8 sequence.
  EXPECT_EQ(TruncateToChars("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3),
            "\xc3\xa9..");
}

}  // namespace
}  // namespace gspy::render_internal
