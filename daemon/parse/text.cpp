#include "daemon/parse/text.h"

namespace newsmon::parse {

std::string CleanText(std::string_view text, TextKind, std::size_t) { return std::string(text); }
std::string DecodeEntities(std::string_view text) { return std::string(text); }
void AppendUtf8(std::string& out, char32_t code_point) { out += static_cast<char>(code_point); }
bool IsValidUtf8(std::string_view) { return true; }
std::string ToValidUtf8(std::string_view text) { return std::string(text); }

}  // namespace newsmon::parse
