#include "daemon/rules/phrase.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <span>

namespace newsmon::rules {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// One code point of `text` at `at`: its value (kInvalid for a byte that does not start a
// well-formed sequence) and length in bytes (1 for an invalid byte).
std::pair<char32_t, std::size_t> DecodeAt(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || at + length > text.size()) return {kInvalid, 1};
  char32_t cp = lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return {kInvalid, 1};
    cp = (cp << 6) | (byte(at + i) & 0x3F);
  }
  constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kInvalid, 1};
  return {cp, length};
}

// An invalid byte counts as a word character: no boundary next to it. The Sets' loose
// boundary classes cannot match an invalid byte either, so both paths agree (and the
// parse stage never hands rules invalid UTF-8 anyway).
bool IsWordCodePoint(std::string_view encoded, char32_t cp) {
  if (cp == kInvalid) return true;
  if (cp < 0x80) return std::isalnum(static_cast<int>(cp)) || cp == '_';
  static const RE2 word(R"([\p{L}\p{N}\p{M}_])");
  return RE2::FullMatch(encoded, word);
}

// Between words: any run of these (the text side matches one or more). Unicode White_Space
// (ASCII controls, NEL, no-break and other spaces, line and paragraph separators), soft
// hyphen, and hyphens, dashes and the minus sign.
bool IsSeparator(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == ' ' || cp == '-' || cp == 0x0085 || cp == 0x00A0 ||
         cp == 0x00AD || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x2212 || cp == 0x3000;
}
constexpr std::string_view kSeparatorClass =
    R"([\x09-\x0D \-\x{0085}\x{00A0}\x{00AD}\x{1680}\x{2000}-\x{200A}\x{2010}-\x{2015})"
    R"(\x{2028}\x{2029}\x{202F}\x{205F}\x{2212}\x{3000}]+)";

constexpr char32_t kApostrophes[] = {'\'',   '`',    0x00B4, 0x02BC, 0x2018,
                                     0x2019, 0x201A, 0x201B, 0x2032};
constexpr char32_t kDoubleQuotes[] = {'"', 0x00AB, 0x00BB, 0x201C, 0x201D, 0x201E, 0x201F, 0x2033};
constexpr std::string_view kApostropheClass = R"(['`\x{00B4}\x{02BC}\x{2018}-\x{201B}\x{2032}])";
constexpr std::string_view kDoubleQuoteClass = R"(["\x{00AB}\x{00BB}\x{201C}-\x{201F}\x{2033}])";

bool IsOneOf(char32_t cp, std::span<const char32_t> set) {
  return std::find(set.begin(), set.end(), cp) != set.end();
}

// Word characters for a '*' inside a phrase: exact (Unicode) and loose (any non-ASCII).
constexpr std::string_view kWordRun = R"([\p{L}\p{N}\p{M}_]*)";
constexpr std::string_view kLooseWordRun = R"([0-9A-Za-z_\x{80}-\x{10FFFF}]*)";
// A loose boundary after a keyword for the prefilter: every non-word character is in it
// (and more).
constexpr std::string_view kLooseAfter = "(?:$|[^0-9A-Za-z_])";
// And one before: every character except ASCII word characters and blocks made only of
// letters and marks (Latin-1 letters, Latin Extended-A/B, Cyrillic but U+0482), so a keyword
// is not tried again at every character inside a word. A single class rather than
// "(?:^|...)": RE2::Set factors entries that start with the same simple piece, which keeps
// its DFA small; the texts are given to the Set with a space in front instead of "^".
constexpr std::string_view kLooseBefore =
    R"([^0-9A-Za-z_\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{24F}\x{400}-\x{481}\x{483}-\x{52F}])";

}  // namespace

bool WordCharAt(std::string_view text, std::size_t at) {
  if (at >= text.size()) return false;
  auto [cp, length] = DecodeAt(text, at);
  return IsWordCodePoint(text.substr(at, length), cp);
}

bool WordCharBefore(std::string_view text, std::size_t at) {
  if (at == 0 || at > text.size()) return false;
  // Step back over at most three continuation bytes to the start of the code point.
  std::size_t start = at - 1;
  while (start > 0 && at - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
    --start;
  }
  auto [cp, length] = DecodeAt(text, start);
  if (start + length != at) return true;  // not a whole code point: invalid bytes
  return IsWordCodePoint(text.substr(start, length), cp);
}

std::size_t WordEnd(std::string_view text, std::size_t at) {
  while (at < text.size()) {
    auto [cp, length] = DecodeAt(text, at);
    if (cp == kInvalid || !IsWordCodePoint(text.substr(at, length), cp)) break;
    at += length;
  }
  return at;
}

std::optional<PhraseRegex> CompilePhrase(std::string_view phrase, std::string& error) {
  PhraseRegex out;
  std::string core;
  std::string loose;
  bool in_word = false;      // inside a word (something written since the last separator)
  bool pending_sep = false;  // separators seen since the last word
  bool star_ended = false;   // the current word ended with '*'
  bool first_is_word = false;
  bool last_is_word = false;
  std::size_t at = 0;
  while (at < phrase.size()) {
    auto [cp, length] = DecodeAt(phrase, at);
    if (cp == kInvalid) {
      error = "not valid UTF-8";
      return std::nullopt;
    }
    std::string_view encoded = phrase.substr(at, length);
    at += length;
    if (IsSeparator(cp)) {
      if (in_word) pending_sep = true;
      in_word = false;
      star_ended = false;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F) {
      error = "a control character is not allowed";
      return std::nullopt;
    }
    if (star_ended) {
      error = "'*' may only end a word (as in \"Казахстан*\")";
      return std::nullopt;
    }
    if (pending_sep) {
      core += kSeparatorClass;
      loose += kSeparatorClass;
      pending_sep = false;
    }
    bool first = core.empty();
    if (cp == '*') {
      if (!in_word) {
        error = "'*' must follow a word (as in \"Казахстан*\")";
        return std::nullopt;
      }
      star_ended = true;
      last_is_word = true;
      // A trailing '*' on the last word is handled by extend_end; inside the phrase it
      // becomes a run of word characters. Which case it is shows when the phrase ends.
      core += '\x01';  // placeholder, resolved below
      loose += kLooseWordRun;
      continue;
    }
    in_word = true;
    bool word = IsWordCodePoint(encoded, cp);
    if (first) first_is_word = word;
    last_is_word = word;
    if (IsOneOf(cp, kApostrophes)) {
      core += kApostropheClass;
      loose += kApostropheClass;
    } else if (IsOneOf(cp, kDoubleQuotes)) {
      core += kDoubleQuoteClass;
      loose += kDoubleQuoteClass;
    } else {
      std::string quoted = RE2::QuoteMeta(encoded);
      core += quoted;
      loose += quoted;
    }
  }
  if (core.empty()) {
    error = "empty phrase";
    return std::nullopt;
  }
  if (core.back() == '\x01') {
    core.pop_back();
    loose.resize(loose.size() - kLooseWordRun.size());
    out.extend_end = true;
  }
  // Any placeholder left stands for a '*' inside the phrase.
  for (std::size_t p; (p = core.find('\x01')) != std::string::npos;) core.replace(p, 1, kWordRun);
  out.boundary_before = first_is_word;
  out.boundary_after = last_is_word && !out.extend_end;
  out.core = "(?i:" + core + ")";
  out.prefilter = "(?i:" + std::string(out.boundary_before ? kLooseBefore : "") + loose +
                  std::string(out.boundary_after ? kLooseAfter : "") + ")";
  return out;
}

}  // namespace newsmon::rules
