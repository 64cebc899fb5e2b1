// Input charsets: which one the bytes are in, and turning them into UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace newsmon::parse {

enum class Markup { kXml, kHtml, kJson };

// The charset of `body`, by precedence: a byte order mark; the HTTP Content-Type charset
// parameter; the document's own declaration (<?xml encoding=…?> for XML, <meta charset> or
// <meta http-equiv content="…charset=…"> in the first 1024 bytes for HTML); "UTF-8" when
// the bytes are valid UTF-8; else a guess by uchardet (windows-1251 vs KOI8-R, …); else
// windows-1252. Labels are normalised to iconv names ("UTF-8", "UTF-16LE", "windows-1251",
// "KOI8-R", "windows-1252" for latin1/iso-8859-1 as the WHATWG Encoding spec says).
std::string DetectCharset(std::string_view body, std::string_view content_type, Markup markup);

// Converts `body` (in `charset`) to UTF-8 in place, dropping a BOM. Invalid or unmappable
// sequences become U+FFFD; an unknown charset is read as UTF-8 (with the same repair).
void ConvertToUtf8(std::string& body, const std::string& charset);

}  // namespace newsmon::parse
