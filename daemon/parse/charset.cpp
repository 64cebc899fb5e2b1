#include "daemon/parse/charset.h"

namespace newsmon::parse {

std::string DetectCharset(std::string_view, std::string_view, Markup) { return "UTF-8"; }
void ConvertToUtf8(std::string&, const std::string&) {}

}  // namespace newsmon::parse
