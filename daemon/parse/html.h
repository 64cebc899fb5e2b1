// HTML pages: gumbo's HTML5 tree copied into a pugixml document, and items picked from it
// with the source's CSS selectors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/source.h"
#include "daemon/parse/parse.h"

namespace pugi {
class xml_document;
}

namespace newsmon::parse {

// Parses `utf8` with gumbo into `doc` (elements and text; comments, <script> and <style>
// content dropped; names lower-case). Nesting deeper than limits.max_depth fails fast, before
// gumbo's quadratic cost is paid. Returns an error message, empty on success.
std::string HtmlToXml(std::string_view utf8, const Limits& limits, pugi::xml_document& doc);

// Extracts items from a page already in `doc`. Links resolve against <base href> and then
// `page_url`. Errors (a selector that does not compile, an item selector that matches
// nothing) go to `*error`; per-item problems (no title, a date that does not match the
// format) to `warnings`. Item ids are left empty for the caller to fill.
void ExtractHtmlItems(const pugi::xml_document& doc, const core::HtmlSelectors& selectors,
                      std::string_view page_url, const Limits& limits, core::Feed& feed,
                      std::vector<std::string>& warnings, std::string* error);

}  // namespace newsmon::parse
