// Every Prometheus metric newsmon exports: one object owning the registry and all its
// families, handed by reference to whoever records (pipeline) or serves (admin) them.
// Methods take plain values (names, counts, durations, wall times): this module knows no
// pipeline type, and pipeline/metrics_recorder.h turns the pipeline's events into calls.
//
// Label values are only configured names (source, rule, sink) and fixed enums (outcome,
// result). A name gets its series from Declare(), all at 0, so every series that can move
// exists from the first scrape; recording for a name that is not declared (a source polled
// just as a reload removed it, a typo) does nothing, so no stray series ever appears.
//
// Thread-safety: every method may be called from any thread at the same time as any other
// (prometheus-cpp's metrics are atomic, and the name → series tables are guarded by a mutex
// inside); Serialize() may run on the admin server's thread while the loops record.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/core/poll.h"

namespace newsmon::metrics {

// Values of the `result` label of newsmon_deliveries_total, in the order of
// pipeline::DeliveryEvent::Result.
inline constexpr std::string_view kDeliveryResults[] = {"delivered", "retry", "dead_letter",
                                                        "gone"};

// Histogram bucket upper bounds, in seconds (+Inf is implied).
inline constexpr double kFetchBuckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
inline constexpr double kDeliveryBuckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
// 1 s … 1 day: seconds after publication for a fast feed, hours for a slow or late one.
inline constexpr double kAlertLatencyBuckets[] = {1,   5,    10,   30,    60,    120,   300,
                                                  600, 1800, 3600, 10800, 21600, 43200, 86400};

using Seconds = std::chrono::duration<double>;  // any std::chrono duration converts to it

// One finished poll of a source.
struct PollSample {
  std::string_view outcome;      // a name from core::kPollOutcomeNames; others are not counted
  Seconds fetch{0};              // the request, parse excluded
  std::uint64_t wire_bytes = 0;  // response bytes as received (compressed)
  std::uint64_t items = 0;       // items in the feed
  std::uint64_t new_items = 0;   // items not seen before
  std::uint64_t matches = 0;     // new items some rule matched
  std::uint64_t warnings = 0;    // parse warnings
};

// What the scheduler knows about a source after a poll.
struct SourceSample {
  std::optional<core::WallTime> last_success;  // none = never: exported as 0
  int consecutive_failures = 0;
  std::optional<core::WallTime> next_poll;  // none: exported as 0
  Seconds interval{0};                      // the current polling interval
};

class Metrics {
 public:
  // Creates every family, the unlabelled series at 0 and newsmon_build_info.
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The configured names. Creates at 0 every series of each new name (each outcome of a
  // source, each result of a sink, each histogram) and removes every series of a name no
  // longer in the lists, so a source dropped by a reload disappears from the scrape. Names
  // kept keep their values. Call at start-up and after every successful reload.
  void Declare(std::span<const std::string> sources, std::span<const std::string> rules,
               std::span<const std::string> sinks);

  // newsmon_source_{polls,response_bytes,items,new_items,matches,parse_warnings}_total and
  // newsmon_source_fetch_duration_seconds.
  void Poll(std::string_view source, const PollSample& poll);
  // The newsmon_source_* gauges.
  void SourceState(std::string_view source, const SourceSample& state);
  // newsmon_rule_matches_total: one item matched by `rule`.
  void RuleMatch(std::string_view rule);

  // One delivery attempt: newsmon_deliveries_total{result} (a name from kDeliveryResults;
  // others are not counted) and newsmon_delivery_duration_seconds; `latency`, when given,
  // goes to newsmon_alert_latency_seconds.
  void Delivery(std::string_view sink, std::string_view result, Seconds duration,
                std::optional<Seconds> latency = std::nullopt);
  // newsmon_dead_letters_total: one alert moved to the sink's dead letters.
  void DeadLetter(std::string_view sink);
  // newsmon_outbox_pending: alerts waiting in the outbox for the sink.
  void OutboxPending(std::string_view sink, std::uint64_t pending);

  // A config load or reload: newsmon_config_last_reload_successful, and on success
  // newsmon_config_last_reload_success_timestamp_seconds.
  void ConfigReload(bool ok, core::WallTime when);
  void RulesLoaded(std::uint64_t rules);
  void SourcesConfigured(std::uint64_t sources);

  // Everything, with the process_* metrics read from /proc now, in the Prometheus text
  // exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8).
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace newsmon::metrics
