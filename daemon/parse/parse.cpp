#include "daemon/parse/parse.h"

namespace newsmon::parse {
Result Parse(std::string, const Options&) { return {.error = "not implemented"}; }
}  // namespace newsmon::parse
