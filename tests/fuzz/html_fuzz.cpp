// libFuzzer target: any bytes as an HTML page read with fixed selectors, and a prefix of
// them as a CSS selector. parse::Parse must keep the same contract as for feeds (see
// feed_checks.h); CssToXPath must return exactly one of an XPath and an error, and an XPath
// that pugixml compiles.
//
// Input layout: the first byte picks the mode (bit 0: also translate a selector, bit 1:
// relative); the rest is the page. The selector is the page's first line, at most 64 bytes.
// Seeds in corpus/html/ start with '0' (page only) or '1'/'3' (selector on the first line).
#include <cstddef>
#include <cstdint>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "daemon/core/source.h"
#include "daemon/parse/css.h"
#include "daemon/parse/parse.h"
#include "tests/fuzz/feed_checks.h"

namespace {

constexpr std::size_t kMaxSelectorBytes = 64;

void CheckSelector(std::string_view selector, bool relative) {
  using newsmon::fuzz::Require;
  auto translated = newsmon::parse::CssToXPath(selector, relative);
  Require(translated.xpath.empty() != translated.error.empty(),
          "CssToXPath returns an XPath or an error", selector);
  // "xpath:" selectors pass through unchecked by design; pugixml judges them when used.
  if (translated.xpath.empty() || selector.starts_with("xpath:")) return;
  try {
    pugi::xpath_query query(translated.xpath.c_str());
  } catch (const pugi::xpath_exception& e) {
    Require(false, std::string("the XPath of a CSS selector compiles: ") + e.what(),
            translated.xpath);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::string_view page(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode & 1) {
    std::string_view selector = page.substr(0, kMaxSelectorBytes);
    selector = selector.substr(0, selector.find('\n'));
    CheckSelector(selector, (mode & 2) != 0);
  }

  static const newsmon::core::HtmlSelectors kSelectors{
      .item = "li.news, article",
      .title = "h2, a",
      .link = "a@href",
      .date = "time@datetime",
      .summary = "p",
  };
  newsmon::parse::Options options{
      .kind = newsmon::core::SourceKind::kHtml,
      .url = "https://example.org/news/",
      .html = &kSelectors,
      .source_name = "fuzz",
      .limits = {.max_bytes = 1024 * 1024, .max_items = 1000},
  };
  auto result = newsmon::parse::Parse(std::string(page), options);
  newsmon::fuzz::RequireValidResult(result, options.source_name);
  return 0;
}
