// Text normalisation shared by every format: entity decoding, tag stripping, whitespace
// collapsing and UTF-8 repair. Output is always valid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace newsmon::parse {

enum class TextKind {
  kPlain,  // text: decode entities (feeds double-escape), collapse whitespace
  kHtml,   // markup: also drop tags, comments, <script>/<style> content; <br>, </p> = space
};

// The clean form of a field: entities decoded (named HTML5, numeric, and one more level
// for double-escaped "&amp;amp;"), tags stripped for kHtml, runs of whitespace (including
// U+00A0 and other Unicode spaces) collapsed to one space, trimmed, invalid UTF-8 replaced
// with U+FFFD, cut at a character boundary to at most `max_bytes`.
std::string CleanText(std::string_view text, TextKind kind, std::size_t max_bytes);

// Decodes HTML character references once: named (HTML5 table, with and without ';' where
// HTML allows), decimal and hex. References to NUL, surrogates, or past U+10FFFF become
// U+FFFD; unknown names are kept as written.
std::string DecodeEntities(std::string_view text);

}  // namespace newsmon::parse
