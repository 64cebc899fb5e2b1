#include "daemon/parse/html.h"

#include <pugixml.hpp>

namespace newsmon::parse {

std::string HtmlToXml(std::string_view, const Limits&, pugi::xml_document&) {
  return "not implemented";
}
void ExtractHtmlItems(const pugi::xml_document&, const core::HtmlSelectors&, std::string_view,
                      const Limits&, core::Feed&, std::vector<std::string>&, std::string* error) {
  *error = "not implemented";
}

}  // namespace newsmon::parse
