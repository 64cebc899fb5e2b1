// Sending one delivery and reading the answer: what is retried, dead-lettered or disables
// the sink, and a message about it that never shows a secret.
#include "daemon/alert/alert.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace newsmon::alert {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kBodySnippetBytes = 200;
constexpr milliseconds kMaxRetryAfter = std::chrono::hours(24);
constexpr std::string_view kRedacted = "[redacted]";

std::string_view ErrorKind(net::HttpError error) {
  switch (error) {
    case net::HttpError::kNone:
      return "error";
    case net::HttpError::kTimeout:
      return "timeout";
    case net::HttpError::kTls:
      return "TLS failure";
    case net::HttpError::kDns:
      return "DNS failure";
    case net::HttpError::kConnect:
      return "connection failed";
    case net::HttpError::kTooLarge:
      return "answer too large";
    case net::HttpError::kRedirect:
      return "redirect";
    case net::HttpError::kBlocked:
      return "blocked";
  }
  return "error";
}

bool LooksLikeToken(std::string_view part) {
  const bool has_digit =
      std::any_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); });
  return part.size() >= 16 || (part.size() >= 6 && has_digit);
}

// What of the sink's configuration must never appear in a message: the secret, and the
// parts of the URL (credentials, path and query) that look like tokens, as Slack's and
// Discord's webhook URLs carry theirs in the path.
std::vector<std::string> SensitiveStrings(const core::SinkSpec& sink) {
  std::vector<std::string> out;
  if (!sink.secret.empty()) {
    out.push_back(sink.secret);
    if (sink.secret.starts_with("whsec_")) out.push_back(sink.secret.substr(6));
    std::string encoded;  // as it would be echoed from a URL path
    for (char c : sink.secret) encoded += c == ':' ? std::string("%3A") : std::string(1, c);
    if (encoded != sink.secret) out.push_back(std::move(encoded));
  }
  std::string_view url = sink.url;
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) url.remove_prefix(scheme_end + 3);
  std::string_view authority = url.substr(0, url.find_first_of("/?#"));
  const std::string_view rest = url.substr(authority.size());
  auto add_parts = [&](std::string_view text, std::string_view separators) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || separators.find(text[i]) != std::string_view::npos) {
        std::string_view part = text.substr(start, i - start);
        if (LooksLikeToken(part)) out.emplace_back(part);
        start = i + 1;
      }
    }
  };
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    add_parts(authority.substr(0, at), ":");  // user and password
  }
  add_parts(rest, "/?&=#;");
  // Longest first, so a token is not half-replaced through a shorter one inside it.
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// `text` with every http(s) URL reduced to scheme://host[:port] and every sensitive string
// of the sink replaced: safe to log and to show.
std::string Scrub(std::string_view text, const core::SinkSpec& sink) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::string_view rest = text.substr(i);
    if (rest.starts_with("http://") || rest.starts_with("https://")) {
      std::size_t end = 0;
      while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end])) &&
             std::string_view("\"'<>`").find(rest[end]) == std::string_view::npos) {
        ++end;
      }
      std::string_view url = rest.substr(0, end);
      std::string_view trail;  // punctuation after the URL, such as "URL: reason"
      while (!url.empty() && std::string_view(":,.;)").find(url.back()) != std::string::npos) {
        url.remove_suffix(1);
      }
      trail = rest.substr(url.size(), end - url.size());
      out += RedactedUrl(url);
      out += trail;
      i += end;
    } else {
      out += text[i];
      ++i;
    }
  }
  for (const auto& secret : SensitiveStrings(sink)) ReplaceAll(out, secret, kRedacted);
  return out;
}

// net's message for a failed request, "<URL> (<address>): <reason>", as
// "<address>: <reason>": the URL goes (it may carry a token) and `host` is said already.
std::string Reason(const net::HttpResult& result, const core::SinkSpec& sink,
                   std::string_view host) {
  std::string text = Scrub(result.message, sink);
  if (host.empty() || !text.starts_with(host)) return text;
  std::string_view rest = std::string_view(text).substr(host.size());
  if (rest.starts_with(": ")) return std::string(rest.substr(2));
  if (rest.starts_with(" (")) {
    if (auto close = rest.find("): "); close != std::string_view::npos) {
      return std::string(rest.substr(2, close - 2)) + ": " + std::string(rest.substr(close + 3));
    }
  }
  return text;
}

// The first bytes of an answer as one printable line: valid UTF-8, controls escaped.
std::string Snippet(std::string_view body) {
  const std::string clean = TruncateBytes(body, kBodySnippetBytes);
  std::string out;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const auto c = static_cast<unsigned char>(clean[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xC2 && i + 1 < clean.size() &&
               static_cast<unsigned char>(clean[i + 1]) <= 0x9F) {
      // A C1 control (U+0080..U+009F), e.g. NEL, which some terminals take as a newline.
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(clean[i + 1]));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  // Trailing whitespace (a newline escaped or not) says nothing.
  while (out.ends_with(' ') || out.ends_with("\\n") || out.ends_with("\\r")) {
    out.resize(out.size() - (out.ends_with(' ') ? 1 : 2));
  }
  return out;
}

std::optional<unsigned> ParseNumber(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<unsigned> MonthNumber(std::string_view name) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < 12; ++i) {
    if (name == kMonths[i]) return i + 1;
  }
  return std::nullopt;
}

// An HTTP-date (RFC 9110 5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the
// obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994".
std::optional<core::TimePoint> ParseHttpDate(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ' || text[i] == ',' || text[i] == '-') {
      if (i > start) tokens.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (tokens.size() < 5) return std::nullopt;
  std::string_view day, month, year, time;
  if (MonthNumber(tokens[1])) {  // asctime
    month = tokens[1];
    day = tokens[2];
    time = tokens[3];
    year = tokens[4];
  } else {
    day = tokens[1];
    month = tokens[2];
    year = tokens[3];
    time = tokens[4];
    if (tokens.size() > 5 && tokens[5] != "GMT" && tokens[5] != "UTC") return std::nullopt;
  }
  auto m = MonthNumber(month);
  auto d = ParseNumber(day);
  auto y = ParseNumber(year);
  if (!m || !d || !y || time.size() != 8 || time[2] != ':' || time[5] != ':') {
    return std::nullopt;
  }
  if (year.size() == 2) *y += *y < 70 ? 2000 : 1900;
  auto hh = ParseNumber(time.substr(0, 2));
  auto mm = ParseNumber(time.substr(3, 2));
  auto ss = ParseNumber(time.substr(6, 2));
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(*y)),
                                         std::chrono::month(*m), std::chrono::day(*d)};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*hh) + std::chrono::minutes(*mm) +
         seconds(*ss);
}

// Retry-After: delay-seconds or an HTTP-date (relative to `now`), capped at a day.
std::optional<milliseconds> ParseRetryAfter(std::string_view value, core::WallTime now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return kMaxRetryAfter;
    return std::min<milliseconds>(seconds(*ParseNumber(value)), kMaxRetryAfter);
  }
  auto date = ParseHttpDate(value);
  if (!date) return std::nullopt;
  const milliseconds delay = *date - now;
  return std::clamp(delay, milliseconds(0), kMaxRetryAfter);
}

// Discord ("retry_after": seconds, a float) and Telegram ("parameters": {"retry_after": n})
// say it in the body of a 429 as well.
std::optional<milliseconds> RetryAfterInBody(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  const nlohmann::json* value = nullptr;
  if (auto it = json.find("retry_after"); it != json.end()) value = &*it;
  if (auto it = json.find("parameters"); !value && it != json.end() && it->is_object()) {
    if (auto inner = it->find("retry_after"); inner != it->end()) value = &*inner;
  }
  if (!value || !value->is_number() || value->get<double>() < 0) return std::nullopt;
  const double ms =
      std::min(value->get<double>() * 1000.0, static_cast<double>(kMaxRetryAfter.count()));
  return milliseconds(static_cast<std::int64_t>(ms + 0.999));
}

std::string Seconds(milliseconds delay) {
  if (delay.count() % 1000 == 0) return fmt::format("{} s", delay.count() / 1000);
  return fmt::format("{:.3g} s", static_cast<double>(delay.count()) / 1000.0);
}

}  // namespace

DeliveryResult Classify(const core::SinkSpec& sink, const net::HttpResult& result,
                        core::WallTime now) {
  DeliveryResult out;
  const std::string host = RedactedUrl(sink.url.empty() && sink.kind == core::SinkKind::kTelegram
                                           ? "https://api.telegram.org"
                                           : sink.url);
  const std::string who = "sink " + sink.name + (host.empty() ? "" : " (" + host + ")");
  const net::HttpResponse& response = result.response;
  const int status = response.status;
  out.http_status = result.ok() ? status : 0;

  if (!result.ok()) {
    // An answer whose body is over our cap still has a status worth reading: a 2xx means
    // the service took the alert, and sending it again would duplicate it.
    const bool status_known = result.error == net::HttpError::kTooLarge && status >= 200;
    if (!status_known) {
      out.status = DeliveryStatus::kRetry;
      out.message =
          who + ": " + std::string(ErrorKind(result.error)) + ": " + Reason(result, sink, host);
      return out;
    }
    out.http_status = status;
  }

  if (status >= 200 && status < 300) {
    out.status = DeliveryStatus::kDelivered;
    return out;
  }

  // Scrubbed whole before it is cut, so no half of a token survives the cut.
  const std::string snippet = Snippet(Scrub(response.body, sink));
  const std::string tail = snippet.empty() ? "" : ": " + snippet;
  std::string head = who + ": HTTP " + std::to_string(status);

  if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
    out.status = DeliveryStatus::kRetry;
    if (status == 429 || status == 503) {
      if (auto header = response.Header("Retry-After")) {
        out.retry_after = ParseRetryAfter(*header, now);
      }
      if (!out.retry_after && status == 429) out.retry_after = RetryAfterInBody(response.body);
    }
    if (out.retry_after) head += ", retry after " + Seconds(*out.retry_after);
  } else if (status == 410) {
    out.status = DeliveryStatus::kGone;
    head += " Gone, the endpoint no longer exists: sink disabled";
  } else if (status >= 300 && status < 400) {
    out.status = DeliveryStatus::kDeadLetter;
    auto location = response.Header("Location");
    std::string where;
    if (!location) {
      where = "without a Location";
    } else if (std::string target = RedactedUrl(*location); !target.empty()) {
      where = "to " + Scrub(target, sink);
    } else {
      where = "to another path on the same host";
    }
    head += ", a redirect " + where + ", not followed (update the sink's URL)";
  } else {
    out.status = DeliveryStatus::kDeadLetter;
  }
  out.message = head + tail;
  return out;
}

boost::asio::awaitable<DeliveryResult> Send(net::HttpClient& client, const core::SinkSpec& sink,
                                            const core::Alert& alert, const core::Clock& clock) {
  const auto start = std::chrono::steady_clock::now();
  net::HttpRequest request = BuildRequest(sink, alert, clock.Now());
  const net::HttpResult result = co_await client.Fetch(std::move(request));
  DeliveryResult delivery = Classify(sink, result, clock.Now());
  delivery.duration =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  co_return delivery;
}

}  // namespace newsmon::alert
