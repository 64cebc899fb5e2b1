// UTF-8 checking and repair. Everything parse returns goes through these, so no field
// ever holds invalid UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace newsmon::parse {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Appends `code_point` as UTF-8; NUL, surrogates and values past U+10FFFF append U+FFFD.
void AppendUtf8(std::string& out, char32_t code_point);

// As AppendUtf8, writing at `out` (room for 4 bytes) and returning the end of what it wrote.
char* WriteUtf8(char32_t code_point, char* out);

// The length of the valid UTF-8 prefix of `text` (text.size() when all of it is valid).
// Overlong forms, surrogates and values past U+10FFFF are invalid.
std::size_t ValidUtf8Prefix(std::string_view text);

inline bool IsValidUtf8(std::string_view text) { return ValidUtf8Prefix(text) == text.size(); }

// Replaces every invalid sequence in `text` with U+FFFD (one per maximal invalid
// subpart, as the Unicode standard recommends). No copy when `text` is already valid.
void RepairUtf8(std::string& text);

}  // namespace newsmon::parse
