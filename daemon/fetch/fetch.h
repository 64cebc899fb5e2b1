// fetch: one source's request. Builds the conditional GET from the source's settings and
// state, sends it through net, and classifies what came back into a core::PollOutcome,
// with the validators and cache hints the scheduler needs.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/poll.h"
#include "daemon/core/source.h"
#include "daemon/net/http.h"

namespace newsmon::fetch {

struct FetchResult {
  core::PollOutcome outcome = core::PollOutcome::kOk;  // kOk = a 2xx body to parse
  std::string error;  // when not kOk/kNotModified: the reason, naming the URL
  int status = 0;     // HTTP status, 0 when none came
  std::string body;
  std::string content_type;
  std::string url;            // final URL after redirects: the base for relative links
  std::string etag;           // from a 200 (empty when none)
  std::string last_modified;  // from a 200 (empty when none)
  std::optional<std::chrono::milliseconds> retry_after;  // 429/503 Retry-After
  std::optional<std::chrono::milliseconds> max_age;      // Cache-Control max-age (or Expires)
  std::vector<net::Redirect> redirects;
  std::uint64_t wire_bytes = 0;
  std::chrono::milliseconds duration{0};
};

// The request for `source`: its URL, headers, limits and TLS/proxy/address settings, with
// If-None-Match / If-Modified-Since from `state`.
net::HttpRequest BuildRequest(const core::Source& source, const core::SourceState& state);

// Turns the client's result into an outcome. `now` anchors an HTTP-date Retry-After.
FetchResult Classify(net::HttpResult result, core::WallTime now);

// Retry-After: delay-seconds or an HTTP-date (relative to `now`); nullopt when malformed.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         core::WallTime now);
// Cache-Control's max-age (no-store/no-cache give nothing); nullopt when absent.
std::optional<std::chrono::milliseconds> ParseMaxAge(std::string_view cache_control);

// BuildRequest, send, Classify.
boost::asio::awaitable<FetchResult> FetchSource(net::HttpClient& client, const core::Source& source,
                                                const core::SourceState& state,
                                                const core::Clock& clock);

}  // namespace newsmon::fetch
