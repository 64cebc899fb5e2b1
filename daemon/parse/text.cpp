#include "daemon/parse/text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

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

// A character reference found after an '&'. `length` counts the bytes after the '&' that
// it spans, 0 when there is none; the replacement is `named` when that is set, else
// `code_point`.
struct Reference {
  std::size_t length = 0;
  std::string_view named;
  char32_t code_point = 0;
};

std::string_view FindNamed(std::string_view name) {
  const auto* it = std::lower_bound(
      std::begin(kNamedReferences), std::end(kNamedReferences), name,
      [](const NamedReference& entry, std::string_view key) { return entry.name < key; });
  return it != std::end(kNamedReferences) && it->name == name ? it->utf8 : std::string_view();
}

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

// How a character shows in cleaned text.
enum class CharClass {
  kVisible,
  kSpace,      // collapses with its neighbours into one ASCII space
  kInvisible,  // dropped: zero width, no separation either
};

CharClass Classify(char32_t cp) {
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
char32_t DecodeValid(const char* p, std::size_t n) {
  const auto* s = reinterpret_cast<const unsigned char*>(p);
  switch (n) {
    case 1:
      return s[0];
    case 2:
      return (char32_t{s[0] & 0x1Fu} << 6) | (s[1] & 0x3Fu);
    case 3:
      return (char32_t{s[0] & 0x0Fu} << 12) | (char32_t{s[1] & 0x3Fu} << 6) | (s[2] & 0x3Fu);
    default:
      return (char32_t{s[0] & 0x07u} << 18) | (char32_t{s[1] & 0x3Fu} << 12) |
             (char32_t{s[2] & 0x3Fu} << 6) | (s[3] & 0x3Fu);
  }
}

// Bytes that the fast path copies as they are: visible ASCII other than '&' (and '<' for
// markup), and UTF-8 bytes except the lead bytes of the ranges that hold Unicode spaces
// and zero-width characters (U+0080-00BF, U+1xxx, U+2xxx, U+3xxx, U+Fxxx). Input is
// valid UTF-8 by then, so a continuation byte here always follows a copied lead byte.
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

// How an element affects the text around it.
enum class ElementKind {
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

constexpr auto kBlockElementKeys = [] {
  std::array<std::uint64_t, std::size(kBlockElements)> keys{};
  std::ranges::transform(kBlockElements, keys.begin(), PackTagName);
  std::ranges::sort(keys);
  return keys;
}();
static_assert(std::ranges::none_of(kBlockElementKeys, [](std::uint64_t key) { return key == 0; }),
              "a block element name longer than 8 bytes belongs in kLongBlockElements");

// Elements whose content is not text. <noscript> is among them: its content is a fallback
// for browsers without scripts ("enable JavaScript", tracking pixels), noise in a
// notification.
constexpr std::uint64_t kDroppedContentKeys[] = {PackTagName("script"), PackTagName("style"),
                                                 PackTagName("noscript")};

ElementKind KindOfElement(std::string_view name) {
  const std::uint64_t key = PackTagName(name);
  if (key == 0) {
    return std::ranges::any_of(
               kLongBlockElements,
               [&](std::string_view block) { return EqualsIgnoringAsciiCase(name, block); })
               ? ElementKind::kBlock
               : ElementKind::kInline;
  }
  if (std::ranges::find(kDroppedContentKeys, key) != std::end(kDroppedContentKeys)) {
    return ElementKind::kDroppedContent;
  }
  return std::ranges::binary_search(kBlockElementKeys, key) ? ElementKind::kBlock
                                                            : ElementKind::kInline;
}

// The single forward pass of CleanText over valid UTF-8. Spaces are emitted lazily, only
// before the next visible character, so runs collapse and both ends are trimmed for free.
class Cleaner {
 public:
  Cleaner(TextKind kind, std::size_t max_bytes, std::size_t input_size)
      : copy_(kind == TextKind::kHtml ? kCopyHtml : kCopyPlain),
        markup_(kind == TextKind::kHtml),
        max_bytes_(max_bytes) {
    out_.reserve(std::min(input_size, max_bytes) + 4);
  }

  // Cleans [p, end); recursive once for a CDATA section's content.
  void Run(const char* p, const char* end) {
    // Once out_ holds max_bytes, anything more would be cut again.
    while (p < end && out_.size() < max_bytes_) {
      const auto c = static_cast<unsigned char>(*p);
      if (copy_[c]) {
        p = CopyRun(p, end);
      } else if (c == '&') {
        p = Entity(p, end);
      } else if (c == '<' && markup_) {
        p = Markup(p, end);
      } else if (c < 0x80) {
        // Whitespace, C0 controls and DEL.
        pending_space_ = true;
        ++p;
      } else {
        const std::size_t n = SequenceLength(c);
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
        p += n;
      }
    }
  }

  std::string Finish() && {
    if (out_.size() > max_bytes_) {
      std::size_t cut = max_bytes_;
      while (cut > 0 && (static_cast<unsigned char>(out_[cut]) & 0xC0) == 0x80) --cut;
      out_.resize(cut);
      if (!out_.empty() && out_.back() == ' ') out_.pop_back();
    }
    return std::move(out_);
  }

 private:
  // The fast path: copyable bytes and single spaces between them, appended in one go.
  const char* CopyRun(const char* p, const char* end) {
    const char* start = p;
    for (;;) {
      while (p < end && copy_[static_cast<unsigned char>(*p)]) ++p;
      if (end - p >= 2 && p[0] == ' ' && copy_[static_cast<unsigned char>(p[1])]) {
        p += 2;
        continue;
      }
      break;
    }
    Append(start, static_cast<std::size_t>(p - start));
    return p;
  }

  void FlushSpace() {
    if (pending_space_) {
      pending_space_ = false;
      if (!out_.empty()) out_ += ' ';
    }
  }

  // Appends visible bytes. A long run is clipped one byte past max_bytes: enough for
  // Finish to see whether the cut lands inside a character.
  void Append(const char* p, std::size_t n) {
    FlushSpace();
    const std::size_t room = max_bytes_ > out_.size() ? max_bytes_ - out_.size() : 0;
    out_.append(p, n > room ? room + 1 : n);
  }

  void AppendCodePoint(char32_t cp) {
    switch (Classify(cp)) {
      case CharClass::kVisible:
        FlushSpace();
        AppendUtf8(out_, cp);
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
    // Named replacements can be spaces too (&nbsp;, &ThinSpace;, &NewLine;).
    for (std::size_t i = 0; i < ref.named.size();) {
      const std::size_t n = SequenceLength(static_cast<unsigned char>(ref.named[i]));
      AppendCodePoint(DecodeValid(ref.named.data() + i, n));
      i += n;
    }
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
    if (rest.starts_with("amp;") || rest.starts_with("AMP;")) {
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
    const std::string_view rest(p, static_cast<std::size_t>(end - p));
    const char next = rest.size() > 1 ? rest[1] : '\0';
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
    if (next == '/') {
      const char* name = p + 2;
      if (name < end && IsAsciiAlpha(*name) &&
          KindOfElement(TagName(name, end)) == ElementKind::kBlock) {
        pending_space_ = true;
      }
      return SkipTag(name, end);
    }
    if (!IsAsciiAlpha(next)) {
      Append(p, 1);  // "x < y", "a <3"
      return p + 1;
    }
    const std::string_view name = TagName(p + 1, end);
    const char* after = SkipTag(p + 1 + name.size(), end);
    switch (KindOfElement(name)) {
      case ElementKind::kInline:
        break;
      case ElementKind::kBlock:
        pending_space_ = true;
        break;
      case ElementKind::kDroppedContent:
        return SkipRawText(after, end, name);
    }
    return after;
  }

  static std::string_view TagName(const char* p, const char* end) {
    const char* q = p;
    while (q < end && (IsAsciiAlnum(*q) || *q == '-' || *q == ':' || *q == '_')) ++q;
    return {p, static_cast<std::size_t>(q - p)};
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
  const bool markup_;
  const std::size_t max_bytes_;
  std::string out_;
  bool pending_space_ = false;
};

// Input that is not valid UTF-8 is repaired into `storage` first, so the single pass
// can rely on well-formed sequences; valid input (nearly all of it) is not copied.
std::string_view RepairedInput(std::string_view text, std::string& storage) {
  if (IsValidUtf8(text)) return text;
  storage.assign(text);
  RepairUtf8(storage);
  return storage;
}

}  // namespace

std::string CleanText(std::string_view text, TextKind kind, std::size_t max_bytes) {
  std::string storage;
  text = RepairedInput(text, storage);
  Cleaner cleaner(kind, max_bytes, text.size());
  cleaner.Run(text.data(), text.data() + text.size());
  return std::move(cleaner).Finish();
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
