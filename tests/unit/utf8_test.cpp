// UTF-8 checking and repair: the guarantee that no field parse returns is invalid UTF-8.
#include "daemon/parse/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace newsmon::parse {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8Test, ValidPrefixCoversAsciiRunsOfEveryLength) {
  for (std::size_t n = 0; n < 40; ++n) {
    std::string ascii(n, 'a');
    EXPECT_EQ(ValidUtf8Prefix(ascii), n);
    EXPECT_EQ(ValidUtf8Prefix(ascii + "\xFF" + ascii), n) << n;
  }
}

TEST(Utf8Test, AcceptsEveryWellFormedLength) {
  EXPECT_TRUE(IsValidUtf8("Казахстан"));          // two bytes
  EXPECT_TRUE(IsValidUtf8("中亚 \xE2\x80\x94"));  // three bytes
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x9A\x82"));   // four bytes: U+1F682
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
}

TEST(Utf8Test, RejectsOverlongsSurrogatesAndPastTheRange) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));  // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong three-byte
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xD0"));      // cut short
  EXPECT_FALSE(IsValidUtf8("\xD0\x41"));  // lead byte, then ASCII
}

TEST(Utf8Test, PrefixStopsAtTheFirstInvalidByteAfterMultibyteText) {
  std::string text = "Астана\xD0";
  EXPECT_EQ(ValidUtf8Prefix(text), text.size() - 1);
}

TEST(Utf8Test, RepairReplacesEachMaximalInvalidSubpartOnce) {
  std::string text =
      "a\xF0\x9F\x9A"
      "b\xFF\xFE"
      "c\xED\xA0\x80"
      "d";
  RepairUtf8(text);
  // A truncated four-byte sequence is one subpart; 0xFF and 0xFE are one each; a surrogate's
  // lead byte 0xED refuses 0xA0, so all three bytes are separate subparts.
  EXPECT_EQ(text, "a" + kFffd + "b" + kFffd + kFffd + "c" + kFffd + kFffd + kFffd + "d");
  EXPECT_TRUE(IsValidUtf8(text));
}

TEST(Utf8Test, RepairLeavesValidTextAlone) {
  std::string text = "Middle Corridor — Срединный коридор";
  std::string copy = text;
  RepairUtf8(text);
  EXPECT_EQ(text, copy);
}

TEST(Utf8Test, AppendReplacesWhatUtf8CannotHold) {
  std::string out;
  AppendUtf8(out, U'A');
  AppendUtf8(out, 0x416);    // Ж
  AppendUtf8(out, 0x20AC);   // €
  AppendUtf8(out, 0x1F682);  // 🚂
  EXPECT_EQ(out, "A\xD0\x96\xE2\x82\xAC\xF0\x9F\x9A\x82");
  out.clear();
  AppendUtf8(out, 0);
  AppendUtf8(out, 0xD800);
  AppendUtf8(out, 0x110000);
  EXPECT_EQ(out, kFffd + kFffd + kFffd);
}

}  // namespace
}  // namespace newsmon::parse
