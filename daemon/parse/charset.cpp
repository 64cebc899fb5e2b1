#include "daemon/parse/charset.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <iconv.h>
#include <uchardet/uchardet.h>

#include "daemon/parse/ascii.h"
#include "daemon/parse/utf8.h"

namespace newsmon::parse {
namespace {

constexpr std::string_view kUtf8 = "UTF-8";
constexpr std::string_view kWindows1252 = "windows-1252";

// WHATWG's meta prescan looks at the first 1024 bytes; an XML declaration must be at the
// very start, so the same window is plenty for it.
constexpr std::size_t kDeclarationBytes = 1024;
// uchardet's verdict settles long before this; feeding it a whole 10 MB page only costs time.
constexpr std::size_t kGuessBytes = 64 * 1024;
// Real labels are short ("iso_8859-1:1987" is among the longest); anything longer is junk.
constexpr std::size_t kMaxLabelSize = 40;
// Bytes of well-formed multi-byte UTF-8 needed per invalid byte for a body to count as
// damaged UTF-8 rather than another encoding. Legacy text almost never forms valid
// sequences (a windows-1251 or KOI8-R letter pair is invalid UTF-8 nearly every time), while
// a UTF-8 feed with one stray windows-1252 quote has hundreds of good bytes per bad one.
constexpr std::size_t kUtf8BytesPerError = 8;
// Enough errors to judge by; stops a large legacy body from being walked byte by byte.
constexpr std::size_t kMaxCountedErrors = 256;

// Label (lower case) to the name iconv knows, after the WHATWG Encoding spec. Only labels
// that need mapping are here: ISO-8859-N and windows-125N spellings are handled by rule in
// CanonicalCharset, and other labels iconv knows pass through as written.
constexpr std::pair<std::string_view, std::string_view> kLabels[] = {
    {"utf-8", kUtf8},
    {"utf8", kUtf8},
    {"unicode-1-1-utf-8", kUtf8},
    {"unicode11utf8", kUtf8},
    {"unicode20utf8", kUtf8},
    {"x-unicode20utf8", kUtf8},
    // Browsers read ASCII and Latin-1 as windows-1252: pages so labelled use 0x80-0x9F for
    // curly quotes and dashes, never for C1 controls.
    {"us-ascii", kWindows1252},
    {"ascii", kWindows1252},
    {"ansi_x3.4-1968", kWindows1252},
    {"latin1", kWindows1252},
    {"l1", kWindows1252},
    {"cp819", kWindows1252},
    {"ibm819", kWindows1252},
    {"csisolatin1", kWindows1252},
    {"iso-ir-100", kWindows1252},
    {"latin2", "ISO-8859-2"},
    {"l2", "ISO-8859-2"},
    {"cyrillic", "ISO-8859-5"},
    {"greek", "ISO-8859-7"},
    {"hebrew", "ISO-8859-8"},
    {"iso-8859-8-i", "ISO-8859-8"},
    {"koi8-r", "KOI8-R"},
    {"koi8r", "KOI8-R"},
    {"koi8_r", "KOI8-R"},
    {"koi8", "KOI8-R"},
    {"koi", "KOI8-R"},
    {"cskoi8r", "KOI8-R"},
    {"koi8-u", "KOI8-U"},
    {"koi8-ru", "KOI8-U"},
    {"ibm866", "IBM866"},
    {"cp866", "IBM866"},
    {"866", "IBM866"},
    {"csibm866", "IBM866"},
    {"x-mac-cyrillic", "MAC-CYRILLIC"},
    {"x-mac-ukrainian", "MAC-CYRILLIC"},
    {"macintosh", "MACINTOSH"},
    {"mac", "MACINTOSH"},
    {"x-mac-roman", "MACINTOSH"},
    {"csmacintosh", "MACINTOSH"},
    {"windows-874", "windows-874"},
    {"dos-874", "windows-874"},
    {"tis-620", "windows-874"},
    // WHATWG reads GB2312 as its superset GBK, Big5 as Big5-HKSCS, Shift_JIS as Microsoft's
    // CP932 and EUC-KR as CP949, since that is what servers that say so actually send.
    {"gbk", "GBK"},
    {"gb2312", "GBK"},
    {"gb_2312", "GBK"},
    {"gb_2312-80", "GBK"},
    {"chinese", "GBK"},
    {"csgb2312", "GBK"},
    {"x-gbk", "GBK"},
    {"gb18030", "GB18030"},
    {"big5", "BIG5-HKSCS"},
    {"big5-hkscs", "BIG5-HKSCS"},
    {"cn-big5", "BIG5-HKSCS"},
    {"csbig5", "BIG5-HKSCS"},
    {"x-x-big5", "BIG5-HKSCS"},
    {"euc-jp", "EUC-JP"},
    {"x-euc-jp", "EUC-JP"},
    {"iso-2022-jp", "ISO-2022-JP"},
    {"shift_jis", "CP932"},
    {"shift-jis", "CP932"},
    {"sjis", "CP932"},
    {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"},
    {"ms932", "CP932"},
    {"windows-31j", "CP932"},
    {"euc-kr", "CP949"},
    {"cp949", "CP949"},
    {"windows-949", "CP949"},
    {"ks_c_5601-1987", "CP949"},
    {"korean", "CP949"},
    // "UTF-16" without a BOM is little-endian in practice (WHATWG says the same).
    {"utf-16", "UTF-16LE"},
    {"utf-16le", "UTF-16LE"},
    {"ucs-2", "UTF-16LE"},
    {"unicode", "UTF-16LE"},
    {"csunicode", "UTF-16LE"},
    {"iso-10646-ucs-2", "UTF-16LE"},
    {"unicodefeff", "UTF-16LE"},
    {"utf-16be", "UTF-16BE"},
    {"unicodefffe", "UTF-16BE"},
    {"utf-32", "UTF-32LE"},
    {"utf-32le", "UTF-32LE"},
    {"utf-32be", "UTF-32BE"},
};

struct Bom {
  std::string_view bytes;
  std::string_view charset;
};

// UTF-32LE's mark starts with UTF-16LE's, so it is tried first.
constexpr Bom kBoms[] = {
    {std::string_view("\xFF\xFE\0\0", 4), "UTF-32LE"},
    {std::string_view("\0\0\xFE\xFF", 4), "UTF-32BE"},
    {"\xEF\xBB\xBF", kUtf8},
    {"\xFF\xFE", "UTF-16LE"},
    {"\xFE\xFF", "UTF-16BE"},
};

// Characters of charset labels. Anything else, '/' above all (iconv_open reads "//IGNORE"
// and "//TRANSLIT" suffixes), means the label is not one.
bool IsLabelChar(char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '-' || c == '_' || c == '.' || c == ':' ||
         c == '+';
}

std::size_t FindNoCase(std::string_view text, std::string_view needle, std::size_t from) {
  for (std::size_t i = from; i + needle.size() <= text.size(); ++i) {
    if (EqualsNoCase(text.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

std::size_t SkipSpace(std::string_view s, std::size_t i) {
  while (i < s.size() && IsMarkupSpace(s[i])) ++i;
  return i;
}

bool IsWide(std::string_view charset) {
  return charset.starts_with("UTF-16") || charset.starts_with("UTF-32");
}

// Bytes per code unit, the step to skip past an invalid one.
std::size_t CodeUnitSize(std::string_view charset) {
  if (charset.starts_with("UTF-16")) return 2;
  if (charset.starts_with("UTF-32")) return 4;
  return 1;
}

std::optional<Bom> FindBom(std::string_view body) {
  for (const Bom& bom : kBoms) {
    if (body.starts_with(bom.bytes)) return bom;
  }
  return std::nullopt;
}

// "windows-125N", "cp125N", "x-cp125N" -> "windows-125N".
std::optional<std::string> WindowsCodePage(std::string_view lower) {
  for (std::string_view prefix : {"windows-", "x-cp", "cp"}) {
    if (!lower.starts_with(prefix)) continue;
    std::string_view page = lower.substr(prefix.size());
    if (page.size() == 4 && page.starts_with("125") && page[3] >= '0' && page[3] <= '8') {
      return "windows-" + std::string(page);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// "iso-8859-N", "iso_8859-N[:year]", "iso8859-N", "iso8859N" -> "ISO-8859-N", except the
// parts WHATWG reads as their Windows supersets.
std::optional<std::string> Iso8859Part(std::string_view lower) {
  for (std::string_view prefix : {"iso-8859-", "iso_8859-", "iso8859-", "iso8859"}) {
    if (!lower.starts_with(prefix)) continue;
    std::string_view rest = lower.substr(prefix.size());
    std::size_t digits = 0;
    while (digits < rest.size() && digits < 2 && IsAsciiDigit(rest[digits])) ++digits;
    if (digits == 0 || (digits < rest.size() && rest[digits] != ':')) return std::nullopt;
    int part = 0;
    for (char c : rest.substr(0, digits)) part = part * 10 + (c - '0');
    if (part == 1) return std::string(kWindows1252);
    if (part == 9) return "windows-1254";
    if (part == 11) return "windows-874";
    if (part < 2 || part > 16 || part == 12) return std::nullopt;
    return "ISO-8859-" + std::to_string(part);
  }
  return std::nullopt;
}

// The iconv name for a charset label; nullopt when `label` is empty or not shaped like a
// label at all, so that detection moves on to the next clue. A well-formed label we do not
// know is returned as written: iconv may know it, and ConvertToUtf8 falls back when not.
std::optional<std::string> CanonicalCharset(std::string_view label) {
  label = TrimMarkupSpace(label);
  if (label.empty() || label.size() > kMaxLabelSize) return std::nullopt;
  std::string lower;
  lower.reserve(label.size());
  for (char c : label) {
    if (!IsLabelChar(c)) return std::nullopt;
    lower += AsciiLower(c);
  }
  for (const auto& [alias, name] : kLabels) {
    if (lower == alias) return std::string(name);
  }
  if (auto name = WindowsCodePage(lower)) return name;
  if (auto name = Iso8859Part(lower)) return name;
  return std::string(label);
}

// The charset parameter of an HTTP Content-Type value (RFC 9110 §8.3: parameters after ';',
// names case-insensitive, values a token or a quoted string).
std::string_view ContentTypeCharset(std::string_view content_type) {
  std::size_t i = content_type.find(';');
  while (i < content_type.size()) {
    ++i;  // past ';'
    std::size_t name_end = content_type.find_first_of("=;", i);
    if (name_end == std::string_view::npos) return {};
    std::string_view name = TrimMarkupSpace(content_type.substr(i, name_end - i));
    i = name_end;
    if (content_type[i] == ';') continue;  // a parameter without a value
    i = SkipSpace(content_type, i + 1);
    std::string_view value;
    if (i < content_type.size() && content_type[i] == '"') {
      std::size_t close = content_type.find('"', i + 1);
      if (close == std::string_view::npos) close = content_type.size();
      value = content_type.substr(i + 1, close - i - 1);
      i = close;
    } else {
      std::size_t end = std::min(content_type.find(';', i), content_type.size());
      value = TrimMarkupSpace(content_type.substr(i, end - i));
      i = end;
    }
    if (EqualsNoCase(name, "charset")) return value;
    i = content_type.find(';', i);
  }
  return {};
}

// The encoding pseudo-attribute of an XML declaration at the start of `body`.
std::string_view XmlDeclaredEncoding(std::string_view body) {
  std::string_view head = body.substr(0, kDeclarationBytes);
  std::size_t i = SkipSpace(head, 0);
  // "<?xml-stylesheet" is a processing instruction, not the declaration.
  if (!StartsWithNoCase(head.substr(i), "<?xml") || i + 5 >= head.size() ||
      !IsMarkupSpace(head[i + 5])) {
    return {};
  }
  std::size_t end = head.find("?>", i);
  if (end == std::string_view::npos) return {};
  std::string_view declaration = head.substr(i + 5, end - i - 5);
  for (std::size_t at = 0; (at = FindNoCase(declaration, "encoding", at)) != std::string_view::npos;
       at += 8) {
    if (!IsMarkupSpace(declaration[at - 1]))
      continue;  // at >= 1: the declaration starts with a space
    std::size_t j = SkipSpace(declaration, at + 8);
    if (j >= declaration.size() || declaration[j] != '=') continue;
    j = SkipSpace(declaration, j + 1);
    if (j >= declaration.size()) return {};
    char quote = declaration[j];
    if (quote != '"' && quote != '\'') return {};
    std::size_t close = declaration.find(quote, j + 1);
    if (close == std::string_view::npos) return {};
    return declaration.substr(j + 1, close - j - 1);
  }
  return {};
}

struct Attribute {
  std::string_view name;
  std::string_view value;
};

// Reads the next attribute of a tag at `i` (WHATWG "get an attribute"); false at the '>'
// that ends the tag or at the end of `s`.
bool NextAttribute(std::string_view s, std::size_t& i, Attribute& attribute) {
  while (i < s.size() && (IsMarkupSpace(s[i]) || s[i] == '/')) ++i;
  if (i >= s.size() || s[i] == '>') return false;
  std::size_t start = i++;  // a leading '=' belongs to the name
  while (i < s.size() && !IsMarkupSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/') ++i;
  attribute = {s.substr(start, i - start), {}};
  i = SkipSpace(s, i);
  if (i >= s.size() || s[i] != '=') return true;
  i = SkipSpace(s, i + 1);
  if (i >= s.size()) return true;
  if (s[i] == '"' || s[i] == '\'') {
    std::size_t close = s.find(s[i], i + 1);
    if (close == std::string_view::npos) close = s.size();
    attribute.value = s.substr(i + 1, close - i - 1);
    i = std::min(close + 1, s.size());
  } else {
    std::size_t begin = i;
    while (i < s.size() && !IsMarkupSpace(s[i]) && s[i] != '>') ++i;
    attribute.value = s.substr(begin, i - begin);
  }
  return true;
}

// The charset named in a meta content value such as "text/html; charset=KOI8-R" (WHATWG
// "extracting a character encoding from a meta element").
std::string_view CharsetFromMetaContent(std::string_view content) {
  std::size_t at = 0;
  while ((at = FindNoCase(content, "charset", at)) != std::string_view::npos) {
    std::size_t i = SkipSpace(content, at + 7);
    at += 7;
    if (i >= content.size() || content[i] != '=') continue;
    i = SkipSpace(content, i + 1);
    if (i >= content.size()) return {};
    if (content[i] == '"' || content[i] == '\'') {
      std::size_t close = content.find(content[i], i + 1);
      if (close == std::string_view::npos) return {};
      return content.substr(i + 1, close - i - 1);
    }
    std::size_t end = i;
    while (end < content.size() && !IsMarkupSpace(content[end]) && content[end] != ';') ++end;
    return content.substr(i, end - i);
  }
  return {};
}

// The charset the first usable <meta> in the first 1024 bytes declares, as an iconv name:
// <meta charset=…>, or <meta http-equiv="Content-Type" content="…; charset=…">. A
// simplified WHATWG prescan: comments are skipped and the attributes of other tags are read
// through, so that a "<meta" inside a comment or an attribute value is not taken for a tag;
// a meta whose label is junk is passed over for the next one.
std::optional<std::string> HtmlMetaCharset(std::string_view body) {
  std::string_view head = body.substr(0, kDeclarationBytes);
  std::size_t i = 0;
  while ((i = head.find('<', i)) != std::string_view::npos) {
    std::string_view rest = head.substr(i);
    if (rest.starts_with("<!--")) {
      std::size_t close = head.find("-->", i + 4);
      if (close == std::string_view::npos) return std::nullopt;
      i = close + 3;
      continue;
    }
    bool is_meta = StartsWithNoCase(rest, "<meta") && rest.size() > 5 &&
                   (IsMarkupSpace(rest[5]) || rest[5] == '/');
    bool is_tag = rest.size() > 1 && (IsAsciiAlpha(rest[1]) ||
                                      (rest[1] == '/' && rest.size() > 2 && IsAsciiAlpha(rest[2])));
    if (!is_tag) {
      // "<!DOCTYPE", "<?php", a stray '<': skip to the end of the construct.
      i = rest.size() > 1 && (rest[1] == '!' || rest[1] == '?' || rest[1] == '/')
              ? head.find('>', i)
              : i + 1;
      continue;
    }
    i += rest[1] == '/' ? 2 : 1;  // past "<" or "</"
    while (i < head.size() && !IsMarkupSpace(head[i]) && head[i] != '>' && head[i] != '/') ++i;
    std::optional<std::string_view> charset, http_equiv, content;
    Attribute attribute;
    while (NextAttribute(head, i, attribute)) {
      // As in the prescan, the first of a repeated attribute counts.
      if (EqualsNoCase(attribute.name, "charset") && !charset) charset = attribute.value;
      if (EqualsNoCase(attribute.name, "http-equiv") && !http_equiv) http_equiv = attribute.value;
      if (EqualsNoCase(attribute.name, "content") && !content) content = attribute.value;
    }
    if (!is_meta) continue;
    std::optional<std::string> name;
    if (charset) name = CanonicalCharset(*charset);
    if (!name && http_equiv && content &&
        EqualsNoCase(TrimMarkupSpace(*http_equiv), "content-type")) {
      name = CanonicalCharset(CharsetFromMetaContent(*content));
    }
    if (name) return name;
  }
  return std::nullopt;
}

// UTF-16 or UTF-32 without a BOM, told by where the NULs fall around the first characters,
// which are ASCII in every markup ('<', '{', '[', whitespace); the XML spec (Appendix F) and
// RFC 4627 §3 use the same patterns.
std::optional<std::string> WideByNulls(std::string_view body) {
  if (body.size() < 4) return std::nullopt;
  bool nul[4];
  for (int k = 0; k < 4; ++k) nul[k] = body[k] == '\0';
  if (nul[0] && nul[1] && nul[2] && !nul[3]) return "UTF-32BE";
  if (!nul[0] && nul[1] && nul[2] && nul[3]) return "UTF-32LE";
  if (nul[0] && !nul[1] && nul[2] && !nul[3]) return "UTF-16BE";
  if (!nul[0] && nul[1] && !nul[2] && nul[3]) return "UTF-16LE";
  return std::nullopt;
}

std::size_t CountNonAscii(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += static_cast<unsigned char>(c) >= 0x80;
  return n;
}

// True when `tail` is the start of a multi-byte sequence cut off by the end of the body.
bool IsTruncatedSequence(std::string_view tail) {
  if (tail.empty()) return false;
  auto lead = static_cast<unsigned char>(tail[0]);
  std::size_t want = lead >= 0xF0 && lead <= 0xF4   ? 4
                     : lead >= 0xE0 && lead <= 0xEF ? 3
                     : lead >= 0xC2 && lead <= 0xDF ? 2
                                                    : 0;
  if (tail.size() >= want) return false;
  return std::all_of(tail.begin() + 1, tail.end(),
                     [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; });
}

// True when `body` is UTF-8: valid, cut off inside its last character, or with errors rare
// enough to be damage rather than another encoding. One stray windows-1252 byte in a UTF-8
// feed must not send the whole feed to a guess, which would turn every line into mojibake
// to save one character.
bool LooksLikeUtf8(std::string_view body) {
  std::size_t pos = ValidUtf8Prefix(body);
  if (pos == body.size()) return true;
  std::size_t good = CountNonAscii(body.substr(0, pos));
  std::size_t errors = 0;
  while (pos < body.size() && errors < kMaxCountedErrors) {
    if (IsTruncatedSequence(body.substr(pos))) break;
    ++errors;
    ++pos;
    std::size_t valid = ValidUtf8Prefix(body.substr(pos));
    good += CountNonAscii(body.substr(pos, valid));
    pos += valid;
  }
  return good >= kUtf8BytesPerError * errors;
}

struct UchardetDeleter {
  void operator()(uchardet_t detector) const { uchardet_delete(detector); }
};

// uchardet's name for the charset of `body` ("WINDOWS-1251", "KOI8-R", …), or "" when it
// has no opinion.
std::string Guess(std::string_view body) {
  std::unique_ptr<uchardet, UchardetDeleter> detector(uchardet_new());
  if (!detector) return {};
  std::string_view sample = body.substr(0, kGuessBytes);
  if (uchardet_handle_data(detector.get(), sample.data(), sample.size()) != 0) return {};
  uchardet_data_end(detector.get());
  const char* name = uchardet_get_charset(detector.get());
  return name ? name : "";
}

// An iconv descriptor converting `from` to UTF-8; closes it on destruction.
class Iconv {
 public:
  explicit Iconv(const std::string& from) : cd_(iconv_open("UTF-8", from.c_str())) {}
  ~Iconv() {
    if (ok()) iconv_close(cd_);
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;

  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

// Converts all of `input` to UTF-8 with `cd`. Invalid and unmappable sequences become
// U+FFFD and conversion goes on one code unit later; a sequence cut off by the end of the
// input becomes one U+FFFD.
std::string ConvertWith(iconv_t cd, std::string& input, std::size_t unit) {
  std::string out;
  // Room for the common case in one go: single-byte Cyrillic text doubles, UTF-16 grows by
  // half at most. E2BIG grows it when the guess is short.
  out.resize(unit == 1 ? input.size() * 2 + 16 : input.size() * 3 / 2 + 16);
  char* in = input.data();
  std::size_t in_left = input.size();
  std::size_t written = 0;
  while (true) {
    char* out_ptr = out.data() + written;
    std::size_t out_left = out.size() - written;
    // With all input read, one more call writes out what a stateful decoder still holds.
    bool flushing = in_left == 0;
    std::size_t rc = flushing ? iconv(cd, nullptr, nullptr, &out_ptr, &out_left)
                              : iconv(cd, &in, &in_left, &out_ptr, &out_left);
    int error = errno;
    written = out.size() - out_left;
    if (rc != static_cast<std::size_t>(-1)) {
      if (flushing) break;
      continue;
    }
    if (error == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    if (flushing) break;  // nothing else can fail without input; never spin
    // EILSEQ: invalid or unmappable input; EINVAL: a sequence cut off by the end.
    if (out.size() - written < kReplacementChar.size()) out.resize(out.size() * 2);
    std::memcpy(out.data() + written, kReplacementChar.data(), kReplacementChar.size());
    written += kReplacementChar.size();
    std::size_t skip = error == EINVAL ? in_left : std::min(unit, in_left);
    in += skip;
    in_left -= skip;
  }
  out.resize(written);
  return out;
}

}  // namespace

std::string DetectCharset(std::string_view body, std::string_view content_type, Markup markup) {
  if (auto bom = FindBom(body)) return std::string(bom->charset);
  if (auto declared = CanonicalCharset(ContentTypeCharset(content_type))) return *declared;
  if (auto wide = WideByNulls(body)) return *wide;
  if (markup == Markup::kJson) return std::string(kUtf8);  // RFC 8259 §8.1
  std::optional<std::string> declared =
      markup == Markup::kXml ? CanonicalCharset(XmlDeclaredEncoding(body)) : HtmlMetaCharset(body);
  if (declared) {
    // The declaration was read as ASCII bytes and there is no BOM or NUL pattern, so the
    // document is not really UTF-16 (WHATWG: a meta naming UTF-16 means UTF-8).
    if (IsWide(*declared)) return std::string(kUtf8);
    return *declared;
  }
  if (LooksLikeUtf8(body)) return std::string(kUtf8);
  if (auto guess = CanonicalCharset(Guess(body))) return *guess;
  return std::string(kWindows1252);
}

namespace {

// UTF-8 for each byte of a single-byte charset, read from iconv once: converting through a
// table is several times faster than iconv's own loop, and windows-1251, KOI8-R and
// windows-1252 are most of the non-UTF-8 feeds there are.
struct ByteTable {
  std::array<std::array<char, 4>, 256> utf8{};  // 1-3 bytes, padded: copied as one word
  std::array<std::uint8_t, 256> size{};
};

std::optional<ByteTable> BuildByteTable(const std::string& name) {
  Iconv cd(name);
  if (!cd.ok()) return std::nullopt;
  ByteTable table;
  for (int byte = 0; byte < 256; ++byte) {
    iconv(cd.get(), nullptr, nullptr, nullptr, nullptr);  // reset the shift state
    char in = static_cast<char>(byte);
    char out[8];
    char* in_ptr = &in;
    char* out_ptr = out;
    std::size_t in_left = 1, out_left = sizeof out;
    std::string_view utf8 = kReplacementChar;  // bytes the charset leaves undefined
    if (byte < 0x80) {
      utf8 = std::string_view(&in, 1);  // the three charsets keep ASCII as it is
    } else if (iconv(cd.get(), &in_ptr, &in_left, &out_ptr, &out_left) !=
                   static_cast<std::size_t>(-1) &&
               in_left == 0 && out_ptr - out <= 3 && out_ptr > out) {
      utf8 = std::string_view(out, static_cast<std::size_t>(out_ptr - out));
    }
    std::copy(utf8.begin(), utf8.end(), table.utf8[byte].begin());
    table.size[byte] = static_cast<std::uint8_t>(utf8.size());
  }
  return table;
}

const ByteTable* SingleByteTable(const std::string& name) {
  static const std::optional<ByteTable> kWindows1251 = BuildByteTable("windows-1251");
  static const std::optional<ByteTable> kKoi8R = BuildByteTable("KOI8-R");
  static const std::optional<ByteTable> kWindows1252 = BuildByteTable("windows-1252");
  const std::optional<ByteTable>* table = name == "windows-1251"   ? &kWindows1251
                                          : name == "KOI8-R"       ? &kKoi8R
                                          : name == "windows-1252" ? &kWindows1252
                                                                   : nullptr;
  return table && *table ? &**table : nullptr;
}

constexpr std::uint64_t kHighBits = 0x8080808080808080;

// The UTF-8 size of `input` converted with `table`. Only bytes from 0x80 up grow, so the
// input is read eight bytes at a time and only those are looked up: markup is ASCII.
std::size_t ConvertedSize(const ByteTable& table, std::string_view input) {
  std::size_t size = input.size();
  std::size_t i = 0;
  for (; input.size() - i >= 8; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, input.data() + i, 8);
    // The high bit of each byte from 0x80 up, the first byte's lowest.
    for (std::uint64_t high = word & kHighBits; high != 0; high &= high - 1) {
      const auto byte = static_cast<unsigned char>(input[i + std::countr_zero(high) / 8]);
      size += table.size[byte] - 1u;
    }
  }
  for (; i < input.size(); ++i) {
    const auto byte = static_cast<unsigned char>(input[i]);
    if (byte >= 0x80) size += table.size[byte] - 1u;
  }
  return size;
}

std::string ConvertWithTable(const ByteTable& table, std::string_view input) {
  // Sized exactly first, so a large feed does not hold three times its size; +3 for the
  // padding the last character's word writes.
  std::string out(ConvertedSize(table, input) + 3, '\0');
  char* o = out.data();
  // Every byte, ASCII too, goes through the table: no branch on text that mixes the two.
  const auto put = [&](char c) {
    const auto byte = static_cast<unsigned char>(c);
    std::memcpy(o, table.utf8[byte].data(), 4);
    o += table.size[byte];
  };
  std::size_t i = 0;
  for (; input.size() - i >= 8; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, input.data() + i, 8);
    if ((word & kHighBits) == 0) {
      // Eight ASCII bytes, as they are.
      std::memcpy(o, &word, 8);
      o += 8;
      continue;
    }
    for (std::size_t k = 0; k < 8; ++k) put(input[i + k]);
  }
  for (; i < input.size(); ++i) put(input[i]);
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

}  // namespace

void ConvertToUtf8(std::string& body, const std::string& charset) {
  std::string name = CanonicalCharset(charset).value_or(std::string(kUtf8));
  // As in WHATWG "decode", a BOM outranks the label.
  if (auto bom = FindBom(body)) {
    name = bom->charset;
    body.erase(0, bom->bytes.size());
  }
  if (const ByteTable* table = SingleByteTable(name)) {
    body = ConvertWithTable(*table, body);
    return;
  }
  if (name != kUtf8) {
    Iconv cd(name);
    if (cd.ok()) {
      std::string out = ConvertWith(cd.get(), body, CodeUnitSize(name));
      body.swap(out);
    }
  }
  // For UTF-8 (and a charset iconv does not know) this is the whole job; after iconv it is a
  // cheap guarantee that no module ever hands on invalid UTF-8.
  RepairUtf8(body);
}

}  // namespace newsmon::parse
