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

// What is wrong with a source's selectors or date format ("html.title: unexpected ')' at
// offset 7 in 'div > )'"), or "" when they compile. `newsmon check` reports it, since the
// same problem would fail every poll of the source.
std::string HtmlSelectorsProblem(const core::HtmlSelectors& selectors);

// Parses `utf8` (an HTML page, already UTF-8) with gumbo into `doc`, which it resets:
// elements with lower-case names (unknown tags too; characters an XML name cannot hold
// become '_'), their attributes (lower-case names; names that are not XML names, such as
// Vue's ":href", skipped), and text. Comments and the content of <script>, <style>,
// <template> and <noscript> are dropped; entities are decoded once, as HTML does.
//
// Before gumbo runs, a linear pre-scan refuses input that would cost gumbo quadratic
// time: nesting estimated deeper than limits.max_depth ("HTML nesting deeper than 256
// levels (limit)") and a tag with more than 256 attributes. Input over limits.max_bytes is
// refused too. Elements deeper than limits.max_depth that the estimate missed are left out
// of `doc` (with their content). Returns an error message, empty on success; `doc` is
// empty after an error. Pure; safe to call from several threads on different documents.
std::string HtmlToXml(std::string_view utf8, const Limits& limits, pugi::xml_document& doc);

// Extracts items from a page already in `doc`, appending them to `feed.items` and setting
// feed.format (html), feed.title (the page's <title>) and feed.link (`page_url`).
//
// `selectors.item` is a CSS selector over the whole page; the field selectors are relative
// to each item element: "css" (the text of the first match, as the reader sees it, cleaned
// with CleanText), "css@attr" (an attribute of the first match), "@attr" (an attribute of
// the item element itself), or "" (not wanted). "xpath:EXPR" works for any of them.
// Links resolve against <base href> and then `page_url`; only http(s) links are kept.
// Dates are read with selectors.date_format in selectors.timezone when a format is set,
// else with ParseDate.
//
// Errors go to `*error` and leave `feed` untouched: a selector that does not compile
// ("html.title: unexpected ')' ..."), a bad date format or zone, an item selector that
// matches nothing ("item selector 'div.news' matched nothing on the page"). Per-item
// problems go to `warnings` and never drop the item, except a missing title: such an item
// is skipped ("item 3: no title (selector 'h3 a')"); a link that does not resolve or a date
// that does not parse leaves the field null. At most limits.max_items items are kept.
// Item ids and sources are left empty for the caller to fill.
void ExtractHtmlItems(const pugi::xml_document& doc, const core::HtmlSelectors& selectors,
                      std::string_view page_url, const Limits& limits, core::Feed& feed,
                      std::vector<std::string>& warnings, std::string* error);

}  // namespace newsmon::parse
