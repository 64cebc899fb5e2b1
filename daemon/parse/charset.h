// Input charsets: which one the bytes are in, and turning them into UTF-8. Both functions
// are pure and thread-safe: iconv and uchardet state lives only inside a call.
#pragma once

#include <string>
#include <string_view>

namespace newsmon::parse {

enum class Markup { kXml, kHtml, kJson };

// The charset of `body` as a name iconv knows, by precedence:
//  1. a byte order mark (UTF-8, UTF-16LE/BE, UTF-32LE/BE);
//  2. the charset parameter of `content_type`, the HTTP Content-Type value (quoted or not,
//     any case);
//  3. UTF-16 or UTF-32 without a BOM, told by the NULs around the first (ASCII) characters,
//     as in XML Appendix F and RFC 4627; for kJson, "UTF-8" here, since RFC 8259 allows
//     nothing else;
//  4. the document's declaration: <?xml … encoding="…"?> at the start (after optional
//     whitespace) for kXml; for kHtml, <meta charset=…> or <meta http-equiv="Content-Type"
//     content="…; charset=…"> within the first 1024 bytes, attributes in any order and case,
//     quotes optional, metas inside comments ignored. A declaration naming UTF-16 or UTF-32
//     gives "UTF-8": it was readable as ASCII, so the document is not (WHATWG rule);
//  5. "UTF-8" when the bytes are UTF-8: valid, cut off inside the last character, or with
//     errors rare enough (under one per 8 bytes of good multi-byte UTF-8) to be damage:
//     a guess would turn a whole feed to mojibake to save one stray byte;
//  6. uchardet's guess from the first 64 KiB (tells windows-1251 from KOI8-R on Russian);
//  7. "windows-1252".
// Labels are normalised after the WHATWG Encoding spec: "UTF-8", "UTF-16LE" for a bare
// "utf-16", "windows-1251" for cp1251, "KOI8-R", "windows-1252" for latin1, iso-8859-1 and
// us-ascii (browsers do the same), "GBK" for gb2312, "CP932" for Shift_JIS, "CP949" for
// EUC-KR, "ISO-8859-N"; other well-formed labels are returned as written and left to iconv.
// A label that is not shaped like one (over 40 characters, spaces, '/' as in "//TRANSLIT")
// is ignored and the next step decides. A declared charset is believed even when the bytes
// disagree: "UTF-8" on bytes that are not UTF-8 stays "UTF-8" and ConvertToUtf8 repairs them
// with U+FFFD, as a browser would show the page.
std::string DetectCharset(std::string_view body, std::string_view content_type, Markup markup);

// Converts `body` from `charset` (any label DetectCharset accepts) to UTF-8 in place. A byte
// order mark outranks `charset`, as in WHATWG "decode", and is dropped. Invalid or unmappable
// input becomes U+FFFD and conversion goes on; this includes the five bytes windows-1252
// leaves undefined (0x81 0x8D 0x8F 0x90 0x9D), which WHATWG maps to C1 controls but which
// mean nothing in news text. A charset iconv does not know is read as UTF-8 with the same
// repair. The result is always valid UTF-8; UTF-8 input is validated in place and copied only
// when it needs repair.
void ConvertToUtf8(std::string& body, const std::string& charset);

}  // namespace newsmon::parse
