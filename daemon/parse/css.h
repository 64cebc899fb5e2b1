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

// Translates a CSS selector to an XPath 1.0 expression for pugixml.
//
// Supported: type selectors and `*`; `.class`; `#id`; `[attr]`, `[attr=v]`, `[attr~=v]`,
// `[attr^=v]`, `[attr$=v]`, `[attr*=v]`, `[attr|=v]` with single-, double- or unquoted
// values (unquoted values may be any run without spaces, as in `[href=/news/]`) and an
// optional ` i` flag (ASCII case-insensitive); CSS escapes (`.md\:flex`, `#\31 23`);
// compound selectors (`a.title[href]`); the combinators descendant, `>`, `+` and `~`;
// `:nth-child()`, `:nth-last-child()`, `:nth-of-type()`, `:nth-last-of-type()` (an+b, odd,
// even), `:first-child`, `:last-child`, `:only-child`, `:first-of-type`, `:last-of-type`,
// `:only-of-type` (the *-of-type ones need a type: `li:first-of-type`), `:empty`, `:root`,
// `:not()` of compound selectors or a list of them (not nested); and selector lists with
// `,` (an XPath union, matched in document order).
//
// Element and attribute names are lower-cased: they match the lower-case names HtmlToXml
// stores. Class, id and attribute values compare case-sensitively.
//
// `relative` = false: matches anywhere in the document ("//..."). `relative` = true: the
// selector is evaluated with an item element as context and matches among its
// descendants, never the element itself, like element.querySelectorAll (".//...").
// A selector starting with "xpath:" is passed through as XPath, after checking that it
// compiles and selects nodes.
//
// On error, `error` says what and where, with 1-based byte offsets ("unexpected ')' at
// offset 7 in 'div > )'"), and names unsupported pseudo-classes. Every XPath returned
// compiles with pugi::xpath_query. Safe on any input: selectors over 4096 bytes are
// refused and the XPath is at most 64 KiB. Pure; safe to call from several threads.
XPathOrError CssToXPath(std::string_view selector, bool relative);

}  // namespace newsmon::parse
