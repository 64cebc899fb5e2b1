// What every source becomes once parsed: a Feed with the source's own metadata and its
// Items. Produced by parse (from RSS, Atom, RDF, JSON Feed or an HTML page), read by rules,
// store and alert. All text is clean UTF-8: entities decoded, tags stripped, whitespace
// collapsed.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/source.h"

namespace newsmon::core {

// A point in time in UTC, to the second (feeds carry no finer precision worth keeping).
using TimePoint = std::chrono::sys_seconds;

struct Item {
  // Dedup key: the item's guid/id when present, else its canonical link, else
  // "urn:newsmon:" plus a stable hash of title and date. Never empty.
  std::string id;
  std::string title;                    // never empty (untitled items are skipped)
  std::optional<std::string> link;      // absolute URL, resolved against the page/xml:base
  std::optional<TimePoint> published;   // when the source says it was published (UTC)
  std::optional<std::string> summary;   // plain text of the description/summary/content
  std::optional<std::string> author;    // a name (or an e-mail when that is all there is)
  std::vector<std::string> categories;  // in document order, duplicates removed
  std::string source;                   // the configured source name; empty when ad hoc
};

struct Feed {
  SourceKind format = SourceKind::kAuto;    // the format detected (never kAuto once parsed)
  std::string title;                        // may be empty (HTML pages: the <title>)
  std::optional<std::string> link;          // the site the feed describes
  std::optional<std::string> self_link;     // rel="self": where the feed says it lives
  std::optional<std::string> hub_link;      // rel="hub": a WebSub hub
  std::optional<std::chrono::minutes> ttl;  // RSS <ttl>: how long the feed may be cached
  std::vector<Item> items;                  // in document order
};

}  // namespace newsmon::core
