// A configured news source: where to poll and how to read it. Built and validated by
// `config`, read by fetch, parse and schedule.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/enum_names.h"

namespace newsmon::core {

enum class SourceKind { kAuto, kRss, kAtom, kRdf, kJson, kHtml };

inline constexpr EnumName<SourceKind> kSourceKindNames[] = {
    {SourceKind::kAuto, "auto"}, {SourceKind::kRss, "rss"},   {SourceKind::kAtom, "atom"},
    {SourceKind::kRdf, "rdf"},   {SourceKind::kJson, "json"}, {SourceKind::kHtml, "html"},
};

// How to find items on an HTML page (kind: html). Selectors are CSS, each relative to the
// item element; "sel@attr" takes an attribute instead of the text.
struct HtmlSelectors {
  std::string item;              // required: one match per news item
  std::string title;             // required
  std::string link;              // optional; empty = none
  std::string date;              // optional; empty = none
  std::string summary;           // optional; empty = none
  std::string date_format;       // strftime-like, e.g. "%d %B %Y - %H:%M"; empty = auto-detect
  std::string timezone = "UTC";  // IANA zone the page's dates are written in

  bool operator==(const HtmlSelectors&) const = default;
};

using Header = std::pair<std::string, std::string>;

// Which private addresses a source may reach (sources are refused loopback, private,
// link-local, CGNAT, multicast and unspecified addresses unless allowed here).
struct NetworkAllowance {
  bool all_private = false;        // allow_private_networks: true
  std::vector<std::string> cidrs;  // allow_private_networks: [CIDR, ...], e.g. "127.0.0.2/32"

  bool operator==(const NetworkAllowance&) const = default;
};

struct Source {
  std::string name;  // unique; [A-Za-z0-9][A-Za-z0-9_.-]*, used as a metric label
  std::string url;   // absolute http(s) URL
  SourceKind kind = SourceKind::kAuto;  // auto = detect from the content
  bool enabled = true;
  std::chrono::milliseconds interval = std::chrono::minutes(5);  // poll period, >= 10 s
  // Adaptive interval: when both are set the interval moves between them with how often
  // the source publishes new items (interval is the starting point).
  std::optional<std::chrono::milliseconds> min_interval;
  std::optional<std::chrono::milliseconds> max_interval;
  std::chrono::milliseconds max_backoff = std::chrono::hours(1);  // longest wait after failures
  bool respect_cache = true;  // Cache-Control max-age and RSS <ttl> may lengthen the interval
  std::chrono::milliseconds timeout = std::chrono::seconds(30);          // whole poll, <= interval
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);  // DNS + TCP + TLS
  std::uint64_t max_body = 10 * 1024 * 1024;  // bytes after decompression; default 10 MiB
  std::string user_agent;                     // empty = newsmon's default
  std::vector<Header> headers;                // extra request headers, in config order
  bool tls_verify = true;                     // false = accept any certificate (warned)
  std::string ca_file;  // extra PEM CA bundle trusted besides the system store; "" = none
  // http://host[:port] of an HTTP proxy (CONNECT for https); "" = connect directly. The
  // config's `proxy:` key, or else HTTPS_PROXY/HTTP_PROXY minus NO_PROXY, resolved at load.
  std::string proxy;
  NetworkAllowance allow_private_networks;
  // First sight: false = the items already in a newly added source are marked seen without
  // alerting; true = they alert like new ones.
  bool backfill = false;
  // Items published longer ago than this are marked seen and never alerted.
  std::chrono::milliseconds max_item_age = std::chrono::hours(24 * 7);
  std::optional<HtmlSelectors> html;  // set exactly when kind == kHtml
  std::string origin;                 // "file:line" where it was defined

  bool operator==(const Source&) const = default;
};

}  // namespace newsmon::core
