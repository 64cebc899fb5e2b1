// What the format readers (XML feeds, JSON Feed) share while they build one Feed: the
// options, the warnings, and the rules that turn raw field values into clean Item fields.
// Internal to parse.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/feed.h"
#include "daemon/parse/parse.h"
#include "daemon/parse/text.h"

namespace newsmon::parse {

class Context {
 public:
  Context(const Options& options, Result& result, core::Feed& feed)
      : options_(options), result_(result), feed_(feed) {}

  const Options& options() const { return options_; }
  core::Feed& feed() { return feed_; }

  void Warn(std::string message) { result_.warnings.push_back(std::move(message)); }

  // The clean form of a field (see CleanText), cut to limits.max_text_bytes.
  std::string Text(std::string_view raw, TextKind kind) const;
  // As Text for `xml`, character data whose XML references are still to be decoded (see
  // CleanXmlText).
  std::string XmlText(std::string_view xml, TextKind kind) const;
  // As Text, but nullopt when nothing is left.
  std::optional<std::string> OptionalText(std::string_view raw, TextKind kind) const;

  // `raw` resolved against `base` (which falls back to the source URL, then to the feed's
  // own link, when empty); the
  // trimmed raw text when it cannot be made absolute (no base for a relative link); nullopt
  // when empty.
  std::optional<std::string> Link(std::string_view raw, std::string_view base = {}) const;

  // ParseDate; an unparseable non-empty date is a warning naming `field`, never an error.
  std::optional<core::TimePoint> Date(std::string_view raw, std::string_view field);

  // Room for the items a document of `bytes` likely holds (one per KiB, at most
  // limits.max_items): growing the list item by item moves every Item several times.
  void ExpectItemsIn(std::size_t bytes) {
    feed_.items.reserve(std::min(bytes / 1024, options_.limits.max_items));
  }

  // A new, empty item at the end of the feed for the reader to fill (in place: an Item is
  // not moved again), or nullptr once limits.max_items items are held, with one warning (the
  // reader stops).
  core::Item* NewItem();
  // Finishes the item NewItem made: without a title it takes the start of its summary as
  // title; with neither it is dropped with a warning.
  void FinishItem();

 private:
  const Options& options_;
  Result& result_;
  core::Feed& feed_;
  bool warned_full_ = false;
};

// Fills what every format leaves to the end: ids (guid, else canonical link, else a hash of
// title and date) and the source name.
void FinishItems(core::Feed& feed, std::string_view source_name);

// Readers of each format: `utf8` is valid UTF-8 and may be modified in place. They return
// why the document could not be read, or "" when it was.
std::string ReadXmlFeed(std::string& utf8, Context& context);
std::string ReadJsonFeed(const std::string& utf8, Context& context);

// The format of a UTF-8 document from its first bytes: the root element of XML (rss, RDF,
// feed) or a JSON object; kHtml for markup that is not a feed; kAuto when it is neither.
core::SourceKind DetectFormat(std::string_view utf8);

}  // namespace newsmon::parse
