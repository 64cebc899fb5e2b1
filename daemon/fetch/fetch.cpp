#include "daemon/fetch/fetch.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace newsmon::fetch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// What a news reader accepts: the feed formats first, pages last.
constexpr std::string_view kAccept =
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, "
    "text/html;q=0.7, */*;q=0.5";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::optional<std::uint64_t> ParseUnsigned(std::string_view s) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

// An HTTP-date (RFC 9110: IMF-fixdate, and the obsolete RFC 850 and asctime forms).
std::optional<core::WallTime> ParseHttpDate(std::string_view value) {
  std::string text(Trim(value));
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"}) {
    struct tm tm {};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') {
      return core::WallTime(std::chrono::duration_cast<milliseconds>(seconds(timegm(&tm))));
    }
  }
  return std::nullopt;
}

core::PollOutcome OutcomeOf(net::HttpError error) {
  switch (error) {
    case net::HttpError::kTimeout:
      return core::PollOutcome::kTimeout;
    case net::HttpError::kTls:
      return core::PollOutcome::kTls;
    case net::HttpError::kDns:
      return core::PollOutcome::kDns;
    case net::HttpError::kTooLarge:
      return core::PollOutcome::kTooLarge;
    case net::HttpError::kRedirect:
      return core::PollOutcome::kRedirect;
    case net::HttpError::kBlocked:
      return core::PollOutcome::kBlocked;
    case net::HttpError::kConnect:
    case net::HttpError::kNone:
      break;
  }
  return core::PollOutcome::kConnect;
}

core::PollOutcome OutcomeOfStatus(int status) {
  if (status == 304) return core::PollOutcome::kNotModified;
  if (status >= 200 && status < 300) return core::PollOutcome::kOk;
  if (status == 429) return core::PollOutcome::kHttp429;
  if (status >= 300 && status < 400) return core::PollOutcome::kRedirect;
  if (status >= 400 && status < 500) return core::PollOutcome::kHttp4xx;
  return core::PollOutcome::kHttp5xx;  // 5xx, and anything else a server should not send
}

}  // namespace

net::HttpRequest BuildRequest(const core::Source& source, const core::SourceState& state) {
  net::HttpRequest request;
  request.url = source.url;
  request.headers.emplace_back("Accept", kAccept);
  if (!state.etag.empty()) request.headers.emplace_back("If-None-Match", state.etag);
  if (!state.last_modified.empty()) {
    request.headers.emplace_back("If-Modified-Since", state.last_modified);
  }
  for (const auto& header : source.headers) request.headers.push_back(header);
  request.user_agent = source.user_agent;
  request.timeout = source.timeout;
  request.connect_timeout = std::min(source.connect_timeout, source.timeout);
  request.max_body = source.max_body;
  request.tls_verify = source.tls_verify;
  request.ca_file = source.ca_file;
  request.proxy = source.proxy;
  request.policy = net::AddressPolicy::FromAllowance(source.allow_private_networks);
  return request;
}

std::optional<milliseconds> ParseRetryAfter(std::string_view value, core::WallTime now) {
  value = Trim(value);
  if (auto delay = ParseUnsigned(value)) {
    return milliseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(*delay, 366ULL * 86400)) *
                        1000);
  }
  if (auto date = ParseHttpDate(value)) return std::max(milliseconds(0), *date - now);
  return std::nullopt;
}

std::optional<milliseconds> ParseMaxAge(std::string_view cache_control) {
  std::optional<milliseconds> max_age;
  while (!cache_control.empty()) {
    auto comma = cache_control.find(',');
    auto directive = Trim(cache_control.substr(0, comma));
    cache_control = comma == cache_control.npos ? "" : cache_control.substr(comma + 1);
    if (StartsWithIgnoreCase(directive, "no-store") ||
        StartsWithIgnoreCase(directive, "no-cache")) {
      return std::nullopt;
    }
    if (StartsWithIgnoreCase(directive, "max-age=")) {
      auto value = directive.substr(8);
      if (!value.empty() && value.front() == '"' && value.size() >= 2 && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (auto secs = ParseUnsigned(value)) {
        max_age = milliseconds(
            static_cast<std::int64_t>(std::min<std::uint64_t>(*secs, 366ULL * 86400)) * 1000);
      }
    }
  }
  return max_age;
}

FetchResult Classify(net::HttpResult result, core::WallTime now) {
  FetchResult out;
  if (!result.ok()) {
    out.outcome = OutcomeOf(result.error);
    out.error = std::move(result.message);
    return out;
  }
  auto& response = result.response;
  out.status = response.status;
  out.outcome = OutcomeOfStatus(response.status);
  out.url = std::move(response.url);
  out.redirects = std::move(response.redirects);
  out.wire_bytes = response.wire_bytes;
  auto header = [&](std::string_view name) {
    return std::string(response.Header(name).value_or(""));
  };
  if (out.status == 429 || out.status == 503) {
    if (auto value = response.Header("Retry-After")) out.retry_after = ParseRetryAfter(*value, now);
  }
  if (out.outcome == core::PollOutcome::kOk || out.outcome == core::PollOutcome::kNotModified) {
    if (auto cache_control = response.Header("Cache-Control")) {
      out.max_age = ParseMaxAge(*cache_control);
    } else if (auto expires = response.Header("Expires")) {
      if (auto date = ParseHttpDate(*expires); date && *date > now) out.max_age = *date - now;
    }
    out.etag = header("ETag");
    out.last_modified = header("Last-Modified");
  }
  if (out.outcome == core::PollOutcome::kOk) {
    out.body = std::move(response.body);
    out.content_type = header("Content-Type");
  } else if (out.outcome != core::PollOutcome::kNotModified) {
    out.error = out.url + ": HTTP " + std::to_string(out.status);
    if (out.outcome == core::PollOutcome::kRedirect) out.error += " (redirect not followed)";
  }
  return out;
}

boost::asio::awaitable<FetchResult> FetchSource(net::HttpClient& client, const core::Source& source,
                                                const core::SourceState& state,
                                                const core::Clock& clock) {
  auto start = std::chrono::steady_clock::now();
  net::HttpRequest request = BuildRequest(source, state);
  net::HttpResult result = co_await client.Fetch(std::move(request));
  FetchResult out = Classify(std::move(result), clock.Now());
  out.duration = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  co_return out;
}

}  // namespace newsmon::fetch
