// What one poll of a source came to, and what the scheduler remembers about a source
// between polls. Produced by fetch (the outcome) and schedule (the state), read by
// pipeline, logs and metrics; persisted by the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "daemon/core/enum_names.h"

namespace newsmon::core {

// Every poll ends in exactly one of these; the names are metric label values.
enum class PollOutcome {
  kOk,           // 2xx and the body parsed
  kNotModified,  // 304 to a conditional request: nothing to parse
  kHttp4xx,      // a 4xx other than 429
  kHttp5xx,      // a 5xx
  kHttp429,      // too many requests (Retry-After honoured)
  kTimeout,      // the poll's deadline (or the connect deadline) passed
  kTls,          // handshake failed: certificate, hostname, protocol
  kDns,          // the name did not resolve, or not before its deadline
  kConnect,      // could not connect, or the connection broke before a whole response
  kTooLarge,     // headers, body or decompressed body over its limit
  kRedirect,     // too many redirects, a loop, a bad Location, an https→http downgrade
  kBlocked,      // the address policy refused the address (SSRF guard) or the scheme
  kParse,        // a response came but its body is not a feed we can read
};

inline constexpr EnumName<PollOutcome> kPollOutcomeNames[] = {
    {PollOutcome::kOk, "ok"},
    {PollOutcome::kNotModified, "not_modified"},
    {PollOutcome::kHttp4xx, "http_4xx"},
    {PollOutcome::kHttp5xx, "http_5xx"},
    {PollOutcome::kHttp429, "http_429"},
    {PollOutcome::kTimeout, "timeout"},
    {PollOutcome::kTls, "tls"},
    {PollOutcome::kDns, "dns"},
    {PollOutcome::kConnect, "connect"},
    {PollOutcome::kTooLarge, "too_large"},
    {PollOutcome::kRedirect, "redirect"},
    {PollOutcome::kBlocked, "blocked"},
    {PollOutcome::kParse, "parse"},
};

// Wall-clock time in milliseconds: what schedules and persisted state are expressed in.
using WallTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// What the scheduler keeps per source (and the store persists).
struct SourceState {
  std::string etag;                      // validator from the last 200, sent as If-None-Match
  std::string last_modified;             // validator from the last 200, sent as If-Modified-Since
  std::optional<WallTime> last_poll;     // when the last poll finished
  std::optional<WallTime> last_success;  // last ok or not_modified
  std::optional<WallTime> last_failure;
  std::optional<PollOutcome> last_outcome;
  std::string last_error;                 // the last failure's message, naming the URL
  int consecutive_failures = 0;           // reset by a success
  std::optional<WallTime> next_poll;      // when the next poll is due
  std::chrono::milliseconds interval{0};  // current interval (adaptive sources move it)
};

// How many polls may run at once (config `polling:`).
struct PollLimits {
  int max_concurrent = 64;  // over all sources
  int max_per_host = 2;     // per host name (sites are polite to, not per source)
};

// The time source of the scheduler and the poll loop; tests drive a fake one.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
};

// std::chrono::system_clock, truncated to milliseconds.
class SystemClock final : public Clock {
 public:
  WallTime Now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
};

}  // namespace newsmon::core
