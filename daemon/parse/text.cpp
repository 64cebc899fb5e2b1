#include "daemon/parse/text.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "daemon/parse/utf8.h"

namespace newsmon::parse {
namespace {

struct NamedReference {
  std::string_view name;  // as written after '&', with its ';' unless it is a legacy form
  std::string_view utf8;  // the replacement: one or two code points
};

constexpr NamedReference kNamedReferences[] = {
#include "daemon/parse/entities.inc"
};

static_assert(std::size(kNamedReferences) == 2231, "regenerate with scripts/gen-entities");
static_assert(std::ranges::is_sorted(kNamedReferences, {}, &NamedReference::name),
              "binary search needs entities.inc sorted by name");

// "CounterClockwiseContourIntegral;" is the longest name; the legacy names that may omit
// the ';' are at most six letters ("middot", "frac34").
constexpr std::size_t kMaxNameLength = 32;
constexpr std::size_t kMaxLegacyNameLength = 6;

// What HTML makes of &#128; to &#159;: the Windows-1252 characters that pages meant by
// them. Zero marks the five bytes Windows-1252 leaves undefined, which keep their value.
constexpr char16_t kWindows1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

constexpr bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
constexpr bool IsHtmlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

// How a character shows in cleaned text.
enum class CharClass {
  kVisible,
  kSpace,      // collapses with its neighbours into one ASCII space
  kInvisible,  // dropped: zero width, no separation either
};

constexpr CharClass Classify(char32_t cp) {
  if (cp < 0x80) return cp <= 0x20 || cp == 0x7F ? CharClass::kSpace : CharClass::kVisible;
  // C1 controls are mojibake or stray bytes, never text; U+0085 (NEL) is among them.
  if (cp <= 0xA0) return CharClass::kSpace;
  if (cp < 0x1680) return CharClass::kVisible;
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
      cp == 0x202F || cp == 0x205F || cp == 0x3000) {
    return CharClass::kSpace;
  }
  if (cp == 0x200B || cp == 0xFEFF) return CharClass::kInvisible;
  return CharClass::kVisible;
}

constexpr std::size_t SequenceLength(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Decodes the sequence at `p`, which the caller knows is valid and `n` bytes long.
constexpr char32_t DecodeValid(const char* p, std::size_t n) {
  const auto s = [p](std::size_t i) { return char32_t{static_cast<unsigned char>(p[i])}; };
  switch (n) {
    case 1:
      return s(0);
    case 2:
      return ((s(0) & 0x1F) << 6) | (s(1) & 0x3F);
    case 3:
      return ((s(0) & 0x0F) << 12) | ((s(1) & 0x3F) << 6) | (s(2) & 0x3F);
    default:
      return ((s(0) & 0x07) << 18) | ((s(1) & 0x3F) << 12) | ((s(2) & 0x3F) << 6) | (s(3) & 0x3F);
  }
}

// A character reference found after an '&'. `length` counts the bytes after the '&' that
// it spans, 0 when there is none; the replacement is `named` when that is set, else
// `code_point`.
struct Reference {
  std::size_t length = 0;
  std::string_view named;
  char32_t code_point = 0;
  bool one_visible = false;  // `named` is known to be a single visible character
};

constexpr std::string_view FindNamed(std::string_view name) {
  const auto* it = std::lower_bound(
      std::begin(kNamedReferences), std::end(kNamedReferences), name,
      [](const NamedReference& entry, std::string_view key) { return entry.name < key; });
  return it != std::end(kNamedReferences) && it->name == name ? it->utf8 : std::string_view();
}

// The first `n` bytes at `p` (at most 8) packed into an integer, first byte lowest: one
// integer compare then matches a short name.
inline std::uint64_t LoadPacked(const char* p, std::size_t n) {
  std::uint64_t packed = 0;
  if constexpr (std::endian::native == std::endian::little) {
    if (n >= 8) {
      std::memcpy(&packed, p, 8);
      return packed;
    }
  }
  for (std::size_t i = 0; i < n && i < 8; ++i) {
    packed |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  }
  return packed;
}

constexpr std::uint64_t Pack(std::string_view name) {
  std::uint64_t packed = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    packed |= std::uint64_t{static_cast<unsigned char>(name[i])} << (8 * i);
  }
  return packed;
}

// The references feeds write most, most frequent first, looked up before the binary
// search over the whole table. Their replacements come from that table.
struct CommonReference {
  std::uint64_t mask;  // covers the name and its ';'
  std::uint64_t packed;
  std::size_t length;  // of the name and its ';'
  std::string_view utf8;
  bool one_visible;  // as in Reference
};

constexpr std::string_view kCommonNames[] = {
    "amp;",   "quot;",  "nbsp;",   "mdash;", "lt;",    "gt;",    "rsquo;", "laquo;",
    "raquo;", "ndash;", "hellip;", "ldquo;", "rdquo;", "lsquo;", "apos;",  "copy;",
};

constexpr auto kCommonReferences = [] {
  std::array<CommonReference, std::size(kCommonNames)> common{};
  for (std::size_t i = 0; i < std::size(kCommonNames); ++i) {
    const std::string_view name = kCommonNames[i];
    common[i] = {.mask = ~std::uint64_t{0} >> (64 - 8 * name.size()),
                 .packed = Pack(name),
                 .length = name.size(),
                 .utf8 = FindNamed(name)};
    const std::string_view utf8 = common[i].utf8;
    common[i].one_visible = !utf8.empty() &&
                            SequenceLength(static_cast<unsigned char>(utf8[0])) == utf8.size() &&
                            Classify(DecodeValid(utf8.data(), utf8.size())) == CharClass::kVisible;
  }
  return common;
}();
static_assert(std::ranges::none_of(kCommonReferences,
                                   [](const CommonReference& common) {
                                     return common.utf8.empty() || common.mask == 0;
                                   }),
              "every common reference is in the table and at most 8 bytes with its ';'");

Reference ParseNumeric(std::string_view rest) {
  // rest[0] is '#'.
  std::size_t i = 1;
  const bool hex = i < rest.size() && (rest[i] == 'x' || rest[i] == 'X');
  if (hex) ++i;
  const std::size_t digits_start = i;
  // Saturating just past U+10FFFF keeps any number of digits from overflowing while
  // still telling "too large" apart.
  std::uint32_t value = 0;
  for (; i < rest.size(); ++i) {
    const char c = rest[i];
    std::uint32_t digit;
    if (IsAsciiDigit(c)) {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (hex && AsciiLower(c) >= 'a' && AsciiLower(c) <= 'f') {
      digit = static_cast<std::uint32_t>(AsciiLower(c) - 'a' + 10);
    } else {
      break;
    }
    value = std::min<std::uint32_t>(value * (hex ? 16 : 10) + digit, 0x110000);
  }
  if (i == digits_start) return {};
  if (i < rest.size() && rest[i] == ';') ++i;

  char32_t code_point = value;
  if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    code_point = 0xFFFD;
  } else if (value >= 0x80 && value <= 0x9F && kWindows1252[value - 0x80] != 0) {
    code_point = kWindows1252[value - 0x80];
  }
  return {.length = i, .code_point = code_point};
}

// The reference at the start of `rest`, the text just after an '&'. Named references
// need their ';', except the legacy names, and those only when no letter, digit or '='
// follows: HTML's rule for attribute values, applied everywhere because feed text is full
// of URLs ("?id=1&section=2", "&copy=") that must not turn into "§ion=2".
Reference ParseReference(std::string_view rest) {
  if (rest.empty()) return {};
  if (rest[0] == '#') return ParseNumeric(rest);
  if (!IsAsciiAlnum(rest[0])) return {};  // "Q & A", the commonest case
  // "amp;" is a maximal run of letters followed by its ';', which is all that the search
  // below would find for it.
  const std::uint64_t packed = LoadPacked(rest.data(), rest.size());
  for (const CommonReference& common : kCommonReferences) {
    if ((packed & common.mask) == common.packed) {
      return {.length = common.length, .named = common.utf8, .one_visible = common.one_visible};
    }
  }
  std::size_t n = 0;
  while (n < rest.size() && n <= kMaxNameLength && IsAsciiAlnum(rest[n])) ++n;
  if (n == 0 || n > kMaxNameLength) return {};
  if (n < rest.size() && rest[n] == ';') {
    if (auto utf8 = FindNamed(rest.substr(0, n + 1)); !utf8.empty()) {
      return {.length = n + 1, .named = utf8};
    }
  }
  if (n <= kMaxLegacyNameLength && (n == rest.size() || rest[n] != '=')) {
    // Without the ';' only the legacy names are in the table.
    if (auto utf8 = FindNamed(rest.substr(0, n)); !utf8.empty()) {
      return {.length = n, .named = utf8};
    }
  }
  return {};
}

// The first `a` or `b` in [p, end), or `end`: a quoted attribute value of escaped markup,
// often a URL, is passed over 16 bytes at a time.
inline const char* FindEither(const char* p, const char* end, char a, char b) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int hits =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(bytes, va), _mm_cmpeq_epi8(bytes, vb)));
    if (hits != 0) return p + std::countr_zero(static_cast<unsigned>(hits));
  }
#endif
  while (p < end && *p != a && *p != b) ++p;
  return p;
}

// How many bytes at the start of `rest` decide what ParseReference finds there: the
// alphanumeric run (digits for a numeric reference) and the byte after it. When none of
// them is a '&' (which may start an XML reference), the decoded text has the same bytes
// there and ParseReference finds the same in it. (The common names, compared eight bytes
// at a time, need no more: each is letters and a ';', so it matches the decoded text
// exactly when it matches these bytes.)
std::size_t ReferenceExtent(std::string_view rest) {
  std::size_t n = 0;
  if (!rest.empty() && rest[0] == '#') {
    n = 1;
    while (n < rest.size() && IsAsciiAlnum(rest[n])) ++n;  // 'x' and hex digits are alnum too
  } else {
    while (n < rest.size() && n <= kMaxNameLength && IsAsciiAlnum(rest[n])) ++n;
  }
  return std::min(rest.size(), n + 1);
}

// An XML reference: the five predefined entities and numeric references. `length` counts
// its bytes from the '&', 0 when there is none.
struct XmlReference {
  std::size_t length = 0;
  char32_t code_point = 0;  // as written: NUL, surrogates and 0x110000 (too large) included
};

// The numeric XML reference at `p` ("&#...;"), which points at '&'.
XmlReference ReadNumericXmlReference(const char* p, const char* end) {
  const bool hex = p[2] == 'x' || p[2] == 'X';
  const char* digits = p + (hex ? 3 : 2);
  const char* q = digits;
  std::uint32_t value = 0;
  for (; q < end; ++q) {
    unsigned digit;
    if (*q >= '0' && *q <= '9') {
      digit = static_cast<unsigned>(*q - '0');
    } else if (hex && ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'f')) {
      digit = static_cast<unsigned>((*q | 0x20) - 'a' + 10);
    } else {
      break;
    }
    // Stays past the range however many digits follow.
    value = std::min<std::uint32_t>(value * (hex ? 16 : 10) + digit, 0x110000);
  }
  if (q == digits || q == end || *q != ';') return {};
  return {static_cast<std::size_t>(q + 1 - p), value};
}

// The XML reference at `p`, which points at '&'. Other names, such as the "&nbsp;" of
// feeds that assume an HTML DTD, are none: they stay as written for the HTML step. Inline:
// escaped HTML has one at every tag.
[[gnu::always_inline]] inline XmlReference ReadXmlReference(const char* p, const char* end) {
  const auto size = static_cast<std::size_t>(end - p);
  // Byte by byte: a call to memcmp costs more than the three to five compares.
  auto is = [&](std::string_view name) {
    if (size <= name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (p[1 + i] != name[i]) return false;
    }
    return true;
  };
  if (size < 4) return {};
  // The five predefined entities, dispatched on their first letter.
  switch (p[1]) {
    case 'l':
      return is("lt;") ? XmlReference{4, '<'} : XmlReference{};
    case 'g':
      return is("gt;") ? XmlReference{4, '>'} : XmlReference{};
    case 'a':
      return is("amp;")    ? XmlReference{5, '&'}
             : is("apos;") ? XmlReference{6, '\''}
                           : XmlReference{};
    case 'q':
      return is("quot;") ? XmlReference{6, '"'} : XmlReference{};
    case '#':
      return ReadNumericXmlReference(p, end);
    default:
      return {};
  }
}

// What XML decoding makes of a code point: NUL, surrogates and values past U+10FFFF
// become U+FFFD (as WriteUtf8 writes them).
constexpr char32_t ScalarOrReplacement(char32_t cp) {
  return cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF ? 0xFFFD : cp;
}

// The character at `p` of escaped text once XML's references are decoded, as far as a tag
// cares: ASCII as it is, anything from U+0080 up as 0x80. `p` moves past it.
inline char NextDecodedChar(const char*& p, const char* end) {
  if (*p != '&') return *p++;
  const XmlReference ref = ReadXmlReference(p, end);
  if (ref.length == 0) return *p++;  // a '&' XML leaves as it is
  p += ref.length;
  const char32_t cp = ScalarOrReplacement(ref.code_point);
  return cp < 0x80 ? static_cast<char>(cp) : '\x80';
}

// The length of the character at `p`, a lead byte that CopyRun stops at (0xC2, 0xE1-0xE3,
// 0xEF), or 0 when its continuation bytes are missing. For these lead bytes that is all
// there is to validity: none of them starts an overlong form or a surrogate.
std::size_t SpecialLength(const char* p, const char* end) {
  const std::size_t n = static_cast<unsigned char>(*p) < 0xE0 ? 2 : 3;
  if (static_cast<std::size_t>(end - p) < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(p[i]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Bytes that CopyRun copies as they are: visible ASCII other than '&' (and '<' for
// markup), and UTF-8 bytes except the lead bytes of the ranges that hold Unicode spaces
// and zero-width characters (U+0080-00BF, U+1xxx, U+2xxx, U+3xxx, U+Fxxx). Cyrillic,
// CJK and the rest of non-ASCII text is copied without being decoded.
constexpr std::array<bool, 256> MakeCopyTable(bool markup) {
  std::array<bool, 256> table{};
  for (int c = 0x21; c < 0x7F; ++c) table[c] = true;
  table['&'] = false;
  if (markup) table['<'] = false;
  for (int c = 0x80; c < 0x100; ++c) table[c] = true;
  for (int c : {0xC2, 0xE1, 0xE2, 0xE3, 0xEF}) table[c] = false;
  return table;
}

constexpr std::array<bool, 256> kCopyPlain = MakeCopyTable(false);
constexpr std::array<bool, 256> kCopyHtml = MakeCopyTable(true);

// What CopyRun needs to know about 16 bytes of text, one bit per byte, the first byte in
// the lowest bit.
struct BlockBits {
  std::uint32_t stop;   // not copied as it is, and not ' '
  std::uint32_t space;  // ' '
  std::uint32_t high;   // 0x80 and above
};

// `stop_char` is '<' for markup, else '&' (a stop byte in both kinds).
#if defined(__SSE2__)
// SSE2 is part of the x86-64 baseline: no run-time dispatch.
using Block = __m128i;

inline Block LoadBlock(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

inline void StoreBlock(char* out, Block bytes) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), bytes);
}

inline BlockBits ScanBlock(Block bytes, char stop_char) {
  const auto equal = [&](int c) {
    return _mm_cmpeq_epi8(bytes, _mm_set1_epi8(static_cast<char>(c)));
  };
  const auto bits = [](__m128i m) { return static_cast<std::uint32_t>(_mm_movemask_epi8(m)); };
  // The compares are signed: bytes from 0x80 up are negative, below '!' like the controls.
  const std::uint32_t high = bits(bytes);
  const std::uint32_t space = bits(equal(' '));
  std::uint32_t stop = bits(_mm_or_si128(_mm_or_si128(equal('&'), equal(stop_char)), equal(0x7F))) |
                       (bits(_mm_cmplt_epi8(bytes, _mm_set1_epi8('!'))) & ~space);
  if (high != 0) {
    // Of those, only the lead bytes that MakeCopyTable leaves out; 0xE1-0xE3 lie between
    // 0xE0 and 0xE4.
    const __m128i e1_to_e3 =
        _mm_and_si128(_mm_cmpgt_epi8(bytes, _mm_set1_epi8(static_cast<char>(0xE0))),
                      _mm_cmplt_epi8(bytes, _mm_set1_epi8(static_cast<char>(0xE4))));
    stop = (stop & ~high) | bits(_mm_or_si128(_mm_or_si128(equal(0xC2), equal(0xEF)), e1_to_e3));
  }
  return {.stop = stop, .space = space, .high = high};
}
#else
struct Block {
  char bytes[16];
};

inline Block LoadBlock(const char* p) {
  Block block;
  std::memcpy(block.bytes, p, 16);
  return block;
}

inline void StoreBlock(char* out, const Block& block) { std::memcpy(out, block.bytes, 16); }

inline BlockBits ScanBlock(const Block& in, char stop_char) {
  const char* const p = in.bytes;
  BlockBits block{0, 0, 0};
  for (int i = 0; i < 16; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == ' ') {
      block.space |= std::uint32_t{1} << i;
    } else if (!kCopyPlain[c] || c == static_cast<unsigned char>(stop_char)) {
      block.stop |= std::uint32_t{1} << i;
    }
    if (c >= 0x80) block.high |= std::uint32_t{1} << i;
  }
  return block;
}
#endif

// How an element affects the text around it.
enum class ElementKind : std::uint8_t {
  kInline,          // not at all: "Hel<b>lo</b>" is one word
  kBlock,           // its tags, start or end, separate words like a space
  kDroppedContent,  // its content is not text
};

// A tag name of up to 8 bytes, lowercased and packed into an integer: this runs for every
// tag, and integer compares cost a fraction of string compares. 0 for longer names.
constexpr std::uint64_t PackTagName(std::string_view name) {
  if (name.size() > 8) return 0;
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    key |= std::uint64_t{static_cast<unsigned char>(AsciiLower(name[i]))} << (8 * i);
  }
  return key;
}

constexpr bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, {}, AsciiLower, AsciiLower);
}

// The block elements, but for the two whose names do not pack (kLongBlockElements).
constexpr std::string_view kBlockElements[] = {
    "address", "article", "aside",   "audio",   "br",    "caption",  "center", "dd",     "details",
    "dialog",  "div",     "dl",      "dt",      "embed", "fieldset", "figure", "footer", "form",
    "h1",      "h2",      "h3",      "h4",      "h5",    "h6",       "header", "hgroup", "hr",
    "iframe",  "img",     "li",      "main",    "menu",  "nav",      "object", "ol",     "option",
    "p",       "pre",     "section", "summary", "table", "tbody",    "td",     "tfoot",  "th",
    "thead",   "tr",      "ul",      "video",
};
constexpr std::string_view kLongBlockElements[] = {"blockquote", "figcaption"};

// Elements whose content is not text. <noscript> is among them: its content is a fallback
// for browsers without scripts ("enable JavaScript", tracking pixels), noise in a
// notification.
constexpr std::string_view kDroppedContentElements[] = {"script", "style", "noscript"};

// The elements above that pack, by a perfect hash of the packed name: the top bits of
// its product with a multiplier that gives each of them a slot of its own, found at
// compile time. A tag then costs a multiplication and a compare.
struct ElementTable {
  static constexpr int kSlotBits = 8;  // 256 slots for ~50 names: a multiplier is quick to find

  std::uint64_t multiplier = 0;
  std::array<std::uint64_t, 1 << kSlotBits> keys{};  // 0 (no name) in free slots
  std::array<ElementKind, 1 << kSlotBits> kinds{};   // kInline in free slots

  constexpr std::size_t Slot(std::uint64_t key) const {
    return static_cast<std::size_t>((key * multiplier) >> (64 - kSlotBits));
  }
};

constexpr ElementTable MakeElementTable() {
  // Odd multipliers, from the golden ratio's on.
  for (std::uint64_t multiplier = 0x9E3779B97F4A7C15;; multiplier += 0x6A09E667F3BCC908) {
    ElementTable table{.multiplier = multiplier};
    bool perfect = true;
    const auto place = [&](std::string_view name, ElementKind kind) {
      const std::uint64_t key = PackTagName(name);
      const std::size_t slot = table.Slot(key);
      perfect = perfect && key != 0 && table.keys[slot] == 0;
      table.keys[slot] = key;
      table.kinds[slot] = kind;
    };
    for (std::string_view name : kBlockElements) place(name, ElementKind::kBlock);
    for (std::string_view name : kDroppedContentElements) place(name, ElementKind::kDroppedContent);
    if (perfect) return table;
  }
}

constexpr ElementTable kElementTable = MakeElementTable();

// Characters of tag names as Markup reads them.
constexpr auto kTagNameChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = IsAsciiAlnum(static_cast<char>(c));
  for (char c : {'-', ':', '_'}) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

struct TagName {
  std::string_view name;
  std::uint64_t key;  // PackTagName(name)
};

inline TagName ScanTagName(const char* p, const char* end) {
  const char* q = p;
  while (q < end && kTagNameChars[static_cast<unsigned char>(*q)]) ++q;
  const auto size = static_cast<std::size_t>(q - p);
  std::uint64_t key = 0;
  if (size <= 8) {
    // Setting bit 5 lowercases letters and leaves digits, '-' and ':' as they are; '_'
    // becomes DEL, which no element name holds either.
    const std::uint64_t mask = ~std::uint64_t{0} >> (64 - 8 * size);  // size >= 1
    key = (LoadPacked(p, static_cast<std::size_t>(end - p)) | 0x2020202020202020) & mask;
  }
  return {.name = {p, size}, .key = key};
}

inline ElementKind KindOfElement(const TagName& tag) {
  if (tag.key == 0) {
    return std::ranges::any_of(
               kLongBlockElements,
               [&](std::string_view block) { return EqualsIgnoringAsciiCase(tag.name, block); })
               ? ElementKind::kBlock
               : ElementKind::kInline;
  }
  const std::size_t slot = kElementTable.Slot(tag.key);
  return kElementTable.keys[slot] == tag.key ? kElementTable.kinds[slot] : ElementKind::kInline;
}

// The single forward pass of CleanText. Spaces are emitted lazily, only before the next
// visible character, so runs collapse and the front is trimmed for free; the one space
// that CopyRun may copy at the end is trimmed by Finish.
//
// With `check`, the bytes that reach the output as they are (copied runs, the characters
// Special decodes) are checked to be valid UTF-8, and the pass stops at the first that is
// not (found_invalid()). Everything else it reads is ASCII (tags, references), which
// repairing invalid UTF-8 leaves where it is, so the result of a pass that finds nothing
// invalid is that of the repaired text.
//
// With `escaped`, the text is XML character data whose references are still to be decoded
// (see CleanXmlText): the pass decodes them as it meets them, and reads escaped tags
// ("&lt;b&gt;") as tags. What it does not read that way it leaves to a decoded copy: it
// stops at that point (gave_up_at()) and Continue goes on from there, in the same state.
class Cleaner {
 public:
  Cleaner(TextKind kind, std::size_t max_bytes, std::string_view text, bool check,
          bool escaped = false)
      : copy_(kind == TextKind::kHtml ? kCopyHtml : kCopyPlain),
        stop_char_(kind == TextKind::kHtml ? '<' : '&'),
        markup_(kind == TextKind::kHtml),
        check_(check),
        escaped_(escaped),
        begin_(text.data()),
        end_(text.data() + text.size()),
        limit_(max_bytes),
        out_(InitialSize(std::min(text.size(), max_bytes)), '\0') {}

  // Cleans [p, end), part of the text; recursive once for a CDATA section's content.
  void Run(const char* p, const char* end) {
    // Once out_ holds max_bytes, anything more would be cut again.
    while (p < end && size_ < limit_) {
      const auto c = static_cast<unsigned char>(*p);
      if (copy_[c]) {
        p = CopyRun(p, end);
      } else if (c == '&') {
        p = escaped_ ? EscapedReference(p, end) : Entity(p, end);
      } else if (c == '<' && markup_) {
        p = escaped_ ? GiveUp(p) : Markup(p, end);
      } else if (c < 0x80) {
        // Whitespace, C0 controls and DEL.
        pending_space_ = true;
        ++p;
      } else {
        p = Special(p, end);
      }
    }
  }

  bool found_invalid() const { return found_invalid_; }

  // Where an escaped pass stopped, or nullptr when it read the whole text.
  const char* gave_up_at() const { return gave_up_at_; }

  // Cleans `decoded`, the rest of an escaped text from gave_up_at() on, decoded.
  void Continue(std::string_view decoded) {
    escaped_ = false;
    gave_up_at_ = nullptr;
    begin_ = decoded.data();
    end_ = decoded.data() + decoded.size();
    Run(begin_, end_);
  }

  std::string Finish() && {
    if (size_ > limit_) {
      size_ = limit_;
      while (size_ > 0 && (static_cast<unsigned char>(out_[size_]) & 0xC0) == 0x80) --size_;
    }
    if (size_ > 0 && out_[size_ - 1] == ' ') --size_;
    out_.resize(size_);
    return std::move(out_);
  }

 private:
  // Cleaning seldom lengthens text; the writes grow the buffer when it does. CopyRun
  // stores 16 bytes at a time: a longer text gets room for a block more. A short text (a
  // category, a name) stays in std::string's own buffer: no allocation at all.
  static std::size_t InitialSize(std::size_t text_size) {
    const std::size_t inline_capacity = std::string().capacity();  // folded to a constant
    return text_size <= inline_capacity ? inline_capacity : text_size + 16;
  }

  // Stops the pass: Run's loop ends once size_ reaches the limit.
  void Invalid() {
    found_invalid_ = true;
    limit_ = 0;
  }

  // The bits of the last bytes of the text, from p (fewer than 16): the bits past `end` are
  // set in `stop`. Reads nothing outside [begin_, end).
  BlockBits ScanTail(const char* p, const char* end) const {
    const auto avail = static_cast<std::size_t>(end - p);
    BlockBits block;
    if (end - begin_ >= 16) {
      // The last 16 bytes of the text, moved down so that p comes first.
      block = ScanBlock(LoadBlock(end - 16), stop_char_);
      const auto shift = static_cast<unsigned>(16 - avail);
      block.stop >>= shift;
      block.space >>= shift;
      block.high >>= shift;
    } else {
      char padded[16] = {};
      std::memcpy(padded, p, avail);
      block = ScanBlock(LoadBlock(padded), stop_char_);
    }
    block.stop |= ~std::uint32_t{0} << avail;
    return block;
  }

  // The fast path, at a byte that copy_ allows: the run of such bytes, with the single
  // spaces between them and the visible characters among those that Special handles,
  // found 16 bytes at a time and stored to the output as they are found (the bytes stored
  // past the run are overwritten next, or dropped by Finish).
  const char* CopyRun(const char* p, const char* end) {
    FlushSpace();
    const char* const start = p;
    // Finish keeps at most room bytes of the run: no need to look much further.
    const std::size_t room = limit_ - size_;
    std::uint32_t after_space = 0;  // 1 when the byte before the block is a space of the run
    std::uint32_t high = 0;         // not 0 when the run has bytes from 0x80 up
    for (;;) {
      BlockBits block;
      if (end - p >= 16) [[likely]] {
        const Block bytes = LoadBlock(p);
        block = ScanBlock(bytes, stop_char_);
        Reserve(16);
        StoreBlock(out_.data() + size_, bytes);
      } else {
        block = ScanTail(p, end);
        const auto avail = static_cast<std::size_t>(end - p);
        Reserve(avail);
        std::memcpy(out_.data() + size_, p, avail);
      }
      // A space ends the run when it follows another: FlushSpace knows not to repeat the
      // first, which the run keeps.
      const std::uint32_t stop = block.stop | (block.space & ((block.space << 1) | after_space));
      if (stop == 0) {
        high |= block.high;
        after_space = block.space >> 15;
        p += 16;  // still inside the text: the bits past its end are set in block.stop
        size_ += 16;
        if (static_cast<std::size_t>(p - start) > room) break;
        continue;
      }
      const int first = std::countr_zero(stop);
      high |= block.high & ((std::uint32_t{1} << first) - 1);
      p += first;
      size_ += static_cast<std::size_t>(first);
      // Most characters behind the lead bytes that stop the scan are visible ("—", "«"):
      // they stay in the run. Such a character may reach past the bytes stored.
      if (p == end || static_cast<unsigned char>(*p) < 0x80) break;
      const std::size_t n = SpecialLength(p, end);
      if (n == 0 || Classify(DecodeValid(p, n)) != CharClass::kVisible) break;
      Reserve(n);
      for (std::size_t i = 0; i < n; ++i) out_[size_ + i] = p[i];
      high = 1;
      p += n;
      size_ += n;
      after_space = 0;
      if (static_cast<std::size_t>(p - start) > room) break;
    }
    if (static_cast<std::size_t>(p - start) > room) {
      // A run cut short may end inside a character: the check below sees all of it (Finish
      // cuts the output at a character boundary).
      for (int i = 0; i < 3 && p < end && (static_cast<unsigned char>(*p) & 0xC0) == 0x80; ++i) {
        ++p;
      }
    }
    if (check_ && high != 0 && !IsValidUtf8({start, static_cast<std::size_t>(p - start)})) {
      Invalid();
      return end;
    }
    return p;
  }

  // p is at a lead byte that copy_ stops at: a character that may be a space or invisible.
  const char* Special(const char* p, const char* end) {
    const std::size_t n = SpecialLength(p, end);
    if (n == 0) {
      if (check_) {
        Invalid();
        return end;
      }
      Append(p, 1);  // the caller promised valid UTF-8: no check, just no harm
      return p + 1;
    }
    switch (Classify(DecodeValid(p, n))) {
      case CharClass::kVisible:
        Append(p, n);
        break;
      case CharClass::kSpace:
        pending_space_ = true;
        break;
      case CharClass::kInvisible:
        break;
    }
    return p + n;
  }

  // out_ is a buffer of which size_ bytes are written: makes room for n more.
  void Reserve(std::size_t n) {
    if (out_.size() - size_ < n) [[unlikely]] {
      Grow(n);
    }
  }

  [[gnu::noinline]] void Grow(std::size_t n) { out_.resize(std::max(2 * out_.size(), size_ + n)); }

  // For a character or two: a call to memcpy costs more than the copy.
  void PutShort(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) Put(p[i]);
  }

  void Put(char c) {
    Reserve(1);
    out_[size_++] = c;
  }

  // `cp` is a Unicode scalar value other than NUL (as ParseNumeric makes them).
  void PutUtf8(char32_t cp) {
    char utf8[4];
    std::size_t n;
    if (cp < 0x80) {
      utf8[0] = static_cast<char>(cp);
      n = 1;
    } else if (cp < 0x800) {
      utf8[0] = static_cast<char>(0xC0 | (cp >> 6));
      utf8[1] = static_cast<char>(0x80 | (cp & 0x3F));
      n = 2;
    } else if (cp < 0x10000) {
      utf8[0] = static_cast<char>(0xE0 | (cp >> 12));
      utf8[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      utf8[2] = static_cast<char>(0x80 | (cp & 0x3F));
      n = 3;
    } else {
      utf8[0] = static_cast<char>(0xF0 | (cp >> 18));
      utf8[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      utf8[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      utf8[3] = static_cast<char>(0x80 | (cp & 0x3F));
      n = 4;
    }
    PutShort(utf8, n);
  }

  // A space goes out only between visible characters: not first, and not again after the
  // one that CopyRun may have copied already. It is written before that is known and kept
  // or not without a branch: whether a space is pending is as unpredictable as the text.
  void FlushSpace() {
    Reserve(1);
    out_[size_] = ' ';
    const bool after_visible = size_ > 0 && out_[size_ - 1] != ' ';
    size_ += static_cast<std::size_t>(pending_space_ & after_visible);
    pending_space_ = false;
  }

  // Appends a character or two of the text as they are.
  void Append(const char* p, std::size_t n) {
    FlushSpace();
    PutShort(p, n);
  }

  void AppendCodePoint(char32_t cp) {
    if (cp > 0x20 && cp < 0x7F) {
      FlushSpace();
      Put(static_cast<char>(cp));
      return;
    }
    switch (Classify(cp)) {
      case CharClass::kVisible:
        FlushSpace();
        PutUtf8(cp);
        break;
      case CharClass::kSpace:
        pending_space_ = true;
        break;
      case CharClass::kInvisible:
        break;
    }
  }

  void AppendReference(const Reference& ref) {
    if (ref.named.empty()) {
      AppendCodePoint(ref.code_point);
      return;
    }
    if (ref.one_visible) {
      FlushSpace();
      PutShort(ref.named.data(), ref.named.size());
      return;
    }
    // Named replacements can be spaces too (&nbsp;, &ThinSpace;, &NewLine;).
    for (std::size_t i = 0; i < ref.named.size();) {
      const std::size_t n = SequenceLength(static_cast<unsigned char>(ref.named[i]));
      switch (Classify(DecodeValid(ref.named.data() + i, n))) {
        case CharClass::kVisible:
          FlushSpace();
          PutShort(ref.named.data() + i, n);
          break;
        case CharClass::kSpace:
          pending_space_ = true;
          break;
        case CharClass::kInvisible:
          break;
      }
      i += n;
    }
  }

  // Escaped text: p is at '&', which starts an XML reference or is a '&' of its own.
  const char* EscapedReference(const char* p, const char* end) {
    const XmlReference ref = ReadXmlReference(p, end);
    if (ref.length == 0) return EscapedEntity(p, p + 1, end);
    const char* const next = p + ref.length;
    if (ref.code_point == '&') return EscapedEntity(p, next, end);
    if (ref.code_point == '<' && markup_) return EscapedMarkup(p, next, end);
    AppendCodePoint(ScalarOrReplacement(ref.code_point));
    return next;
  }

  // Escaped text: `amp` stands for a '&' (as it is, or "&amp;"), and `rest` is what
  // follows. As Entity, reading the bytes of `rest` as they are: right as long as none of
  // those ParseReference reads is a '&' (which may start an XML reference).
  const char* EscapedEntity(const char* amp, const char* rest_begin, const char* end) {
    const std::string_view rest(rest_begin, static_cast<std::size_t>(end - rest_begin));
    const Reference ref = ParseReference(rest);
    if (!ReadVerbatim(rest, ref)) return GiveUp(amp);
    if (ref.length == 0) {
      Append(amp, 1);
      return rest_begin;
    }
    if (ref.length == 4 && (rest.starts_with("amp;") || rest.starts_with("AMP;"))) {
      const std::string_view after = rest.substr(4);
      const Reference inner = ParseReference(after);
      if (!ReadVerbatim(after, inner)) return GiveUp(amp);
      if (inner.length != 0) {
        AppendReference(inner);
        return rest_begin + 4 + inner.length;
      }
    }
    AppendReference(ref);
    return rest_begin + ref.length;
  }

  // Whether ParseReference found `ref` in bytes of `rest` that XML decoding leaves as they
  // are, so that it finds the same in the decoded text. A reference that ends in ';' was
  // read from its own bytes (letters, digits, '#' and the ';'): no '&' among them.
  // Otherwise the bytes ReferenceExtent names must hold none.
  static bool ReadVerbatim(std::string_view rest, const Reference& ref) {
    if (ref.length != 0 && rest[ref.length - 1] == ';') return true;
    const std::string_view read = rest.substr(0, ReferenceExtent(rest));
    return std::ranges::find(read, '&') == read.end();
  }

  // Escaped markup: `lt` stands for a '<' ("&lt;" or a numeric reference), `p` is what
  // follows. As Markup for tags; comments, CDATA, declarations, the content of <script>
  // and the like, and a reference where the name starts are left to the decoded copy.
  const char* EscapedMarkup(const char* lt, const char* p, const char* end) {
    if (p == end) {
      AppendLiteral('<');
      return p;
    }
    const char next = *p;
    if (next == '&' || next == '!' || next == '?') return GiveUp(lt);
    const bool closing = next == '/';
    const char* name = closing ? p + 1 : p;
    if (name < end && *name == '&') return GiveUp(lt);
    if (name < end && IsAsciiAlpha(*name)) {
      const TagName tag = ScanTagName(name, end);
      name += tag.name.size();
      const char* tag_end = nullptr;  // past a "&gt;" right after the name: the commonest tag
      if (name < end && *name == '&') {
        const char* after = name;
        const char c = NextDecodedChar(after, end);
        // A reference that continues the name is left to the decoded copy.
        if (kTagNameChars[static_cast<unsigned char>(c)]) return GiveUp(lt);
        if (c == '>') tag_end = after;
      }
      switch (KindOfElement(tag)) {
        case ElementKind::kInline:
          break;
        case ElementKind::kBlock:
          pending_space_ = true;
          break;
        case ElementKind::kDroppedContent:
          if (!closing) return GiveUp(lt);
          break;
      }
      if (tag_end != nullptr) return tag_end;
    } else if (!closing) {
      AppendLiteral('<');  // "x &lt; y", "a &lt;3"
      return p;
    }
    return SkipEscapedTag(name, end);
  }

  // SkipTag over escaped text: the '>', '=' and quotes it looks for may be references.
  static const char* SkipEscapedTag(const char* p, const char* end) {
    while (p < end) {
      const char c = NextDecodedChar(p, end);
      if (c == '>') return p;
      if (c != '=') continue;
      while (p < end) {
        const char* after = p;
        const char next = NextDecodedChar(after, end);
        if (IsHtmlSpace(next)) {
          p = after;
          continue;
        }
        if (next == '"' || next == '\'') {
          // Past the closing quote, or to the end. Only a '&' can start a quote written as
          // a reference ("&quot;").
          for (p = after; p < end;) {
            p = FindEither(p, end, '&', next);
            if (p < end && NextDecodedChar(p, end) == next) break;
          }
        }
        break;
      }
    }
    return end;
  }

  void AppendLiteral(char c) {
    FlushSpace();
    Put(c);
  }

  // Ends an escaped pass at `p`: Run's loop stops, and the rest is left to Continue.
  const char* GiveUp(const char* p) {
    gave_up_at_ = p;
    return end_;
  }

  // p is at '&'.
  const char* Entity(const char* p, const char* end) {
    const std::string_view rest(p + 1, static_cast<std::size_t>(end - p - 1));
    const Reference ref = ParseReference(rest);
    if (ref.length == 0) {
      Append(p, 1);
      return p + 1;
    }
    // A double-escaped feed writes "&amp;quot;" for '"': decode the reference the "&amp;"
    // stands in front of, if there is one, in the same step.
    if (ref.length == 4 && (rest.starts_with("amp;") || rest.starts_with("AMP;"))) {
      const Reference inner = ParseReference(rest.substr(4));
      if (inner.length != 0) {
        AppendReference(inner);
        return p + 5 + inner.length;
      }
    }
    AppendReference(ref);
    return p + 1 + ref.length;
  }

  // p is at '<' in markup. Returns where text resumes.
  const char* Markup(const char* p, const char* end) {
    const char next = end - p > 1 ? p[1] : '\0';
    if (IsAsciiAlpha(next)) {
      const TagName tag = ScanTagName(p + 1, end);
      const char* after = SkipTag(tag.name.data() + tag.name.size(), end);
      switch (KindOfElement(tag)) {
        case ElementKind::kInline:
          break;
        case ElementKind::kBlock:
          pending_space_ = true;
          break;
        case ElementKind::kDroppedContent:
          return SkipRawText(after, end, tag.name);
      }
      return after;
    }
    if (next == '/') {
      const char* name = p + 2;
      if (name < end && IsAsciiAlpha(*name)) {
        const TagName tag = ScanTagName(name, end);
        if (KindOfElement(tag) == ElementKind::kBlock) pending_space_ = true;
        name += tag.name.size();  // SkipTag would pass over it all the same
      }
      return SkipTag(name, end);
    }
    const std::string_view rest(p, static_cast<std::size_t>(end - p));
    if (next == '!') {
      if (rest.starts_with("<!--")) return SkipComment(p + 4, end);
      if (rest.starts_with("<![CDATA[")) {
        // The markers go, the content stays and is cleaned like the rest: feeds that
        // wrap a description in CDATA twice put HTML in there.
        const std::size_t close = rest.find("]]>", 9);
        const char* content_end = close == std::string_view::npos ? end : p + close;
        Run(p + 9, content_end);
        return content_end == end ? end : content_end + 3;
      }
      return SkipPast(p + 2, end, '>');  // <!DOCTYPE ...> and other declarations
    }
    if (next == '?') return SkipPast(p + 2, end, '>');
    Append(p, 1);  // "x < y", "a <3"
    return p + 1;
  }

  static const char* SkipPast(const char* p, const char* end, char c) {
    if (p >= end) return end;
    const void* found = std::memchr(p, c, static_cast<std::size_t>(end - p));
    return found ? static_cast<const char*>(found) + 1 : end;
  }

  // The rest of a tag after its name: attributes up to the closing '>'. A quoted value
  // may hold '>'; a quote elsewhere (<img alt=it's>) is an ordinary character. An
  // unterminated tag runs to the end, as in HTML.
  static const char* SkipTag(const char* p, const char* end) {
    while (p < end) {
      const char c = *p++;
      if (c == '>') return p;
      if (c != '=') continue;
      while (p < end && IsHtmlSpace(*p)) ++p;
      if (p < end && (*p == '"' || *p == '\'')) p = SkipPast(p + 1, end, *p);
    }
    return end;
  }

  // p is just after "<!--". HTML ends a comment at "-->", and also at once for "<!-->"
  // and "<!--->"; an unclosed comment runs to the end.
  static const char* SkipComment(const char* p, const char* end) {
    const std::string_view body(p, static_cast<std::size_t>(end - p));
    if (body.starts_with(">")) return p + 1;
    if (body.starts_with("->")) return p + 2;
    const std::size_t close = body.find("-->");
    return close == std::string_view::npos ? end : p + close + 3;
  }

  // Skips the content of <script> and the like up to and past its end tag, which is
  // "</name" in any case followed by whitespace, '/' or '>'.
  static const char* SkipRawText(const char* p, const char* end, std::string_view name) {
    while (p < end) {
      const void* found = std::memchr(p, '<', static_cast<std::size_t>(end - p));
      if (!found) return end;
      p = static_cast<const char*>(found) + 1;
      if (static_cast<std::size_t>(end - p) < name.size() + 1 || *p != '/') continue;
      const char* q = p + 1;
      bool same = true;
      for (char c : name) same = same && AsciiLower(*q++) == AsciiLower(c);
      if (!same) continue;
      if (q == end || IsHtmlSpace(*q) || *q == '/' || *q == '>') return SkipTag(q, end);
    }
    return end;
  }

  const std::array<bool, 256>& copy_;
  const char stop_char_;  // for ScanBlock
  const bool markup_;
  const bool check_;
  bool escaped_;                      // XML references still to decode (CleanXmlText)
  const char* gave_up_at_ = nullptr;  // where an escaped pass stopped

  const char* begin_;  // of the whole text: ScanTail may read back to here
  const char* end_;    // of the whole text
  std::size_t limit_;  // max_bytes, or 0 once invalid UTF-8 is found
  std::string out_;
  std::size_t size_ = 0;
  bool pending_space_ = false;
  bool found_invalid_ = false;
};

// Whether cleaning leaves `text` as it is: bytes that CopyRun copies as they are and
// single spaces between them, nothing past max_bytes, and with `check` valid UTF-8. Most
// titles, ids, categories and names are; they are copied without a Cleaner. 16 bytes at a
// time, as CopyRun reads them; the last block ends at the end of the text and may overlap
// the one before (a byte checked twice is harmless).
bool Unchanged(std::string_view text, TextKind kind, std::size_t max_bytes, bool check) {
  if (text.empty() || text.size() > max_bytes || text.front() == ' ' || text.back() == ' ') {
    return false;
  }
  const char stop_char = kind == TextKind::kHtml ? '<' : '&';
  const auto clean = [](const BlockBits& block, std::uint32_t space_before) {
    return (block.stop | (block.space & ((block.space << 1) | space_before))) == 0;
  };
  std::uint32_t high = 0;
  if (text.size() < 16) {
    char padded[16] = {};
    std::memcpy(padded, text.data(), text.size());
    BlockBits block = ScanBlock(LoadBlock(padded), stop_char);
    block.stop &= (std::uint32_t{1} << text.size()) - 1;  // not the padding
    if (!clean(block, 0)) return false;
    high = block.high;
  } else {
    for (std::size_t at = 0;; at += 16) {
      at = std::min(at, text.size() - 16);
      const BlockBits block = ScanBlock(LoadBlock(text.data() + at), stop_char);
      if (!clean(block, at > 0 && text[at - 1] == ' ')) return false;
      high |= block.high;
      if (at + 16 == text.size()) break;
    }
  }
  return !check || high == 0 || IsValidUtf8(text);
}

// Input that is not valid UTF-8 is repaired into `storage` first.
std::string_view RepairedInput(std::string_view text, std::string& storage) {
  if (IsValidUtf8(text)) return text;
  storage.assign(text);
  RepairUtf8(storage);
  return storage;
}

}  // namespace

std::string CleanText(std::string_view text, TextKind kind, std::size_t max_bytes,
                      Utf8Input input) {
  if (Unchanged(text, kind, max_bytes, input == Utf8Input::kUnchecked)) return std::string(text);
  Cleaner cleaner(kind, max_bytes, text, input == Utf8Input::kUnchecked);
  cleaner.Run(text.data(), text.data() + text.size());
  if (!cleaner.found_invalid()) return std::move(cleaner).Finish();
  // Rare: the text is repaired and cleaned again from the start.
  std::string repaired(text);
  RepairUtf8(repaired);
  Cleaner again(kind, max_bytes, repaired, /*check=*/false);
  again.Run(repaired.data(), repaired.data() + repaired.size());
  return std::move(again).Finish();
}

std::string CleanXmlText(std::string_view xml, TextKind kind, std::size_t max_bytes) {
  // '&' stops Unchanged: no XML reference is left undecoded.
  if (Unchanged(xml, kind, max_bytes, /*check=*/false)) return std::string(xml);
  Cleaner cleaner(kind, max_bytes, xml, /*check=*/false, /*escaped=*/true);
  cleaner.Run(xml.data(), xml.data() + xml.size());
  if (const char* rest = cleaner.gave_up_at()) {
    // Rare markup: the rest is decoded and cleaned as CleanText would, from the same state.
    std::string decoded;
    AppendXmlDecoded(decoded, {rest, static_cast<std::size_t>(xml.data() + xml.size() - rest)});
    cleaner.Continue(decoded);
  }
  return std::move(cleaner).Finish();
}

void AppendXmlDecoded(std::string& out, std::string_view raw) {
  // Decoding never lengthens text (the shortest reference, "&#0;", becomes the three bytes
  // of U+FFFD), so one resize covers it and the bytes are written through a pointer.
  const std::size_t start = out.size();
  out.resize(start + raw.size());
  char* o = out.data() + start;
  const char* p = raw.data();
  const char* const end = p + raw.size();
  while (p < end) {
    const auto* amp =
        static_cast<const char*>(std::memchr(p, '&', static_cast<std::size_t>(end - p)));
    if (amp == nullptr) amp = end;
    std::memcpy(o, p, static_cast<std::size_t>(amp - p));
    o += amp - p;
    p = amp;
    if (p == end) break;
    const XmlReference ref = ReadXmlReference(p, end);
    if (ref.length == 0) {
      *o++ = *p++;
    } else {
      o = WriteUtf8(ref.code_point, o);
      p += ref.length;
    }
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
}

std::string DecodeEntities(std::string_view text) {
  std::string storage;
  text = RepairedInput(text, storage);
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (;;) {
    const std::size_t amp = text.find('&', pos);
    out.append(text.substr(pos, amp - pos));
    if (amp == std::string_view::npos) break;
    const Reference ref = ParseReference(text.substr(amp + 1));
    if (ref.length == 0) {
      out += '&';
    } else if (!ref.named.empty()) {
      out += ref.named;
    } else {
      AppendUtf8(out, ref.code_point);
    }
    pos = amp + 1 + ref.length;
  }
  return out;
}

}  // namespace newsmon::parse
