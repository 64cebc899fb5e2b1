// parse: turns the bytes of a news source into a core::Feed. Pure: no I/O, no clock, no
// globals; safe to call from several threads at once.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/source.h"

namespace newsmon::parse {

// Bounds on hostile or broken input. Exceeding one is an error for the whole source
// (never a crash, never a hang).
struct Limits {
  std::size_t max_bytes = 64 * 1024 * 1024;  // input size before decoding; default 64 MiB
  int max_depth = 256;                       // element nesting, XML, JSON and HTML
  std::size_t max_items = 10000;             // items kept per source; the rest are dropped
  std::size_t max_text_bytes = 64 * 1024;    // per field after cleaning; longer is cut
};

struct Options {
  core::SourceKind kind = core::SourceKind::kAuto;  // auto = detect from the content
  std::string_view url;                             // where the bytes came from: base for links
  std::string_view content_type;                    // HTTP Content-Type, for its charset; may be ""
  const core::HtmlSelectors* html = nullptr;        // required when kind is kHtml
  std::string_view source_name;                     // copied into every Item::source
  Limits limits;
};

struct Result {
  std::optional<core::Feed> feed;     // set on success
  std::string error;                  // on failure: why the source could not be read
  std::vector<std::string> warnings;  // per-item problems that did not stop the parse
  std::string charset;                // the input charset that was used, e.g. "windows-1251"

  bool ok() const { return feed.has_value(); }
};

// Parses one source. `body` is taken by value so the caller can move its buffer in: the
// XML parser works in place and the input is not copied again when it is valid UTF-8.
Result Parse(std::string body, const Options& options);

}  // namespace newsmon::parse
