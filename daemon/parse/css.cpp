#include "daemon/parse/css.h"

namespace newsmon::parse {

XPathOrError CssToXPath(std::string_view, bool) { return {.error = "not implemented"}; }

}  // namespace newsmon::parse
