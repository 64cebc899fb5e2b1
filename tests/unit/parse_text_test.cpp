#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>

#include "daemon/parse/text.h"
#include "daemon/parse/utf8.h"

namespace newsmon::parse {
namespace {

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

std::string Html(std::string_view text, std::size_t max_bytes = kNoLimit) {
  return CleanText(text, TextKind::kHtml, max_bytes);
}

std::string Plain(std::string_view text, std::size_t max_bytes = kNoLimit) {
  return CleanText(text, TextKind::kPlain, max_bytes);
}

// --- Named references ---------------------------------------------------------------

TEST(CleanTextTest, NamedReferencesWithSemicolonDecode) {
  EXPECT_EQ(Plain("Tom &amp; Jerry"), "Tom & Jerry");
  EXPECT_EQ(Plain("&quot;quoted&quot; &apos;it&apos;"), "\"quoted\" 'it'");
  EXPECT_EQ(Plain("Wait&hellip; &mdash; caf&eacute;"), "Wait… — café");
  EXPECT_EQ(Plain("&euro;5 &rarr; &Omega;"), "€5 → Ω");
}

TEST(CleanTextTest, NamedReferencesAtBothEndsOfTheTableDecode) {
  EXPECT_EQ(Plain("&AElig;"), "Æ");                // first entry
  EXPECT_EQ(Plain("&zopf;"), "\xF0\x9D\x95\xAB");  // U+1D56B, near the end
  EXPECT_EQ(Plain("a&zwnj;b"),
            "a\xE2\x80\x8C"
            "b");                                              // last entry; U+200C is kept
  EXPECT_EQ(Plain("&CounterClockwiseContourIntegral;"), "∳");  // the longest name
}

TEST(CleanTextTest, NamedReferenceWithTwoCodePointsDecodesToBoth) {
  EXPECT_EQ(Plain("&NotEqualTilde;"), "\xE2\x89\x82\xCC\xB8");  // U+2242 U+0338
}

TEST(CleanTextTest, NamedReferencesAreCaseSensitive) {
  EXPECT_EQ(Plain("&AMP; &Amp;"), "& &Amp;");
  EXPECT_EQ(Plain("&Eacute;&eacute;"), "Éé");
}

TEST(CleanTextTest, LegacyNamesDecodeWithoutSemicolon) {
  EXPECT_EQ(Plain("fish &amp chips"), "fish & chips");
  EXPECT_EQ(Plain("&copy 2024 ACME"), "© 2024 ACME");
  EXPECT_EQ(Plain("a&nbsp b"), "a b");
  EXPECT_EQ(Plain("&lt&gt"), "<>");
  EXPECT_EQ(Plain("caf&eacute"), "café");
  EXPECT_EQ(Plain("&frac12."), "½.");
}

TEST(CleanTextTest, NonLegacyNamesNeedTheSemicolon) {
  EXPECT_EQ(Plain("Wait&hellip now"), "Wait&hellip now");
  EXPECT_EQ(Plain("&mdash"), "&mdash");
}

TEST(CleanTextTest, LegacyNameFollowedByAlnumOrEqualsStaysLiteral) {
  // HTML's attribute-value rule, which keeps query strings in text intact.
  EXPECT_EQ(Plain("https://x.org/?id=1&section=2"), "https://x.org/?id=1&section=2");
  EXPECT_EQ(Plain("?a=1&copy=2"), "?a=1&copy=2");
  EXPECT_EQ(Plain("&copy2024"), "&copy2024");
  EXPECT_EQ(Plain("&ampfoo"), "&ampfoo");
  EXPECT_EQ(Plain("&notit;"), "&notit;");
}

TEST(CleanTextTest, UnknownNamesAndBareAmpersandsStayLiteral) {
  EXPECT_EQ(Plain("&foo; &bar"), "&foo; &bar");
  EXPECT_EQ(Plain("AT&T and R&D"), "AT&T and R&D");
  EXPECT_EQ(Plain("Q & A &; &"), "Q & A &; &");
  EXPECT_EQ(Plain("&#; &#x; &#xZ; &#a"), "&#; &#x; &#xZ; &#a");
  // Longer than any name in the table.
  EXPECT_EQ(Plain("&CounterClockwiseContourIntegralX;"), "&CounterClockwiseContourIntegralX;");
}

// --- Numeric references -------------------------------------------------------------

TEST(CleanTextTest, DecimalAndHexReferencesDecode) {
  EXPECT_EQ(Plain("&#1234;"), "\xD3\x92");  // U+04D2
  EXPECT_EQ(Plain("&#x4F60;&#x597d;"), "你好");
  EXPECT_EQ(Plain("&#X4F60;"), "你");
  EXPECT_EQ(Plain("It&#39;s &#x27;ok&#x27;"), "It's 'ok'");
  EXPECT_EQ(Plain("&#x1F600;"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(Plain("&#0065;&#x0000041;"), "AA");  // leading zeros
}

TEST(CleanTextTest, NumericReferencesDecodeWithoutSemicolonBeforeANonDigit) {
  EXPECT_EQ(Plain("It&#39s"), "It's");
  EXPECT_EQ(Plain("&#x41G"), "AG");
  EXPECT_EQ(Plain("&#65"), "A");
}

TEST(CleanTextTest, NulSurrogateAndOutOfRangeReferencesBecomeReplacementChar) {
  EXPECT_EQ(Plain("a&#0;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("a&#x0;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("a&#xD800;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("a&#xDFFF;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("a&#55296;b"),
            "a\xEF\xBF\xBD"
            "b");  // 0xD800
  EXPECT_EQ(Plain("a&#x110000;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("a&#1114112;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("&#x10FFFF;"), "\xF4\x8F\xBF\xBF");  // the last code point is fine
}

TEST(CleanTextTest, HugeNumericReferencesDoNotOverflow) {
  EXPECT_EQ(Plain("a&#99999999999999999999;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("a&#xFFFFFFFFFFFFFFFFFFFF41;b"),
            "a\xEF\xBF\xBD"
            "b");
  // 2^32 + 65 would wrap to 'A' in 32 bits.
  EXPECT_EQ(Plain("a&#4294967361;b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("a&#x100000041;b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(CleanTextTest, Windows1252RangeIsRemappedAsInHtml) {
  EXPECT_EQ(Plain("1990&#150;2000"), "1990–2000");
  EXPECT_EQ(Plain("&#128;5"), "€5");
  EXPECT_EQ(Plain("it&#146;s &#147;x&#148; &#151;"), "it’s “x” —");
  EXPECT_EQ(Plain("&#x99;"), "™");
  // 0x81 is undefined in Windows-1252: it stays a C1 control, which CleanText drops as
  // a space.
  EXPECT_EQ(Plain("a&#129;b"), "a b");
}

// --- Double escaping ----------------------------------------------------------------

TEST(CleanTextTest, DoubleEscapedReferencesDecodeInOnePass) {
  EXPECT_EQ(Plain("Tom &amp;amp; Jerry"), "Tom & Jerry");
  EXPECT_EQ(Plain("&amp;quot;Hi&amp;quot;"), "\"Hi\"");
  EXPECT_EQ(Plain("It&amp;#39;s"), "It's");
  EXPECT_EQ(Plain("It&amp;#x27;s"), "It's");
  EXPECT_EQ(Plain("&amp;eacute;t&amp;eacute;"), "été");
  EXPECT_EQ(Plain("&AMP;amp;"), "&");
}

TEST(CleanTextTest, AmpFollowedByNoReferenceIsOneAmpersand) {
  EXPECT_EQ(Plain("R&amp;D"), "R&D");
  EXPECT_EQ(Plain("&amp;"), "&");
  EXPECT_EQ(Plain("&amp;foo;"), "&foo;");
  EXPECT_EQ(Plain("&amp;#;"), "&#;");
  EXPECT_EQ(Plain("?a=1&amp;section=2"), "?a=1&section=2");
}

TEST(CleanTextTest, OnlyOneExtraLevelIsDecoded) { EXPECT_EQ(Plain("&amp;amp;amp;"), "&amp;"); }

TEST(CleanTextTest, DoubleEscapedMarkupBecomesTextNotTags) {
  EXPECT_EQ(Html("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;"), "<b>bold</b>");
}

// --- Tags ---------------------------------------------------------------------------

TEST(CleanTextTest, InlineTagsDoNotSeparateWords) {
  EXPECT_EQ(Html("Hel<b>lo</b> wor<i>ld</i>"), "Hello world");
  EXPECT_EQ(Html("<span>a</span><span>b</span><a href=\"/x\">c</a><em>d</em>"), "abcd");
  EXPECT_EQ(Html("x<sup>2</sup>"), "x2");
  EXPECT_EQ(Html("<custom-element>a</custom-element>b"), "ab");
}

TEST(CleanTextTest, BlockTagsSeparateWords) {
  EXPECT_EQ(Html("<p>One</p><p>Two</p>"), "One Two");
  EXPECT_EQ(Html("a<br>b<br/>c<BR />d"), "a b c d");
  EXPECT_EQ(Html("<ul><li>x</li><li>y</li></ul>"), "x y");
  EXPECT_EQ(Html("<table><tr><td>1</td><td>2</td></tr></table>"), "1 2");
  EXPECT_EQ(Html("<h1>Title</h1><div>Body</div>"), "Title Body");
  EXPECT_EQ(Html("a<hr>b"), "a b");
  EXPECT_EQ(Html("text<img src=\"a.png\" alt=\"\">more"), "text more");
  EXPECT_EQ(Html("end</P>next"), "end next");
}

TEST(CleanTextTest, BlockTagNamesMatchWholeAndIgnoringCase) {
  EXPECT_EQ(Html("a<BLOCKQUOTE>b</Blockquote>c<figcaption>d</figcaption>e"), "a b c d e");
  EXPECT_EQ(Html("a<Div>b</DIV>c"), "a b c");
  EXPECT_EQ(Html("a<divx>b</divx>c<blockquotes>d<pre-x>e"), "abcde");
}

TEST(CleanTextTest, WhitespaceAroundBlocksCollapsesToOneSpace) {
  EXPECT_EQ(Html("<p> a </p>\n  <p> b </p>"), "a b");
}

TEST(CleanTextTest, QuotedAttributeValuesMayContainGreaterThan) {
  EXPECT_EQ(Html("<a href=\"x>y\" title='a>b'>link</a>"), "link");
  EXPECT_EQ(Html("<a title = \"1 > 0\">ok</a>"), "ok");
}

TEST(CleanTextTest, QuoteOutsideAnAttributeValueIsOrdinary) {
  EXPECT_EQ(Html("<img alt=it's>text"), "text");
}

TEST(CleanTextTest, CommentsAreDropped) {
  EXPECT_EQ(Html("a<!-- hidden > still hidden -->b"), "ab");
  EXPECT_EQ(Html("a<!---->b<!-->c<!--->d"), "abcd");
  EXPECT_EQ(Html("a <!-- never closed"), "a");
}

TEST(CleanTextTest, CdataKeepsItsContent) {
  EXPECT_EQ(Html("<![CDATA[x < y & z]]> tail"), "x < y & z tail");
  EXPECT_EQ(Html("<![CDATA[<p>Hello</p>]]>"), "Hello");
  EXPECT_EQ(Html("<![CDATA[unterminated"), "unterminated");
}

TEST(CleanTextTest, ScriptStyleAndNoscriptContentIsDropped) {
  EXPECT_EQ(Html("a<script>var s = '<b>x</b>';</script>b"), "ab");
  EXPECT_EQ(Html("<style type=\"text/css\">p { color: red }</style>Text"), "Text");
  EXPECT_EQ(Html("<noscript>Enable JavaScript</noscript>ok"), "ok");
  EXPECT_EQ(Html("<SCRIPT>x</Script >y"), "y");
  EXPECT_EQ(Html("<script>a</scripts>b</script>c"), "c");
  EXPECT_EQ(Html("text<script>never closed"), "text");
}

TEST(CleanTextTest, DeclarationsAndProcessingInstructionsAreDropped) {
  EXPECT_EQ(Html("<!DOCTYPE html><?xml version=\"1.0\"?>x"), "x");
}

TEST(CleanTextTest, LessThanNotStartingMarkupIsText) {
  EXPECT_EQ(Html("x < y"), "x < y");
  EXPECT_EQ(Html("I <3 feeds"), "I <3 feeds");
  EXPECT_EQ(Html("1<2"), "1<2");
  EXPECT_EQ(Html("a <= b <"), "a <= b <");
  EXPECT_EQ(Html("<<b>x</b>"), "<x");
}

TEST(CleanTextTest, UnterminatedTagAtTheEndIsDropped) {
  EXPECT_EQ(Html("Hello <a href=\"x"), "Hello");
  EXPECT_EQ(Html("Hello <b"), "Hello");
  EXPECT_EQ(Html("Hello </"), "Hello");
}

TEST(CleanTextTest, EmptyEndTagIsDropped) { EXPECT_EQ(Html("x </> y"), "x y"); }

TEST(CleanTextTest, EscapedMarkupIsDecodedAfterStrippingSoItStaysText) {
  EXPECT_EQ(Html("&lt;script&gt;alert(1)&lt;/script&gt; shown"), "<script>alert(1)</script> shown");
  EXPECT_EQ(Html("<b>&lt;p&gt;</b>"), "<p>");
}

TEST(CleanTextTest, PlainKeepsTagsThatHtmlStrips) {
  const std::string_view input = "<b>Bold</b>  news &amp; <i>more</i>";
  EXPECT_EQ(Plain(input), "<b>Bold</b> news & <i>more</i>");
  EXPECT_EQ(Html(input), "Bold news & more");
  EXPECT_EQ(Plain("<!-- c --><script>x</script>"), "<!-- c --><script>x</script>");
}

// --- Whitespace and invisible characters ---------------------------------------------

TEST(CleanTextTest, AsciiWhitespaceCollapsesAndIsTrimmed) {
  EXPECT_EQ(Plain("  a \t\n b\r\n\f\vc  "), "a b c");
  EXPECT_EQ(Plain(" \t\n "), "");
  EXPECT_EQ(Plain(""), "");
}

TEST(CleanTextTest, UnicodeSpacesCollapseToOneAsciiSpace) {
  for (std::string_view space :
       {"\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x85", "\xE2\x80\x8A",
        "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"}) {
    const std::string input =
        "a" + std::string(space) + std::string(space) + " b" + std::string(space);
    EXPECT_EQ(Plain(input), "a b") << "for bytes of length " << space.size();
  }
}

TEST(CleanTextTest, SpaceEntitiesCollapseWithTheRest) {
  EXPECT_EQ(Plain("a&nbsp;&nbsp;b"), "a b");
  EXPECT_EQ(Plain("&nbsp;a &nbsp; b&nbsp;"), "a b");
  EXPECT_EQ(Plain("a&#160;&#x2009;&ThinSpace;&NewLine;&Tab;b"), "a b");
  EXPECT_EQ(Plain("a&ThickSpace;b"), "a b");  // U+205F U+200A
  EXPECT_EQ(Plain("a&#13;&#10;b"), "a b");
}

TEST(CleanTextTest, ZeroWidthSpaceAndByteOrderMarkAreRemoved) {
  EXPECT_EQ(Plain("\xEF\xBB\xBFTitle"), "Title");
  EXPECT_EQ(Plain("zero\xE2\x80\x8Bwidth"), "zerowidth");
  EXPECT_EQ(Plain("a&#x200B;b&ZeroWidthSpace;c&#xFEFF;d"), "abcd");
  EXPECT_EQ(Plain("a \xE2\x80\x8B b"), "a b");
}

TEST(CleanTextTest, JoinersAreNotZeroWidthSpaces) {
  const std::string family = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9";  // ZWJ sequence
  EXPECT_EQ(Plain(family), family);
  EXPECT_EQ(Plain("a\xE2\x80\x8C"
                  "b"),
            "a\xE2\x80\x8C"
            "b");  // ZWNJ
}

TEST(CleanTextTest, ControlCharactersBecomeSpaces) {
  EXPECT_EQ(Plain("a\x01"
                  "b\x1F"
                  "c\x7F"
                  "d"),
            "a b c d");
  EXPECT_EQ(Plain(std::string_view("a\0b", 3)), "a b");
  EXPECT_EQ(Plain("a\x01\x02 \x03"
                  "b"),
            "a b");
  EXPECT_EQ(Plain("a&#1;b&#x7F;c"), "a b c");
  EXPECT_EQ(Plain("a\xC2\x80"
                  "b\xC2\x9F"
                  "c"),
            "a b c");  // C1 controls too
}

// --- UTF-8 --------------------------------------------------------------------------

TEST(CleanTextTest, InvalidUtf8IsRepairedWithReplacementChars) {
  EXPECT_EQ(Plain("a\xFF"
                  "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Plain("abc\xE4\xBD"), "abc\xEF\xBF\xBD");        // truncated sequence: one U+FFFD
  EXPECT_EQ(Plain("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(Plain("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(Html("<b \xFF>x\x80</b>"), "x\xEF\xBF\xBD");
  const std::string out = Html("\xF8<p>\xC3</p>&amp;\xA0&nbsp;\xE2\x82");
  EXPECT_TRUE(IsValidUtf8(out));
  EXPECT_EQ(out, "\xEF\xBF\xBD \xEF\xBF\xBD &\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST(CleanTextTest, CyrillicAndCjkTextIsUntouched) {
  for (std::string_view text : {
           "Привет, мир! Новости дня: «Главное»",
           "你好，世界。今日のニュース：日本語のテキスト",
           "한국어 뉴스 제목",
           "Tiếng Việt có dấu",
           "Ελληνικά · © 2024 ® ° ±",
           "🎉 Release 2.0 — “quoted” ‘text’ …",
       }) {
    EXPECT_EQ(Plain(text), text);
    EXPECT_EQ(Html(text), text);
  }
}

// --- Length -------------------------------------------------------------------------

TEST(CleanTextTest, CutsAtMaxBytes) {
  EXPECT_EQ(Plain("Hello world", 5), "Hello");
  EXPECT_EQ(Plain("Hello world", 11), "Hello world");
  EXPECT_EQ(Plain("Hello world", 0), "");
}

TEST(CleanTextTest, CutDoesNotLeaveATrailingSpace) {
  EXPECT_EQ(Plain("Hello world", 6), "Hello");
  EXPECT_EQ(Plain("a&nbsp;&nbsp;b", 2), "a");
}

TEST(CleanTextTest, MaxBytesCountsTheCleanedText) {
  EXPECT_EQ(Html("<p>  <b>Hi</b>  </p>   there", 8), "Hi there");
  EXPECT_EQ(Plain("&amp;&amp;&amp;", 2), "&&");
}

TEST(CleanTextTest, CutNeverSplitsAMultibyteCharacter) {
  EXPECT_EQ(Plain("Привет", 5), "Пр");       // 2-byte characters
  EXPECT_EQ(Plain("你好世界", 8), "你好");   // 3-byte characters
  EXPECT_EQ(Plain("🎉🎉", 7), "🎉");            // 4-byte characters
  EXPECT_EQ(Plain("&copy;&copy;", 3), "©");  // decoded characters
  EXPECT_EQ(Plain("x&#x1F600;", 4), "x");
}

TEST(CleanTextTest, EveryCutIsValidUtf8AndAPrefixOfTheFullText) {
  const std::string_view input =
      "<p>Čeština &amp; 日本語</p> <b>🎉</b>&nbsp;Ω&#x10FFFF; \xEF\xBB\xBF z\xE2\x80\x8Bz \xFF end";
  const std::string full = Html(input);
  for (std::size_t max = 0; max <= full.size() + 1; ++max) {
    const std::string cut = Html(input, max);
    EXPECT_LE(cut.size(), max);
    EXPECT_TRUE(IsValidUtf8(cut)) << "max_bytes " << max;
    EXPECT_EQ(full.compare(0, cut.size(), cut), 0) << "max_bytes " << max;
    EXPECT_TRUE(cut.empty() || cut.back() != ' ') << "max_bytes " << max;
    EXPECT_GE(cut.size() + 4, std::min(max, full.size())) << "max_bytes " << max;
  }
}

TEST(CleanTextTest, LongInputWithSmallLimitStopsEarly) {
  std::string input;
  for (int i = 0; i < 100000; ++i) input += "<p>word &amp; more</p> ";
  EXPECT_EQ(Html(input, 12), "word & more");
}

// --- The bulk path ------------------------------------------------------------------
// Plain runs are scanned 16 bytes at a time: these put what ends a run at every position
// of the first three blocks, and at the end of the text.

TEST(CleanTextBulkTest, WhatEndsARunIsHandledAtEveryPosition) {
  struct Case {
    std::string_view insert;
    std::string_view result;  // of "xx…x" + insert + "yy…y"
    TextKind kind = TextKind::kPlain;
  };
  const Case cases[] = {
      {"&amp;", "&"},
      {"&quot;", "\""},
      {"&#8217;", "’"},
      {"&nbsp;", " "},
      {"&", "&"},
      {"&foo;", "&foo;"},
      {" & ", " & "},
      {"\t", " "},
      {"\n", " "},
      {"\x01", " "},
      {"\x7F", " "},
      {"  ", " "},
      {" \t ", " "},
      {" \n", " "},
      {"\xC2\xA0", " "},           // U+00A0
      {" \xC2\xA0 ", " "},         // U+00A0 between spaces
      {"\xE2\x80\x89", " "},       // U+2009
      {"\xE3\x80\x80", " "},       // U+3000
      {"\xE2\x80\x8B", ""},        // U+200B
      {" \xE2\x80\x8B", " "},      // U+200B after a space
      {"\xEF\xBB\xBF", ""},        // U+FEFF
      {"\xE2\x80\x94", "—"},       // visible, behind a lead byte that stops the scan
      {" \xE2\x80\x94 ", " — "},   // the same between spaces
      {"\xC2\xAB\xC2\xBB", "«»"},  // U+00AB U+00BB
      {"\xEF\xBC\x81", "！"},      // U+FF01
      {"\xE1\x83\x90", "ა"},       // U+10D0
      {"\xD0\x9F\xD1\x80", "Пр"},  // not even looked at
      {"\xF0\x9F\x8E\x89", "🎉"},
      {"<b>", "<b>"},                   // text in kPlain
      {"<b>", "", TextKind::kHtml},     // inline
      {" <b> ", " ", TextKind::kHtml},  // inline between spaces
      {"<br>", " ", TextKind::kHtml},   // block
      {" <p> ", " ", TextKind::kHtml},  // block between spaces
      {"</p>", " ", TextKind::kHtml},
      {"<3", "<3", TextKind::kHtml},
      {" < ", " < ", TextKind::kHtml},
      {"<!-- c -->", "", TextKind::kHtml},
      {"&lt;p&gt;", "<p>", TextKind::kHtml},
  };
  for (const Case& c : cases) {
    for (std::size_t before = 1; before <= 50; ++before) {
      for (std::size_t after : {std::size_t{1}, std::size_t{17}}) {
        const std::string input =
            std::string(before, 'x') + std::string(c.insert) + std::string(after, 'y');
        const std::string expected =
            std::string(before, 'x') + std::string(c.result) + std::string(after, 'y');
        EXPECT_EQ(CleanText(input, c.kind, kNoLimit), expected)
            << "insert \"" << c.insert << "\" after " << before << ", before " << after;
      }
    }
  }
}

TEST(CleanTextBulkTest, WhatEndsARunIsTrimmedAtBothEndsOfTheText) {
  for (std::string_view space : {" ", "  ", "\t", "\xC2\xA0", "&nbsp;", " \xE2\x80\x8B"}) {
    for (std::size_t length = 1; length <= 40; ++length) {
      const std::string word(length, 'w');
      EXPECT_EQ(Plain(std::string(space) + word), word) << length;
      EXPECT_EQ(Plain(word + std::string(space)), word) << length;
      EXPECT_EQ(Html(word + "<p>" + std::string(space)), word) << length;
    }
  }
}

TEST(CleanTextBulkTest, RunsEndingAtBlockBoundariesAreCopiedWhole) {
  for (std::size_t length : {7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 100}) {
    std::string run;
    for (std::size_t i = 0; i < length; ++i) run += static_cast<char>('a' + i % 26);
    EXPECT_EQ(Plain(run), run);
    EXPECT_EQ(Html("<p>" + run + "</p>"), run);
    EXPECT_EQ(Html(run + "<b>" + run + "</b>"), run + run);
    EXPECT_EQ(Plain(run + "&amp;" + run), run + "&" + run);
  }
}

TEST(CleanTextBulkTest, SpacesAcrossBlockBoundariesCollapse) {
  // Single spaces are copied with the run, a second one ends it, wherever they fall.
  for (std::size_t at = 1; at <= 40; ++at) {
    const std::string left(at, 'a');
    EXPECT_EQ(Plain(left + "  b"), left + " b") << at;
    EXPECT_EQ(Plain(left + "   b"), left + " b") << at;
    EXPECT_EQ(Plain(left + " b c d e f g h i j k l m n o p q"),
              left + " b c d e f g h i j k l m n o p q")
        << at;
    EXPECT_EQ(Plain(left + " b  c"), left + " b c") << at;
  }
  std::string spaced;
  for (int i = 0; i < 20; ++i) spaced += "x ";
  EXPECT_EQ(Plain(spaced), spaced.substr(0, spaced.size() - 1));
}

TEST(CleanTextBulkTest, MultibyteCharactersStraddlingBlockEdgesAreKept) {
  for (std::size_t at = 0; at <= 40; ++at) {
    const std::string left(at, 'a');
    for (std::string_view text :
         {"Привет", "«Главное»", "日本語", "🎉🎉", "a—b", "“quoted”", "Ω©±"}) {
      EXPECT_EQ(Plain(left + std::string(text) + " tail"), left + std::string(text) + " tail")
          << text << " at " << at;
    }
    // A space character straddling the edge still collapses.
    EXPECT_EQ(Plain(left + "b\xE2\x80\x83\xC2\xA0"
                           "c"),
              left + "b c")
        << at;
  }
}

TEST(CleanTextBulkTest, MaxBytesCutsInsideALongRun) {
  const std::string ascii = "The quick brown fox jumps over the lazy dog and keeps on running far";
  const std::string cyrillic = "Быстрая коричневая лиса перепрыгивает через ленивую собаку";
  for (const std::string& text : {ascii, cyrillic, ascii + " — " + cyrillic}) {
    for (std::size_t max = 0; max <= text.size() + 1; ++max) {
      const std::string cut = Plain(text, max);
      std::size_t expected = std::min(max, text.size());
      while (expected > 0 && expected < text.size() &&
             (static_cast<unsigned char>(text[expected]) & 0xC0) == 0x80) {
        --expected;
      }
      if (expected > 0 && text[expected - 1] == ' ') --expected;
      EXPECT_EQ(cut, text.substr(0, expected)) << "max_bytes " << max;
    }
  }
}

TEST(CleanTextBulkTest, InputShorterThanABlockIsReadWithinItsBounds) {
  // A view into a larger buffer: what follows it must not be seen.
  const std::string buffer = "abc def<b>&amp;\xE2\x80\x94";
  for (std::size_t size = 0; size <= buffer.size(); ++size) {
    const std::string_view view(buffer.data(), size);
    EXPECT_EQ(Plain(view), Plain(std::string(view))) << size;
    EXPECT_EQ(Html(view), Html(std::string(view))) << size;
  }
  EXPECT_EQ(Html(std::string_view(buffer).substr(0, 9)), "abc def");
}

TEST(CleanTextBulkTest, OutputLongerThanTheInputIsWhole) {
  // "&nGt;" is 5 bytes for 6 of output (U+226B U+20D2).
  std::string input;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    input += i % 7 == 0 ? "&nGt; plain text between&nGt;" : "&nGt;";
    expected += i % 7 == 0 ? "\xE2\x89\xAB\xE2\x83\x92 plain text between\xE2\x89\xAB\xE2\x83\x92"
                           : "\xE2\x89\xAB\xE2\x83\x92";
  }
  EXPECT_EQ(Plain(input), expected);
  const std::string cut = Plain(input, 1000);
  EXPECT_TRUE(IsValidUtf8(cut));
  EXPECT_GE(cut.size(), 997u);
  EXPECT_LE(cut.size(), 1000u);
  EXPECT_EQ(expected.compare(0, cut.size(), cut), 0);
}

// --- Utf8Input ----------------------------------------------------------------------

TEST(CleanTextUtf8InputTest, ValidInputGivesTheSameResult) {
  for (std::string_view text : {
           std::string_view("Tom &amp; Jerry &mdash; &#8217;s \xC2\xA0 story"),
           std::string_view("<p>Привет, <b>мир</b>!</p>\n<p>«Главное» &laquo;x&raquo;</p>"),
           std::string_view("zero\xE2\x80\x8Bwidth \xEF\xBB\xBF\xE3\x80\x80 🎉 日本語"),
           std::string_view("<![CDATA[<p>a &amp; b</p>]]> <script>x</script> tail"),
       }) {
    for (TextKind kind : {TextKind::kPlain, TextKind::kHtml}) {
      for (std::size_t max : {kNoLimit, std::size_t{5}, std::size_t{20}}) {
        EXPECT_EQ(CleanText(text, kind, max, Utf8Input::kValid),
                  CleanText(text, kind, max, Utf8Input::kUnchecked))
            << text;
      }
    }
  }
}

TEST(CleanTextUtf8InputTest, InvalidInputWithKValidPassesBytesThroughWithinBounds) {
  // The caller broke the promise: bytes go through as they are, and nothing past the
  // text is read (the buffer goes on with what would complete the character).
  const std::string buffer = "a\xE2\x80\x94";
  const std::string_view truncated(buffer.data(), 3);
  EXPECT_EQ(CleanText(truncated, TextKind::kPlain, kNoLimit, Utf8Input::kValid), "a\xE2\x80");
  EXPECT_EQ(CleanText(truncated, TextKind::kPlain, kNoLimit), "a\xEF\xBF\xBD");
  EXPECT_EQ(CleanText("a\xFF"
                      "b\xC2",
                      TextKind::kHtml, kNoLimit, Utf8Input::kValid),
            "a\xFF"
            "b\xC2");
}

TEST(CleanTextUtf8InputTest, UncheckedInputIsRepairedWhereverTheInvalidByteIs) {
  for (std::size_t at = 0; at <= 40; ++at) {
    const std::string left(at, 'a');
    EXPECT_EQ(Plain(left + "\xFF" + "bc"), left + "\xEF\xBF\xBD" + "bc") << at;
    EXPECT_EQ(Plain(left + "\xC2" + " bc"), left + "\xEF\xBF\xBD" + " bc") << at;
    EXPECT_EQ(Plain(left + "\xE2\x80"), left + "\xEF\xBF\xBD") << at;
    EXPECT_EQ(Plain(left + "—\x80"), left + "—\xEF\xBF\xBD") << at;
    EXPECT_EQ(Plain(left + "Пр\xD0"), left + "Пр\xEF\xBF\xBD") << at;
  }
  // Invalid bytes in markup or past the cut change nothing.
  EXPECT_EQ(Html("a<b title=\"\xFF\">b</b><!-- \xC0 -->c"), "abc");
  EXPECT_EQ(Plain("Hello\xFF", 3), "Hel");
}

// --- References and tags by their fast paths ------------------------------------------

TEST(CleanTextTest, CommonReferencesDecodeLikeTheTable) {
  EXPECT_EQ(Plain("&amp;&quot;&lt;&gt;&apos;&copy;"), "&\"<>'©");
  EXPECT_EQ(Plain("a&nbsp;b&mdash;c&ndash;d&hellip;"), "a b—c–d…");
  EXPECT_EQ(Plain("&laquo;&raquo;&lsquo;&rsquo;&ldquo;&rdquo;"), "«»‘’“”");
  // At the very end, where fewer than 8 bytes are left.
  EXPECT_EQ(Plain("x&amp;"), "x&");
  EXPECT_EQ(Plain("x&hellip;"), "x…");
  // Near misses fall through to the full rules.
  EXPECT_EQ(Plain("&ampx; &amp &quo; &mdash &nbspx &QUOT; &lt"),
            "&ampx; & &quo; &mdash &nbspx \" <");
  EXPECT_EQ(Plain("&amp;hellip;&amp;nbsp;x"), "… x");
}

TEST(CleanTextTest, EveryBlockElementSeparatesWordsAndOthersDoNot) {
  for (std::string_view name :
       {"address", "article",    "aside",      "audio",  "br",  "caption", "center",   "dd",
        "details", "dialog",     "div",        "dl",     "dt",  "embed",   "fieldset", "figure",
        "footer",  "form",       "h1",         "h2",     "h3",  "h4",      "h5",       "h6",
        "header",  "hgroup",     "hr",         "iframe", "img", "li",      "main",     "menu",
        "nav",     "object",     "ol",         "option", "p",   "pre",     "section",  "summary",
        "table",   "tbody",      "td",         "tfoot",  "th",  "thead",   "tr",       "ul",
        "video",   "blockquote", "figcaption", "DIV",    "Br",  "fOoTeR"}) {
    const std::string n(name);
    EXPECT_EQ(Html("a<" + n + ">b</" + n + ">c"), "a b c") << name;
  }
  for (std::string_view name :
       {"a",    "b",   "i",    "em",       "strong",   "span",      "small",       "sup", "sub",
        "u",    "s",   "code", "abbr",     "time",     "mark",      "font",        "h7",  "pp",
        "divx", "d_v", "br-x", "tablexyz", "articles", "blockquot", "figcaptions", "x:p", "li2"}) {
    const std::string n(name);
    EXPECT_EQ(Html("a<" + n + ">b</" + n + ">c"), "abc") << name;
  }
  EXPECT_EQ(Html("a<noscript>b</noscript>c<NOSCRIPTS>d"), "acd");
}

// --- DecodeEntities -----------------------------------------------------------------

TEST(DecodeEntitiesTest, DecodesOneLevelOnly) {
  EXPECT_EQ(DecodeEntities("Tom &amp; Jerry"), "Tom & Jerry");
  EXPECT_EQ(DecodeEntities("&amp;amp; &amp;quot;"), "&amp; &quot;");
}

TEST(DecodeEntitiesTest, LeavesTagsAndWhitespaceAlone) {
  EXPECT_EQ(DecodeEntities("  <b>x</b>&nbsp;\t&lt;i&gt; "), "  <b>x</b>\xC2\xA0\t<i> ");
}

TEST(DecodeEntitiesTest, NumericLegacyAndUnknownFollowTheSameRules) {
  EXPECT_EQ(DecodeEntities("&#39;&#x4F60;&#150;&copy 1&copy2&foo;&hellip"),
            "'你–© 1&copy2&foo;&hellip");
  EXPECT_EQ(DecodeEntities("&#129;"), "\xC2\x81");
}

TEST(DecodeEntitiesTest, BadReferencesBecomeReplacementChar) {
  EXPECT_EQ(DecodeEntities("a&#0;b&#xD800;c&#x110000;d&#99999999999999999999;e"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD"
            "d\xEF\xBF\xBD"
            "e");
}

TEST(DecodeEntitiesTest, RepairsInvalidUtf8) {
  EXPECT_EQ(DecodeEntities("\xFF&amp;"), "\xEF\xBF\xBD&");
}

// --- XML character data (CleanXmlText, AppendXmlDecoded) --------------------------------

std::string XmlDecoded(std::string_view xml) {
  std::string out;
  AppendXmlDecoded(out, xml);
  return out;
}

TEST(AppendXmlDecodedTest, DecodesXmlsOwnReferencesOnly) {
  EXPECT_EQ(XmlDecoded("&lt;b&gt; &amp;amp; &quot;&apos; &#65;&#x42; &nbsp; &amp"),
            "<b> &amp; \"' AB &nbsp; &amp");
  // No Windows-1252 reading at the XML level; NUL and surrogates become U+FFFD.
  EXPECT_EQ(XmlDecoded("&#150;&#0;&#xD800;&#99999999999;"),
            "\xC2\x96\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(CleanXmlTextTest, ReadsEscapedMarkupAsMarkup) {
  EXPECT_EQ(CleanXmlText("&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Tw&lt;b&gt;o&lt;/b&gt;", TextKind::kHtml,
                         kNoLimit),
            "One Two");
  EXPECT_EQ(CleanXmlText("&lt;a href=&quot;x?a=1&amp;amp;b=&gt;&quot;&gt;link&lt;/a&gt; x &lt; y",
                         TextKind::kHtml, kNoLimit),
            "link x < y");
  EXPECT_EQ(CleanXmlText("&lt;b&gt;", TextKind::kPlain, kNoLimit), "<b>");
}

TEST(CleanXmlTextTest, DecodesBothLevelsOfReferences) {
  EXPECT_EQ(CleanXmlText("Tom &amp;amp; Jerry &amp;quot;x&amp;quot; &amp;amp;quot;",
                         TextKind::kHtml, kNoLimit),
            "Tom & Jerry \"x\" \"");
  // &#150; is U+0096 to XML (a C1 control: a space), an en dash only once escaped for HTML.
  EXPECT_EQ(CleanXmlText("a&#150;b &amp;#150; &#0;", TextKind::kPlain, kNoLimit),
            "a b – \xEF\xBF\xBD");
}

// Every input gives what CleanText gives for its decoded form, whether the one pass reads it
// to the end or leaves the rest (comments, CDATA, <script>, references inside names) to a
// decoded copy.
TEST(CleanXmlTextTest, EqualsCleanTextOfTheDecodedText) {
  constexpr std::string_view kInputs[] = {
      "&lt;!-- c --&gt;a&lt;br&gt;b",
      "x&lt;![CDATA[&lt;b&gt;in]]&gt;y",
      "&lt;script&gt;if (a &lt; b) x();&lt;/script&gt;after",
      "&lt;b&#62;bold&lt;/b&#x3e; &#60;p&#62;para",
      "&lt;a title=&#34;x&gt;y&#34;&gt;t&lt;/a&gt;",
      "&lt;a href='q&quot;'&gt;t",
      "&lt;b&#114;&gt;x&lt;/b&#114;&gt;y",
      "&lt;&amp;b&gt;",
      "&amp;&amp;&amp; &amp;co&#112;y; &amp;copy=1 &amp;copy&amp;",
      "&amp;#x2014;&amp;#8217;s&amp;nbsp;&amp;mdash;",
      "&lt;!DOCTYPE x&gt;&lt;?pi?&gt;&lt;/&gt;&lt;",
      "  &#32;&#9;spaced&#160;&#8203;out  ",
  };
  for (std::string_view input : kInputs) {
    for (TextKind kind : {TextKind::kHtml, TextKind::kPlain}) {
      for (std::size_t max_bytes : {kNoLimit, std::size_t{1}, std::size_t{4}, std::size_t{9}}) {
        EXPECT_EQ(CleanXmlText(input, kind, max_bytes),
                  CleanText(XmlDecoded(input), kind, max_bytes, Utf8Input::kValid))
            << input << " kind " << static_cast<int>(kind) << " max " << max_bytes;
      }
    }
  }
}

// Text that cleaning leaves as it is is copied without the Cleaner; a leading space (which
// cleaning always drops) sends the same text through the Cleaner. The two agree on random
// texts of every length around the 16-byte blocks, made of what decides the shortcut.
TEST(CleanTextTest, UnchangedTextIsCopiedAsTheCleanerWouldCleanIt) {
  constexpr std::string_view kPieces[] = {"a",
                                          "Z",
                                          "9",
                                          " ",
                                          "  ",
                                          "&",
                                          "&amp;",
                                          "<",
                                          "<b>",
                                          "\t",
                                          "\n",
                                          "\x7f",
                                          "\xc2\xa0",
                                          "\xe2\x80\x9c",
                                          "\xe2\x80\x8b",
                                          "\xd0\x96",
                                          "\xe4\xb8\xad",
                                          "\xef\xbb\xbf",
                                          "\xff",
                                          "\xd0",
                                          "\xe2\x80",
                                          "'",
                                          "\"",
                                          ";",
                                          "/"};
  std::uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>(state >> 33);
  };
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const std::size_t pieces = next() % 24;
    for (std::size_t j = 0; j < pieces; ++j) {
      // Mostly letters, so that many texts are unchanged.
      text += next() % 3 != 0 ? kPieces[next() % 3] : kPieces[next() % std::size(kPieces)];
    }
    const std::string spaced = " " + text;
    for (TextKind kind : {TextKind::kHtml, TextKind::kPlain}) {
      for (std::size_t max_bytes : {kNoLimit, std::size_t{5}, std::size_t{17}}) {
        for (Utf8Input input : {Utf8Input::kUnchecked, Utf8Input::kValid}) {
          if (input == Utf8Input::kValid && !IsValidUtf8(text)) continue;
          ASSERT_EQ(CleanText(text, kind, max_bytes, input),
                    CleanText(spaced, kind, max_bytes, input))
              << "[" << text << "] kind " << static_cast<int>(kind) << " max " << max_bytes;
        }
        if (IsValidUtf8(text)) {
          ASSERT_EQ(CleanXmlText(text, kind, max_bytes), CleanXmlText(spaced, kind, max_bytes))
              << "[" << text << "] kind " << static_cast<int>(kind) << " max " << max_bytes;
        }
      }
    }
  }
}

}  // namespace
}  // namespace newsmon::parse
