#include "daemon/parse/parse.h"

#include <algorithm>
#include <array>
#include <pugixml.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "daemon/core/time.h"
#include "daemon/core/url.h"
#include "daemon/parse/charset.h"
#include "daemon/parse/context.h"
#include "daemon/parse/date.h"
#include "daemon/parse/html.h"

namespace newsmon::parse {
namespace {

// How much of a summary stands in for a missing title.
constexpr std::size_t kTitleFromSummaryBytes = 200;

// Cuts `text` to at most `max` bytes at a character boundary, then back to the last space
// if there is one in the second half, so a stand-in title ends on a whole word.
std::string Shorten(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  auto space = text.rfind(' ', cut);
  if (space != std::string::npos && space > max / 2) cut = space;
  text.resize(cut);
  text += "…";
  return text;
}

// FNV-1a, 64 bits: stable across builds and platforms, which std::hash is not.
std::uint64_t Fnv1a(std::string_view data, std::uint64_t hash = 14695981039346656037ULL) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string HashId(const core::Item& item) {
  std::uint64_t hash = Fnv1a(item.title);
  hash = Fnv1a("\n", hash);
  if (item.published) hash = Fnv1a(core::FormatRfc3339(*item.published), hash);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("urn:newsmon:") + hex;
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

Markup MarkupFor(core::SourceKind kind, std::string_view body) {
  switch (kind) {
    case core::SourceKind::kHtml:
      return Markup::kHtml;
    case core::SourceKind::kJson:
      return Markup::kJson;
    case core::SourceKind::kAuto:
      break;
    default:
      return Markup::kXml;
  }
  // Before decoding only ASCII-compatible or BOM-marked bytes can be sniffed; that is
  // enough to tell JSON and XML declarations from pages.
  std::string_view start = body.substr(0, 512);
  auto first = start.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string_view::npos && start[first] == '{') return Markup::kJson;
  if (start.find("<?xml") != std::string_view::npos ||
      start.find("<rss") != std::string_view::npos ||
      start.find("<feed") != std::string_view::npos ||
      start.find("RDF") != std::string_view::npos ||
      (start.size() >= 2 && (start[0] == '\0' || start[1] == '\0'))) {
    return Markup::kXml;
  }
  return Markup::kHtml;
}

std::string ReadHtml(const std::string& utf8, Context& ctx, std::vector<std::string>& warnings) {
  const Options& options = ctx.options();
  if (options.html == nullptr) {
    return "this is an HTML page, not a feed: a source of kind html with item and title "
           "selectors can read it";
  }
  pugi::xml_document doc;
  if (std::string error = HtmlToXml(utf8, options.limits, doc); !error.empty()) return error;
  ctx.feed().format = core::SourceKind::kHtml;
  std::string error;
  ExtractHtmlItems(doc, *options.html, options.url, options.limits, ctx.feed(), warnings, &error);
  return error;
}

// Printable ASCII but for what a URL would need decoded or escaped.
constexpr auto kPlainUrlChars = [] {
  std::array<bool, 256> table{};
  for (int c = '!'; c <= '~'; ++c) table[c] = true;
  for (char c : {'&', '%', '\\', '<', '>', '"'}) table[static_cast<unsigned char>(c)] = false;
  return table;
}();

// An absolute http(s) URL that resolution would return unchanged: printable ASCII with
// nothing to decode, trim or normalise, and no "/." (which may start a dot segment to
// remove). Most links in feeds are; they skip Boost.URL.
bool IsPlainAbsoluteUrl(std::string_view url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) return false;
#if defined(__SSE2__)
  // Every item has a link or two: 16 bytes at a time, from the second byte on (the first
  // is the 'h'), each block compared with the one a byte earlier for "/.". The last block
  // ends at the end of the URL and may overlap the one before: a byte checked twice is
  // harmless.
  if (url.size() >= 17) {
    const auto load = [&](std::size_t at) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(url.data() + at));
    };
    const auto equal = [](__m128i bytes, char c) {
      return _mm_cmpeq_epi8(bytes, _mm_set1_epi8(c));
    };
    for (std::size_t at = 1;; at += 16) {
      at = std::min(at, url.size() - 16);
      const __m128i bytes = load(at);
      // Signed compares: bytes from 0x80 up are below '!' too.
      __m128i bad = _mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8('!')), equal(bytes, 0x7F));
      for (char c : {'&', '%', '\\', '<', '>', '"'}) bad = _mm_or_si128(bad, equal(bytes, c));
      bad = _mm_or_si128(bad, _mm_and_si128(equal(bytes, '.'), equal(load(at - 1), '/')));
      if (_mm_movemask_epi8(bad) != 0) return false;
      if (at + 16 == url.size()) return true;
    }
  }
#endif
  char previous = '\0';
  for (char c : url) {
    if (!kPlainUrlChars[static_cast<unsigned char>(c)] || (c == '.' && previous == '/')) {
      return false;
    }
    previous = c;
  }
  return true;
}

}  // namespace

std::string Context::Text(std::string_view raw, TextKind kind) const {
  // Every field is cut from a document ConvertToUtf8 made valid, or decoded by AppendUtf8.
  return CleanText(raw, kind, options_.limits.max_text_bytes, Utf8Input::kValid);
}

std::string Context::XmlText(std::string_view xml, TextKind kind) const {
  return CleanXmlText(xml, kind, options_.limits.max_text_bytes);
}

std::optional<std::string> Context::OptionalText(std::string_view raw, TextKind kind) const {
  std::string text = Text(raw, kind);
  if (text.empty()) return std::nullopt;
  return text;
}

std::optional<std::string> Context::Link(std::string_view raw, std::string_view base) const {
  if (IsPlainAbsoluteUrl(raw)) return std::string(raw);
  std::string decoded = CleanText(raw, TextKind::kPlain, options_.limits.max_text_bytes);
  if (decoded.empty()) return std::nullopt;
  // A file read without a source URL still has the feed's own link to resolve against.
  if (base.empty()) base = options_.url;
  if (base.empty() && feed_.link) base = *feed_.link;
  if (auto resolved = core::ResolveUrl(base, decoded)) return resolved;
  return decoded;
}

std::optional<core::TimePoint> Context::Date(std::string_view raw, std::string_view field) {
  raw = Trim(raw);
  if (raw.empty()) return std::nullopt;
  auto date = ParseDate(raw);
  if (!date) {
    Warn("item '" + std::string(field.substr(0, 80)) + "': unreadable date '" +
         std::string(raw.substr(0, 80)) + "'");
  }
  return date;
}

core::Item* Context::NewItem() {
  if (feed_.items.size() >= options_.limits.max_items) {
    if (!warned_full_) {
      Warn("more than " + std::to_string(options_.limits.max_items) +
           " items: the rest are dropped");
      warned_full_ = true;
    }
    return nullptr;
  }
  return &feed_.items.emplace_back();
}

void Context::FinishItem() {
  core::Item& item = feed_.items.back();
  if (!item.title.empty()) return;
  if (!item.summary) {
    Warn("item " + std::to_string(feed_.items.size()) + " has neither title nor summary: skipped");
    feed_.items.pop_back();
    return;
  }
  item.title = Shorten(*item.summary, kTitleFromSummaryBytes);
}

void FinishItems(core::Feed& feed, std::string_view source_name) {
  for (auto& item : feed.items) {
    if (item.id.empty()) item.id = item.link ? core::CanonicalUrl(*item.link) : HashId(item);
    item.source = source_name;
  }
}

Result Parse(std::string body, const Options& options) {
  Result result;
  if (body.size() > options.limits.max_bytes) {
    result.error = "the document is " + std::to_string(body.size()) + " bytes, over the limit of " +
                   std::to_string(options.limits.max_bytes);
    return result;
  }
  result.charset = DetectCharset(body, options.content_type, MarkupFor(options.kind, body));
  ConvertToUtf8(body, result.charset);

  core::SourceKind kind = DetectFormat(body);
  if (options.kind == core::SourceKind::kHtml) kind = core::SourceKind::kHtml;
  core::Feed feed;
  Context ctx(options, result, feed);
  std::string error;
  switch (kind) {
    case core::SourceKind::kRss:
    case core::SourceKind::kAtom:
    case core::SourceKind::kRdf:
      error = ReadXmlFeed(body, ctx);
      break;
    case core::SourceKind::kJson:
      error = ReadJsonFeed(body, ctx);
      break;
    case core::SourceKind::kHtml:
      error = ReadHtml(body, ctx, result.warnings);
      break;
    case core::SourceKind::kAuto:
      error = Trim(body).empty() ? "the document is empty"
                                 : "not a feed or a page: neither markup nor JSON";
      break;
  }
  if (error.empty() && options.kind != core::SourceKind::kAuto && options.kind != feed.format) {
    result.warnings.push_back(
        std::string("configured as kind ") +
        std::string(core::NameOf<core::SourceKind>(core::kSourceKindNames, options.kind)) +
        " but the document is " +
        std::string(core::NameOf<core::SourceKind>(core::kSourceKindNames, feed.format)));
  }
  if (!error.empty()) {
    result.error = std::move(error);
    return result;
  }
  FinishItems(feed, options.source_name);
  result.feed = std::move(feed);
  return result;
}

}  // namespace newsmon::parse
