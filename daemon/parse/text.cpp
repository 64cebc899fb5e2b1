#include "daemon/parse/text.h"

namespace newsmon::parse {

std::string CleanText(std::string_view text, TextKind, std::size_t) { return std::string(text); }
std::string DecodeEntities(std::string_view text) { return std::string(text); }

}  // namespace newsmon::parse
