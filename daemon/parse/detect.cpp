#include <algorithm>
#include <string_view>

#include "daemon/parse/ascii.h"
#include "daemon/parse/context.h"

namespace newsmon::parse {
namespace {

// How far to look for the root element: past an XML declaration, a stylesheet PI, a
// DOCTYPE and a licence comment or two.
constexpr std::size_t kSniffBytes = 16 * 1024;

// Skips whitespace and a UTF-8 BOM.
std::string_view SkipSpace(std::string_view s) {
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  while (!s.empty() && IsMarkupSpace(s.front())) s.remove_prefix(1);
  return s;
}

// Skips one construct that may precede the root element; false when `s` does not start
// with one.
bool SkipProlog(std::string_view& s) {
  auto skip_past = [&](std::string_view end) {
    auto at = s.find(end);
    s = at == std::string_view::npos ? std::string_view{} : s.substr(at + end.size());
    return true;
  };
  if (s.starts_with("<?")) return skip_past("?>");
  if (s.starts_with("<!--")) return skip_past("-->");
  if (StartsWithNoCase(s, "<!DOCTYPE")) {
    // An internal subset may hold '>' inside [ ... ].
    auto bracket = s.find('[');
    auto close = s.find('>');
    if (bracket != std::string_view::npos && bracket < close) return skip_past("]>");
    return skip_past(">");
  }
  return false;
}

}  // namespace

core::SourceKind DetectFormat(std::string_view utf8) {
  std::string_view s = SkipSpace(utf8.substr(0, kSniffBytes));
  if (s.starts_with("{")) return core::SourceKind::kJson;
  bool html_doctype = false;
  while (true) {
    if (StartsWithNoCase(s, "<!DOCTYPE html")) html_doctype = true;
    if (!SkipProlog(s)) break;
    s = SkipSpace(s);
  }
  if (!s.starts_with("<")) return html_doctype ? core::SourceKind::kHtml : core::SourceKind::kAuto;
  s.remove_prefix(1);
  auto end = std::find_if(s.begin(), s.end(),
                          [](char c) { return IsMarkupSpace(c) || c == '>' || c == '/'; });
  std::string_view name(s.data(), static_cast<std::size_t>(end - s.begin()));
  std::string_view local =
      name.substr(name.find(':') == std::string_view::npos ? 0 : name.find(':') + 1);
  if (local == "rss") return core::SourceKind::kRss;
  if (local == "RDF") return core::SourceKind::kRdf;
  if (local == "feed") return core::SourceKind::kAtom;
  // Any other markup (an HTML page, a fragment, an unknown XML vocabulary) is a page.
  return core::SourceKind::kHtml;
}

}  // namespace newsmon::parse
