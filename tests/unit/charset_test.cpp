#include "daemon/parse/charset.h"

#include <gtest/gtest.h>

#include <ios>
#include <string>
#include <string_view>

#include "daemon/parse/utf8.h"

namespace newsmon::parse {
namespace {

using namespace std::string_literals;  // "…"s keeps embedded NULs

// "Казахстан" in the single-byte Cyrillic charsets.
constexpr std::string_view kKazakhstanCp1251 = "\xCA\xE0\xE7\xE0\xF5\xF1\xF2\xE0\xED";
constexpr std::string_view kKazakhstanKoi8r = "\xEB\xC1\xDA\xC1\xC8\xD3\xD4\xC1\xCE";

// Undeclared Russian news text of the length a feed item description has.
constexpr std::string_view kRussianNews =
    "Правительство Казахстана утвердило новый план развития транспортной инфраструктуры на "
    "ближайшие пять лет. По словам министра, в первую очередь будут отремонтированы дороги "
    "республиканского значения, а также построены новые мосты через реки Иртыш и Урал. Общий "
    "объём финансирования составит более триллиона тенге. Эксперты отмечают, что реализация "
    "программы позволит создать тысячи рабочих мест в регионах.";

enum class Cyrillic { kWindows1251, kKoi8r };

// Encodes ASCII and Russian letters given as UTF-8 into a single-byte charset by table, so
// that the tests do not check iconv against itself.
std::string EncodeCyrillic(std::string_view utf8, Cyrillic charset) {
  // KOI8-R 0xC0-0xDF are the lower-case letters in this order; 0xE0-0xFF the capitals.
  constexpr std::u32string_view kKoi8rOrder = U"юабцдефгхийклмнопярстужвьызшэщчъ";
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    char32_t cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F);
    bool capital = (cp >= U'А' && cp <= U'Я') || cp == U'Ё';
    char32_t lower = cp == U'Ё' ? U'ё' : capital ? cp + 0x20 : cp;
    unsigned code;
    if (charset == Cyrillic::kWindows1251) {
      code = lower == U'ё' ? 0xB8 : 0xE0 + (lower - U'а');
      if (capital) code -= lower == U'ё' ? 0x10 : 0x20;
    } else {
      code = lower == U'ё' ? 0xA3 : 0xC0 + kKoi8rOrder.find(lower);
      if (capital) code += lower == U'ё' ? 0x10 : 0x20;
    }
    EXPECT_TRUE(lower == U'ё' || (lower >= U'а' && lower <= U'я'))
        << "not Russian: U+" << std::hex << static_cast<unsigned>(cp);
    out += static_cast<char>(code);
  }
  return out;
}

std::string Converted(std::string body, const std::string& charset) {
  ConvertToUtf8(body, charset);
  EXPECT_TRUE(IsValidUtf8(body)) << charset;
  return body;
}

// Detects and converts, as parse does.
std::string Decode(std::string body, std::string_view content_type, Markup markup) {
  return Converted(body, DetectCharset(body, content_type, markup));
}

std::string Xml(std::string_view encoding, std::string_view text) {
  return "<?xml version=\"1.0\" encoding=\"" + std::string(encoding) + "\"?><rss><title>" +
         std::string(text) + "</title></rss>";
}

TEST(CharsetTest, EncodingHelperMatchesKnownBytes) {
  EXPECT_EQ(EncodeCyrillic("Казахстан", Cyrillic::kWindows1251), kKazakhstanCp1251);
  EXPECT_EQ(EncodeCyrillic("Казахстан", Cyrillic::kKoi8r), kKazakhstanKoi8r);
  EXPECT_EQ(EncodeCyrillic("Ёлка ёж", Cyrillic::kWindows1251), "\xA8\xEB\xEA\xE0 \xB8\xE6");
  EXPECT_EQ(EncodeCyrillic("Ёлка ёж", Cyrillic::kKoi8r), "\xB3\xCC\xCB\xC1 \xA3\xD6");
}

TEST(CharsetTest, ValidUtf8WithoutBomIsUtf8AndUnchanged) {
  std::string body = "<rss><title>Казахстан – café</title></rss>";
  EXPECT_EQ(DetectCharset(body, "", Markup::kXml), "UTF-8");
  EXPECT_EQ(DetectCharset(body, "", Markup::kHtml), "UTF-8");
  EXPECT_EQ(Converted(body, "UTF-8"), body);
}

TEST(CharsetTest, Utf8BomIsDetectedAndStripped) {
  std::string body = "\xEF\xBB\xBF<rss>Казахстан</rss>";
  EXPECT_EQ(DetectCharset(body, "", Markup::kXml), "UTF-8");
  EXPECT_EQ(Decode(body, "", Markup::kXml), "<rss>Казахстан</rss>");
}

TEST(CharsetTest, Utf16LeBomIsDetectedAndConverted) {
  std::string body = "\xFF\xFE<\0a\0\x1A\x04\x30\x04>\0"s;  // "<aКа>"
  EXPECT_EQ(DetectCharset(body, "", Markup::kXml), "UTF-16LE");
  EXPECT_EQ(Decode(body, "", Markup::kXml), "<aКа>");
}

TEST(CharsetTest, Utf16BeBomIsDetectedAndConverted) {
  std::string body = "\xFE\xFF\0<\0a\x04\x1A\x04\x30\0>"s;
  EXPECT_EQ(DetectCharset(body, "", Markup::kXml), "UTF-16BE");
  EXPECT_EQ(Decode(body, "", Markup::kXml), "<aКа>");
}

TEST(CharsetTest, Utf32BomsAreDetectedAndConverted) {
  std::string le = "\xFF\xFE\0\0<\0\0\0\x1A\x04\0\0"s;
  std::string be = "\0\0\xFE\xFF\0\0\0<\0\0\x04\x1A"s;
  EXPECT_EQ(DetectCharset(le, "", Markup::kXml), "UTF-32LE");
  EXPECT_EQ(DetectCharset(be, "", Markup::kXml), "UTF-32BE");
  EXPECT_EQ(Decode(le, "", Markup::kXml), "<К");
  EXPECT_EQ(Decode(be, "", Markup::kXml), "<К");
}

TEST(CharsetTest, BomOutranksContentTypeAndDeclaration) {
  std::string body = "\xEF\xBB\xBF" + Xml("KOI8-R", "Казахстан");
  EXPECT_EQ(DetectCharset(body, "text/xml; charset=windows-1251", Markup::kXml), "UTF-8");
  // ConvertToUtf8 follows the BOM too, whatever label it is given.
  EXPECT_EQ(Converted(body, "windows-1251"), Xml("KOI8-R", "Казахстан"));
}

TEST(CharsetTest, Utf16WithoutBomIsFoundByTheXmlNulPattern) {
  std::string le = "<\0?\0x\0m\0l\0 \0?\0>\0<\0a\0\x1A\x04/\0>\0"s;
  std::string be = "\0<\0?\0x\0m\0l\0 \0?\0>\0<\0a\x04\x1A\0/\0>"s;
  EXPECT_EQ(DetectCharset(le, "", Markup::kXml), "UTF-16LE");
  EXPECT_EQ(DetectCharset(be, "", Markup::kXml), "UTF-16BE");
  EXPECT_EQ(Decode(le, "", Markup::kXml), "<?xml ?><aК/>");
  EXPECT_EQ(Decode(be, "", Markup::kXml), "<?xml ?><aК/>");
}

TEST(CharsetTest, JsonIsUtf8UnlessBomHeaderOrNulPatternSayOtherwise) {
  // Not valid UTF-8, but RFC 8259 JSON is UTF-8: no guessing, bad bytes are repaired.
  std::string latin = "{\"t\":\"caf\xE9\"}";
  EXPECT_EQ(DetectCharset(latin, "application/json", Markup::kJson), "UTF-8");
  EXPECT_EQ(Decode(latin, "", Markup::kJson), "{\"t\":\"caf\xEF\xBF\xBD\"}");
  EXPECT_EQ(DetectCharset(latin, "application/json; charset=iso-8859-1", Markup::kJson),
            "windows-1252");
  EXPECT_EQ(DetectCharset("{\0\"\0a\0\"\0:\0\x31\0}\0"s, "", Markup::kJson), "UTF-16LE");
  EXPECT_EQ(DetectCharset("\0{\0\"\0a\0\"\0:\0\x31\0}"s, "", Markup::kJson), "UTF-16BE");
}

TEST(CharsetTest, Windows1251FromContentTypeConverts) {
  std::string body = "<rss><title>" + std::string(kKazakhstanCp1251) + "</title></rss>";
  EXPECT_EQ(DetectCharset(body, "text/xml; charset=windows-1251", Markup::kXml), "windows-1251");
  EXPECT_EQ(Decode(body, "text/xml; charset=windows-1251", Markup::kXml),
            "<rss><title>Казахстан</title></rss>");
}

TEST(CharsetTest, Koi8rFromXmlDeclarationConverts) {
  std::string body = "  \n" + Xml("KOI8-R", kKazakhstanKoi8r);
  EXPECT_EQ(DetectCharset(body, "text/xml", Markup::kXml), "KOI8-R");
  EXPECT_EQ(Decode(body, "", Markup::kXml), "  \n" + Xml("KOI8-R", "Казахстан"));
  EXPECT_EQ(DetectCharset("<?xml version='1.0' encoding='koi8-r' standalone='yes'?><a/>", "",
                          Markup::kXml),
            "KOI8-R");
}

TEST(CharsetTest, XmlStylesheetInstructionIsNotADeclaration) {
  std::string body = "<?xml-stylesheet encoding=\"KOI8-R\"?><rss>Казахстан</rss>";
  EXPECT_EQ(DetectCharset(body, "", Markup::kXml), "UTF-8");
}

TEST(CharsetTest, ContentTypeCharsetOutranksDocumentDeclaration) {
  std::string xml = Xml("KOI8-R", kKazakhstanCp1251);
  EXPECT_EQ(DetectCharset(xml, "text/xml; charset=cp1251", Markup::kXml), "windows-1251");
  EXPECT_EQ(Decode(xml, "text/xml; charset=cp1251", Markup::kXml), Xml("KOI8-R", "Казахстан"));
  std::string html = "<meta charset=koi8-r><p>" + std::string(kKazakhstanCp1251);
  EXPECT_EQ(DetectCharset(html, "text/html;charset=windows-1251", Markup::kHtml), "windows-1251");
  // Without a charset parameter the declaration decides.
  EXPECT_EQ(DetectCharset(xml, "text/xml", Markup::kXml), "KOI8-R");
  EXPECT_EQ(DetectCharset(html, "text/html", Markup::kHtml), "KOI8-R");
}

TEST(CharsetTest, ContentTypeCharsetIsReadQuotedOrNotInAnyCase) {
  std::string body = "<a/>";
  auto detect = [&](std::string_view content_type) {
    return DetectCharset(body, content_type, Markup::kXml);
  };
  EXPECT_EQ(detect("text/xml; Charset=\"windows-1251\""), "windows-1251");
  EXPECT_EQ(detect("text/xml;CHARSET=KOI8-R"), "KOI8-R");
  EXPECT_EQ(detect("text/xml; format=flowed; charset = koi8-r ; x=y"), "KOI8-R");
  EXPECT_EQ(detect("text/xml; title=\"a;charset=koi8-r\"; charset=cp1251"), "windows-1251");
  EXPECT_EQ(detect("text/xml; charset="), "UTF-8");
  EXPECT_EQ(detect("text/xml; charset"), "UTF-8");
  EXPECT_EQ(detect("text/xml"), "UTF-8");
}

TEST(CharsetTest, HtmlMetaCharsetAttributeIsFound) {
  std::string body = "<!DOCTYPE html><html><head><META Charset=\"Windows-1251\"><title>" +
                     std::string(kKazakhstanCp1251) + "</title>";
  EXPECT_EQ(DetectCharset(body, "", Markup::kHtml), "windows-1251");
  EXPECT_EQ(Decode(body, "text/html", Markup::kHtml),
            "<!DOCTYPE html><html><head><META Charset=\"Windows-1251\"><title>Казахстан</title>");
  EXPECT_EQ(DetectCharset("<head><meta charset=\"koi8-r\"/>", "", Markup::kHtml), "KOI8-R");
  EXPECT_EQ(DetectCharset("<meta name=x charset='koi8-r'>", "", Markup::kHtml), "KOI8-R");
}

TEST(CharsetTest, HtmlMetaHttpEquivContentIsFoundInAnyAttributeOrder) {
  EXPECT_EQ(DetectCharset("<head><meta http-equiv=\"Content-Type\" "
                          "content=\"text/html; charset=windows-1251\">",
                          "", Markup::kHtml),
            "windows-1251");
  EXPECT_EQ(DetectCharset("<head><meta content='text/html;charset=KOI8-R' "
                          "HTTP-EQUIV=content-type>",
                          "", Markup::kHtml),
            "KOI8-R");
  EXPECT_EQ(DetectCharset("<meta http-equiv=Content-Type content=\"text/html; "
                          "charset='koi8-r'\">",
                          "", Markup::kHtml),
            "KOI8-R");
  // A content charset without http-equiv Content-Type declares nothing.
  EXPECT_EQ(DetectCharset("<meta name=description content=\"charset=koi8-r\">", "", Markup::kHtml),
            "UTF-8");
}

TEST(CharsetTest, HtmlMetaInCommentsValuesOrPastTheFirstKilobyteIsIgnored) {
  EXPECT_EQ(DetectCharset("<!-- <meta charset=koi8-r> --><p>", "", Markup::kHtml), "UTF-8");
  EXPECT_EQ(DetectCharset("<a title='<meta charset=koi8-r>'>x</a>", "", Markup::kHtml), "UTF-8");
  std::string late = "<head><title>" + std::string(1100, 'x') + "</title><meta charset=koi8-r>";
  EXPECT_EQ(DetectCharset(late, "", Markup::kHtml), "UTF-8");
  // The first meta that declares a usable charset wins.
  EXPECT_EQ(DetectCharset("<meta charset=koi8-r><meta charset=cp1251>", "", Markup::kHtml),
            "KOI8-R");
  EXPECT_EQ(DetectCharset("<meta charset='a b'><meta charset=cp1251>", "", Markup::kHtml),
            "windows-1251");
}

TEST(CharsetTest, DeclaredUtf16WithoutBomOrNulsIsUtf8) {
  EXPECT_EQ(DetectCharset(Xml("UTF-16", "Казахстан"), "", Markup::kXml), "UTF-8");
  EXPECT_EQ(DetectCharset("<meta charset=utf-16le><p>Казахстан", "", Markup::kHtml), "UTF-8");
  // A server can send UTF-16, so the header is believed.
  EXPECT_EQ(DetectCharset("x\0"s, "text/plain; charset=utf-16", Markup::kXml), "UTF-16LE");
}

TEST(CharsetTest, DeclaredUtf8IsKeptOnInvalidBytesAndRepaired) {
  std::string body = Xml("UTF-8", kKazakhstanCp1251);
  EXPECT_EQ(DetectCharset(body, "", Markup::kXml), "UTF-8");
  std::string decoded = Decode(body, "", Markup::kXml);
  EXPECT_EQ(decoded.find("Казахстан"), std::string::npos);
  EXPECT_NE(decoded.find(kReplacementChar), std::string::npos);
}

TEST(CharsetTest, Latin1LabelsReadAsWindows1252) {
  std::string body = "\x93quoted\x94 caf\xE9 \x80";
  for (std::string_view label : {"iso-8859-1", "ISO_8859-1:1987", "latin1", "us-ascii", "cp1252"}) {
    std::string content_type = "text/plain; charset=" + std::string(label);
    EXPECT_EQ(DetectCharset(body, content_type, Markup::kXml), "windows-1252") << label;
  }
  EXPECT_EQ(Converted(body, "ISO-8859-1"), "“quoted” café €");
}

TEST(CharsetTest, Windows1252UndefinedBytesBecomeReplacementChars) {
  std::string fffd(kReplacementChar);
  EXPECT_EQ(Converted("a\x81"
                      "b\x8D\x8F\x90\x9D"
                      "c",
                      "windows-1252"),
            "a" + fffd + "b" + fffd + fffd + fffd + fffd + "c");
}

TEST(CharsetTest, UchardetTellsUndeclaredWindows1251FromKoi8r) {
  std::string cp1251 = EncodeCyrillic(kRussianNews, Cyrillic::kWindows1251);
  std::string koi8r = EncodeCyrillic(kRussianNews, Cyrillic::kKoi8r);
  std::string rss_cp1251 = "<rss><description>" + cp1251 + "</description></rss>";
  EXPECT_EQ(DetectCharset(cp1251, "", Markup::kHtml), "windows-1251");
  EXPECT_EQ(DetectCharset(koi8r, "", Markup::kHtml), "KOI8-R");
  EXPECT_EQ(DetectCharset(rss_cp1251, "text/xml", Markup::kXml), "windows-1251");
  EXPECT_EQ(Decode(cp1251, "", Markup::kXml), kRussianNews);
  EXPECT_EQ(Decode(koi8r, "", Markup::kXml), kRussianNews);
}

TEST(CharsetTest, Utf8WithRareDamageIsStillUtf8) {
  // A guess would read the whole text as some legacy charset to save one character.
  std::string body = "\xD0" + std::string(kRussianNews) + "\x92";
  EXPECT_EQ(DetectCharset(body, "", Markup::kXml), "UTF-8");
  std::string fffd(kReplacementChar);
  EXPECT_EQ(Decode(body, "", Markup::kXml), fffd + std::string(kRussianNews) + fffd);
  // A body cut off inside its last character is UTF-8 too.
  std::string cut = "Казахстан";
  cut.pop_back();
  EXPECT_EQ(DetectCharset(cut, "", Markup::kXml), "UTF-8");
  EXPECT_EQ(Decode(cut, "", Markup::kXml), "Казахста" + fffd);
}

TEST(CharsetTest, InvalidUtf8IsRepaired) {
  std::string fffd(kReplacementChar);
  EXPECT_EQ(Converted("ok\xC0\xAFok\xED\xA0\x80!\xF4\x90\x80\x80", "UTF-8"),
            "ok" + fffd + fffd + "ok" + fffd + fffd + fffd + "!" + fffd + fffd + fffd + fffd);
  EXPECT_EQ(Converted("\xEF\xBB\xBF\xFF", "utf8"), fffd);
}

TEST(CharsetTest, TruncatedAndInvalidUtf16IsRepaired) {
  std::string fffd(kReplacementChar);
  // Odd length: the last byte is half a code unit.
  EXPECT_EQ(Converted("\xFF\xFE"
                      "a\0b"s,
                      "UTF-16LE"),
            "a" + fffd);
  EXPECT_EQ(Converted("\0a\0"s, "UTF-16BE"), "a" + fffd);
  // A lone low surrogate mid-text, then a high surrogate cut off by the end.
  EXPECT_EQ(Converted("a\0\x00\xDC"
                      "b\0\x3D\xD8"s,
                      "UTF-16LE"),
            "a" + fffd + "b" + fffd);
  // A surrogate pair is fine: U+1F600.
  EXPECT_EQ(Converted("\x3D\xD8\x00\xDE"s, "UTF-16LE"), "\xF0\x9F\x98\x80");
}

TEST(CharsetTest, MultiByteLegacyCharsetsConvertAndRepairTruncation) {
  std::string fffd(kReplacementChar);
  EXPECT_EQ(DetectCharset("<a/>", "text/xml; charset=gb2312", Markup::kXml), "GBK");
  EXPECT_EQ(Converted("\xD6\xD0\xCE\xC4", "gb2312"), "中文");
  EXPECT_EQ(Converted("\xD6\xD0\xCE", "GBK"), "中" + fffd);
  EXPECT_EQ(Converted("\x93\xFA\x96\x7B", "Shift_JIS"), "日本");
}

TEST(CharsetTest, UnknownLabelIsReturnedAndReadAsUtf8) {
  std::string body = "<a>Казахстан\xFF</a>";
  EXPECT_EQ(DetectCharset(body, "text/xml; charset=x-no-such-charset", Markup::kXml),
            "x-no-such-charset");
  EXPECT_EQ(Converted(body, "x-no-such-charset"),
            "<a>Казахстан" + std::string(kReplacementChar) + "</a>");
  EXPECT_EQ(Converted("\xEF\xBB\xBFok", "x-no-such-charset"), "ok");
}

TEST(CharsetTest, MalformedLabelIsIgnored) {
  // iconv_open would read "//TRANSLIT"; a label with '/' or spaces is no label at all, so
  // detection moves on to the document.
  std::string body = Xml("KOI8-R", kKazakhstanKoi8r);
  EXPECT_EQ(DetectCharset(body, "text/xml; charset=cp1251//TRANSLIT", Markup::kXml), "KOI8-R");
  EXPECT_EQ(DetectCharset(body, "text/xml; charset=\"a b\"", Markup::kXml), "KOI8-R");
  EXPECT_EQ(Converted("ok\xFF", "UTF-8//IGNORE"), "ok" + std::string(kReplacementChar));
}

TEST(CharsetTest, LabelsAreNormalisedToIconvNames) {
  struct Case {
    std::string_view label;
    std::string_view name;
  };
  for (const auto& [label, name] : std::initializer_list<Case>{
           {"utf8", "UTF-8"},
           {"Unicode-1-1-UTF-8", "UTF-8"},
           {"x-cp1251", "windows-1251"},
           {"CP1251", "windows-1251"},
           {"WINDOWS-1251", "windows-1251"},
           {"cp1250", "windows-1250"},
           {"koi8", "KOI8-R"},
           {"KOI8R", "KOI8-R"},
           {"koi8-u", "KOI8-U"},
           {"ascii", "windows-1252"},
           {"iso8859-5", "ISO-8859-5"},
           {"iso_8859-5:1988", "ISO-8859-5"},
           {"ISO-8859-15", "ISO-8859-15"},
           {"EUC-TW", "EUC-TW"},  // not in the table: passed through for iconv
           {"iso-8859-9", "windows-1254"},
           {"gbk", "GBK"},
           {"shift_jis", "CP932"},
           {"EUC-KR", "CP949"},
           {"big5", "BIG5-HKSCS"},
           {"utf-16", "UTF-16LE"},
           {"UTF-16BE", "UTF-16BE"},
           {"IBM855", "IBM855"},
       }) {
    std::string content_type = "text/plain; charset=" + std::string(label);
    EXPECT_EQ(DetectCharset("x", content_type, Markup::kXml), name) << label;
  }
}

}  // namespace
}  // namespace newsmon::parse
