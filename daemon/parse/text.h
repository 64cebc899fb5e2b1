// Text normalisation shared by every format: entity decoding, tag stripping, whitespace
// collapsing and UTF-8 repair. Output is valid UTF-8 (see Utf8Input for the one caveat).
// Both functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace newsmon::parse {

enum class TextKind {
  kPlain,  // text: decode entities (feeds double-escape), collapse whitespace
  kHtml,   // markup: also drop tags, comments, <script>/<style> content; <br>, </p> = space
};

// The clean form of a field, in one forward pass:
//  - kHtml only, on the input as given: '<' followed by a letter, '/', '!' or '?' starts
//    markup that ends at the next '>' outside a quoted attribute value (an unclosed tag
//    runs to the end); any other '<' is text ("x < y"). Tags of block elements (p, br,
//    div, li, td, img, ...) separate words like a space, other tags do not
//    ("Hel<b>lo</b>" is "Hello"). Comments are dropped; CDATA markers are dropped and the
//    content kept and cleaned like the rest; the content of <script>, <style> and
//    <noscript> is dropped.
//  - Entities are decoded as by DecodeEntities, plus one more level for double-escaped
//    feeds: "&amp;" followed by a reference stands for that reference ("&amp;quot;" is
//    '"'). Decoded text is never taken for markup: "&lt;b&gt;" is the text "<b>".
//  - Runs of whitespace (ASCII, U+00A0 and the other Unicode spaces), C0 and C1 controls
//    and DEL become one ASCII space; U+200B and U+FEFF are removed; both ends trimmed.
//  - Invalid UTF-8 is replaced with U+FFFD.
//  - The result is cut at a character boundary to at most `max_bytes` (then trimmed
//    again); work stops once that much is produced.
//
// `input` only changes the cost, not the result: with kUnchecked (the default) any bytes
// are accepted, and the text is checked as it is copied, then repaired and cleaned again
// if it turns out invalid. kValid is for text the caller has validated already, such as a
// field cut from a document that was checked whole: it skips the check. Passing invalid
// UTF-8 with kValid is the caller's bug; it is still safe (no read outside `text`), but
// invalid bytes may then pass into the result as they are.
enum class Utf8Input {
  kUnchecked,  // any bytes; invalid UTF-8 is replaced with U+FFFD
  kValid,      // the caller guarantees valid UTF-8
};
std::string CleanText(std::string_view text, TextKind kind, std::size_t max_bytes,
                      Utf8Input input = Utf8Input::kUnchecked);

// Appends `raw`, XML character data as pugixml leaves it without parse_escapes, with XML's
// own references decoded: the five predefined entities and numeric references (NUL,
// surrogates and values past U+10FFFF become U+FFFD; no Windows-1252 reading of &#128;).
// Other names, such as the "&nbsp;" of feeds that assume an HTML DTD, stay as written for
// CleanText. Decoding never lengthens the text.
void AppendXmlDecoded(std::string& out, std::string_view raw);

// What CleanText(kind, max_bytes, Utf8Input::kValid) makes of `xml` once AppendXmlDecoded
// has decoded it, in one pass over `xml`: escaped HTML ("&lt;p&gt;") is read as markup
// where it stands, without a decoded copy first (markup that pass does not read escaped,
// such as comments, CDATA and <script>, is left to a decoded copy of the rest). `xml` must
// be valid UTF-8, as for Utf8Input::kValid.
std::string CleanXmlText(std::string_view xml, TextKind kind, std::size_t max_bytes);

// Decodes HTML character references once ("&amp;amp;" gives "&amp;"): named ones from the
// HTML5 table, the legacy names ("&amp", "&copy", "&nbsp", ...) also without ';' unless a
// letter, digit or '=' follows (HTML's rule for attributes, which keeps "?a=1&copy=2"
// intact); decimal and hex ones, the ';' optional, with &#128;-&#159; read as
// Windows-1252 as browsers do. References to NUL, surrogates, or past U+10FFFF become
// U+FFFD; unknown names are kept as written. Nothing else changes, except that invalid
// UTF-8 is replaced with U+FFFD.
std::string DecodeEntities(std::string_view text);

}  // namespace newsmon::parse
