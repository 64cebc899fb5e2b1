// CSS selectors, translated to XPath 1.0 so pugixml's engine runs them on the DOM built
// from gumbo's tree (the way cssselect feeds lxml).
#pragma once

#include <string>
#include <string_view>

namespace newsmon::parse {

struct XPathOrError {
  std::string xpath;  // set on success
  std::string error;  // set on failure: what is wrong and where in the selector
};

// Supported: type and `*`, `.class`, `#id`, `[attr]`, `[attr=v]`, `[attr~=v]`,
// `[attr^=v]`, `[attr$=v]`, `[attr*=v]` (quoted or bare values), descendant, `>`, `+`,
// `~`, `:nth-child(an+b|odd|even)`, `:first-child`, `:last-child`, `:not(simple)`, and
// lists with `,`. Element and attribute names match case-insensitively (the DOM holds them
// lower-case). `relative` makes every selector relative to the context node's descendants
// (field selectors inside an item); otherwise it searches the whole document. A selector
// starting with "xpath:" is passed through as XPath.
XPathOrError CssToXPath(std::string_view selector, bool relative);

}  // namespace newsmon::parse
