// What every parse::Parse result must satisfy, whatever the input: the contract of
// daemon/parse/parse.h and daemon/core/feed.h, checked by the parse fuzz targets. A broken
// invariant prints what broke and aborts, which libFuzzer reports as a crash with the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/feed.h"
#include "daemon/parse/parse.h"
#include "daemon/parse/utf8.h"

namespace newsmon::fuzz {

inline void Require(bool holds, std::string_view what, std::string_view value = {}) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %.*s (value: %.*s)\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(value.size() > 200 ? 200 : value.size()),
               value.data());
  std::abort();
}

// Valid UTF-8 without NUL: what every text field of a Feed must be.
inline void RequireCleanText(std::string_view text, std::string_view field) {
  Require(parse::IsValidUtf8(text), std::string(field) + " is valid UTF-8", text);
  Require(text.find('\0') == std::string_view::npos, std::string(field) + " has no NUL", text);
}

inline void RequireCleanOptional(const std::optional<std::string>& text, std::string_view field) {
  if (text) RequireCleanText(*text, field);
}

inline void RequireValidResult(const parse::Result& result, std::string_view source_name) {
  if (!result.ok()) {
    Require(!result.error.empty(), "a failed parse says why");
    return;
  }
  const core::Feed& feed = *result.feed;
  Require(feed.format != core::SourceKind::kAuto, "a parsed feed has a format");
  RequireCleanText(feed.title, "feed.title");
  RequireCleanOptional(feed.link, "feed.link");
  RequireCleanOptional(feed.self_link, "feed.self_link");
  RequireCleanOptional(feed.hub_link, "feed.hub_link");
  for (const core::Item& item : feed.items) {
    Require(!item.id.empty(), "item.id is not empty", item.title);
    Require(!item.title.empty(), "item.title is not empty", item.id);
    RequireCleanText(item.id, "item.id");
    RequireCleanText(item.title, "item.title");
    RequireCleanOptional(item.link, "item.link");
    RequireCleanOptional(item.summary, "item.summary");
    RequireCleanOptional(item.author, "item.author");
    for (const std::string& category : item.categories) {
      RequireCleanText(category, "item.categories[]");
    }
    Require(item.source == source_name, "item.source is the source name", item.source);
  }
}

}  // namespace newsmon::fuzz
