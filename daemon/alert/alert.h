// Sinks: what each kind of destination is sent for an alert, and what its answer means.
// Formats and signs requests, sends one delivery through net, classifies the response.
// Never touches the store: retries, rate limits across deliveries and dead letters are the
// delivery loop's (pipeline).
//
// Payload formats are documented in README.md ("Alert payloads"); the webhook payload is
// versioned (kWebhookPayloadVersion).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/alert.h"
#include "daemon/core/poll.h"
#include "daemon/core/sink.h"
#include "daemon/net/http.h"

namespace newsmon::alert {

inline constexpr int kWebhookPayloadVersion = 1;

// Documented limits of the services, in characters as the service counts them (UTF-16
// code units for Slack, Discord and Telegram, whose APIs are JavaScript/JSON-string based).
inline constexpr std::size_t kSlackSectionTextMax = 3000;
inline constexpr std::size_t kSlackFallbackTextMax = 4000;
inline constexpr std::size_t kDiscordContentMax = 2000;
inline constexpr std::size_t kDiscordEmbedTitleMax = 256;
inline constexpr std::size_t kDiscordEmbedDescriptionMax = 4096;
inline constexpr std::size_t kDiscordFooterMax = 2048;
inline constexpr std::size_t kDiscordFieldNameMax = 256;
inline constexpr std::size_t kDiscordFieldValueMax = 1024;
inline constexpr std::size_t kDiscordEmbedTotalMax = 6000;
inline constexpr std::size_t kTelegramTextMax = 4096;
inline constexpr std::size_t kTeamsTextMax = 20000;   // well under the 28 KB card limit
inline constexpr std::size_t kNtfyMessageMax = 4096;  // bytes: larger becomes an attachment
inline constexpr std::size_t kNtfyTitleMax = 250;

// `text` cut to at most `max_units` UTF-16 code units, on a code point boundary, with "…"
// at the end when it was cut (the ellipsis counts toward the limit). Input must be UTF-8.
std::string TruncateUtf16(std::string_view text, std::size_t max_units);
// The same in UTF-8 bytes.
std::string TruncateBytes(std::string_view text, std::size_t max_bytes);

// Standard Webhooks: "v1,<base64 of HMAC-SHA256(key, id + '.' + timestamp + '.' + body)>",
// the key being the base64 after "whsec_" in `secret`. Empty when the secret is malformed
// (config rejects those).
std::string WebhookSignature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                             std::string_view body);

// The request that delivers `alert` to `sink` (any kind but log). `now` stamps the attempt
// (webhook-timestamp; startsAt for Alertmanager). Bodies are valid JSON in valid UTF-8.
net::HttpRequest BuildRequest(const core::SinkSpec& sink, const core::Alert& alert,
                              core::WallTime now);

// The line a log sink writes for `alert`.
std::string LogLine(const core::Alert& alert);

// "scheme://host[:port]": how a sink's URL may be shown (paths and queries carry tokens).
std::string RedactedUrl(std::string_view url);

enum class DeliveryStatus {
  kDelivered,   // 2xx
  kRetry,       // connection error, timeout, 5xx, 408, 429: try again later
  kDeadLetter,  // 3xx or a 4xx other than 408/410/429: retrying will not help
  kGone,        // 410: the endpoint is gone; the sink is disabled
};

struct DeliveryResult {
  DeliveryStatus status = DeliveryStatus::kDelivered;
  int http_status = 0;                                   // 0 when no response
  std::optional<std::chrono::milliseconds> retry_after;  // from a 429 or 503
  // Failures: what happened, naming the sink and host only (never the URL's path, query or
  // a secret), with the response's first bytes for 3xx/4xx.
  std::string message;
  std::chrono::milliseconds duration{0};
};

// What `result` of a delivery to `sink` means. `now` reads a Retry-After HTTP-date.
DeliveryResult Classify(const core::SinkSpec& sink, const net::HttpResult& result,
                        core::WallTime now);

// Sends one delivery of `alert` and classifies the answer; never throws for network or
// HTTP problems. Not for log sinks. Redirects are never followed.
boost::asio::awaitable<DeliveryResult> Send(net::HttpClient& client, const core::SinkSpec& sink,
                                            const core::Alert& alert, const core::Clock& clock);

}  // namespace newsmon::alert
