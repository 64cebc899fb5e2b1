// metrics: the series Declare creates, what recording the pipeline's events moves (read
// back from the text exposition), reloads that change the configured names, and the
// process metrics read from procfs (a fake /proc and the real one).
#include "daemon/metrics/metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/poll.h"
#include "daemon/core/rule.h"
#include "daemon/core/version.h"
#include "daemon/metrics/process.h"
#include "daemon/pipeline/delivery_loop.h"
#include "daemon/pipeline/metrics_recorder.h"
#include "daemon/pipeline/poll_loop.h"
#include "tests/support/temp_dir.h"

namespace newsmon::metrics {
namespace {

using namespace std::chrono;
using pipeline::DeliveryEvent;
using pipeline::PollEvent;
using Samples = std::map<std::string, double>;  // "name{labels}" → value

// 2024-03-01 09:00:00 UTC.
constexpr double kNowSeconds = 1709283600;
const core::WallTime kNow{sys_days{2024y / March / 1} + 9h};

struct Scrape {
  Samples samples;
  std::map<std::string, std::string> types;  // family → counter, gauge, histogram
  std::map<std::string, std::string> help;   // family → its HELP text
};

Scrape Parse(const std::string& text) {
  Scrape scrape;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    for (std::string_view tag : {"# HELP ", "# TYPE "}) {
      if (!line.starts_with(tag)) continue;
      auto rest = line.substr(tag.size());
      auto space = rest.find(' ');
      auto& table = tag == "# HELP " ? scrape.help : scrape.types;
      EXPECT_FALSE(table.contains(rest.substr(0, space))) << "repeated: " << line;
      table[rest.substr(0, space)] = space == std::string::npos ? "" : rest.substr(space + 1);
    }
    if (line.starts_with("#")) continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos) {
      ADD_FAILURE() << "not a sample: '" << line << "'";
      continue;
    }
    auto key = line.substr(0, space);
    EXPECT_FALSE(scrape.samples.contains(key)) << "repeated series: " << key;
    scrape.samples[key] = std::stod(line.substr(space + 1));
  }
  return scrape;
}

// The family a series belongs to (a histogram's _bucket, _count and _sum are its own).
std::string FamilyOf(const Scrape& scrape, const std::string& key) {
  std::string name = key.substr(0, key.find('{'));
  if (scrape.types.contains(name)) return name;
  for (std::string_view suffix : {"_bucket", "_count", "_sum"}) {
    if (name.ends_with(suffix)) return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

// What changed from `before` to `after`, the process_* metrics aside (they move on their
// own): counters and histograms by how much they grew, gauges by their new value.
Samples Changes(const Scrape& before, const Scrape& after) {
  Samples changes;
  for (const auto& [key, value] : after.samples) {
    if (key.starts_with("process_")) continue;
    auto old = before.samples.find(key);
    if (old == before.samples.end()) {
      ADD_FAILURE() << "series appeared: " << key;
      continue;
    }
    if (value == old->second) continue;
    changes[key] = after.types.at(FamilyOf(after, key)) == "gauge" ? value : value - old->second;
  }
  for (const auto& [key, value] : before.samples) {
    EXPECT_TRUE(after.samples.contains(key)) << "series disappeared: " << key;
  }
  return changes;
}

std::string Bound(double bound) {
  std::ostringstream out;
  out << bound;
  return out.str();
}

// What one observation of `value` adds to a histogram's series.
template <std::size_t N>
Samples Observed(const std::string& name, const std::string& labels, const double (&bounds)[N],
                 double value) {
  Samples samples;
  for (double bound : bounds) {
    if (value <= bound) samples[name + "_bucket{" + labels + ",le=\"" + Bound(bound) + "\"}"] = 1;
  }
  samples[name + "_bucket{" + labels + ",le=\"+Inf\"}"] = 1;
  samples[name + "_count{" + labels + "}"] = 1;
  samples[name + "_sum{" + labels + "}"] = value;
  return samples;
}

Samples Merge(std::initializer_list<Samples> parts) {
  Samples all;
  for (const auto& part : parts) {
    for (const auto& [key, value] : part) all[key] += value;
  }
  return all;
}

PollEvent OkPoll() {
  PollEvent event{.source = "alpha",
                  .url = "https://example.com/feed.xml",
                  .outcome = core::PollOutcome::kOk,
                  .status = 200,
                  .items = 20,
                  .new_items = 3,
                  .warnings = 1,
                  .wire_bytes = 2048,
                  .duration = milliseconds(250)};
  event.matched.push_back({.item = {.id = "1", .title = "Baku and Tbilisi sign corridor deal"},
                           .matches = {{.rule = "central-asia"}, {.rule = "middle-corridor"}}});
  event.matched.push_back(
      {.item = {.id = "2", .title = "Astana summit"}, .matches = {{.rule = "central-asia"}}});
  return event;
}

DeliveryEvent Delivery(DeliveryEvent::Result result) {
  return {.sink = "ops-webhook",
          .delivery_id = "nm_01hzx3k9v7q2m4t8b6n1c5d0ef",
          .source = "alpha",
          .result = result,
          .status = 200,
          .duration = microseconds(125'000),
          .first_seen = kNow - 30s,
          .published = time_point_cast<seconds>(kNow - 90s),
          .finished = kNow};
}

class MetricsTest : public ::testing::Test {
 protected:
  MetricsTest() { metrics_.Declare(sources_, rules_, sinks_); }

  Scrape Now() const { return Parse(metrics_.Serialize()); }

  // The changes `act` makes to the scrape.
  Samples ChangesOf(const std::function<void()>& act) {
    Scrape before = Now();
    act();
    return Changes(before, Now());
  }

  std::vector<std::string> sources_ = {"alpha", "beta"};
  std::vector<std::string> rules_ = {"central-asia", "middle-corridor"};
  std::vector<std::string> sinks_ = {"ops-webhook", "log"};
  Metrics metrics_;
};

// Every series of a source, rule and sink, as the text format names them.
std::set<std::string> SourceSeries(const std::string& source) {
  const std::string labels = "source=\"" + source + "\"";
  std::set<std::string> series;
  for (const auto& outcome : core::kPollOutcomeNames) {
    series.insert("newsmon_source_polls_total{outcome=\"" + std::string(outcome.name) + "\"," +
                  labels + "}");
  }
  for (const char* name :
       {"newsmon_source_response_bytes_total", "newsmon_source_items_total",
        "newsmon_source_new_items_total", "newsmon_source_matches_total",
        "newsmon_source_parse_warnings_total", "newsmon_source_last_success_timestamp_seconds",
        "newsmon_source_consecutive_failures", "newsmon_source_next_poll_timestamp_seconds",
        "newsmon_source_interval_seconds"}) {
    series.insert(std::string(name) + "{" + labels + "}");
  }
  for (const auto& [key, value] :
       Observed("newsmon_source_fetch_duration_seconds", labels, kFetchBuckets, 0)) {
    series.insert(key);
  }
  return series;
}

std::set<std::string> SinkSeries(const std::string& sink) {
  const std::string labels = "sink=\"" + sink + "\"";
  std::set<std::string> series;
  for (auto result : kDeliveryResults) {
    series.insert("newsmon_deliveries_total{result=\"" + std::string(result) + "\"," + labels +
                  "}");
  }
  series.insert("newsmon_outbox_pending{" + labels + "}");
  series.insert("newsmon_dead_letters_total{" + labels + "}");
  for (const auto& samples :
       {Observed("newsmon_delivery_duration_seconds", labels, kDeliveryBuckets, 0),
        Observed("newsmon_alert_latency_seconds", labels, kAlertLatencyBuckets, 0)}) {
    for (const auto& [key, value] : samples) series.insert(key);
  }
  return series;
}

std::set<std::string> NewsmonSeries(const Scrape& scrape) {
  std::set<std::string> series;
  for (const auto& [key, value] : scrape.samples) {
    if (!key.starts_with("process_")) series.insert(key);
  }
  return series;
}

TEST_F(MetricsTest, DeclareExportsEverySeriesAtZero) {
  const std::string text = metrics_.Serialize();
  Scrape scrape = Parse(text);

  std::set<std::string> expected = {
      "newsmon_config_last_reload_successful",
      "newsmon_config_last_reload_success_timestamp_seconds",
      "newsmon_rules_loaded",
      "newsmon_sources_configured",
      "newsmon_build_info{version=\"" + std::string(core::kVersion) + "\"}",
      "newsmon_rule_matches_total{rule=\"central-asia\"}",
      "newsmon_rule_matches_total{rule=\"middle-corridor\"}",
  };
  for (const auto& source : sources_) expected.merge(SourceSeries(source));
  for (const auto& sink : sinks_) expected.merge(SinkSeries(sink));
  EXPECT_EQ(NewsmonSeries(scrape), expected);
  for (const auto& [key, value] : scrape.samples) {
    if (key.starts_with("process_")) continue;
    EXPECT_EQ(value, key.starts_with("newsmon_build_info") ? 1 : 0) << key;
  }

  // A sample of exact lines, as a scraper reads them.
  for (const char* line : {
           "newsmon_source_polls_total{outcome=\"ok\",source=\"alpha\"} 0\n",
           "newsmon_source_polls_total{outcome=\"http_429\",source=\"beta\"} 0\n",
           "newsmon_source_fetch_duration_seconds_bucket{source=\"alpha\",le=\"0.05\"} 0\n",
           "newsmon_source_fetch_duration_seconds_bucket{source=\"alpha\",le=\"60\"} 0\n",
           "newsmon_source_fetch_duration_seconds_bucket{source=\"alpha\",le=\"+Inf\"} 0\n",
           "newsmon_source_fetch_duration_seconds_count{source=\"alpha\"} 0\n",
           "newsmon_source_fetch_duration_seconds_sum{source=\"alpha\"} 0\n",
           "newsmon_source_last_success_timestamp_seconds{source=\"beta\"} 0\n",
           "newsmon_deliveries_total{result=\"dead_letter\",sink=\"ops-webhook\"} 0\n",
           "newsmon_delivery_duration_seconds_bucket{sink=\"log\",le=\"0.01\"} 0\n",
           "newsmon_delivery_duration_seconds_bucket{sink=\"log\",le=\"30\"} 0\n",
           "newsmon_alert_latency_seconds_bucket{sink=\"ops-webhook\",le=\"1\"} 0\n",
           "newsmon_alert_latency_seconds_bucket{sink=\"ops-webhook\",le=\"86400\"} 0\n",
           "newsmon_outbox_pending{sink=\"log\"} 0\n",
           "newsmon_dead_letters_total{sink=\"log\"} 0\n",
           "newsmon_rule_matches_total{rule=\"middle-corridor\"} 0\n",
           "newsmon_config_last_reload_successful 0\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

TEST_F(MetricsTest, EveryFamilyHasItsTypeAndHelp) {
  Scrape scrape = Now();
  std::map<std::string, std::string> expected = {
      {"newsmon_source_polls_total", "counter"},
      {"newsmon_source_fetch_duration_seconds", "histogram"},
      {"newsmon_source_response_bytes_total", "counter"},
      {"newsmon_source_items_total", "counter"},
      {"newsmon_source_new_items_total", "counter"},
      {"newsmon_source_matches_total", "counter"},
      {"newsmon_source_parse_warnings_total", "counter"},
      {"newsmon_source_last_success_timestamp_seconds", "gauge"},
      {"newsmon_source_consecutive_failures", "gauge"},
      {"newsmon_source_next_poll_timestamp_seconds", "gauge"},
      {"newsmon_source_interval_seconds", "gauge"},
      {"newsmon_rule_matches_total", "counter"},
      {"newsmon_deliveries_total", "counter"},
      {"newsmon_delivery_duration_seconds", "histogram"},
      {"newsmon_alert_latency_seconds", "histogram"},
      {"newsmon_outbox_pending", "gauge"},
      {"newsmon_dead_letters_total", "counter"},
      {"newsmon_config_last_reload_successful", "gauge"},
      {"newsmon_config_last_reload_success_timestamp_seconds", "gauge"},
      {"newsmon_rules_loaded", "gauge"},
      {"newsmon_sources_configured", "gauge"},
      {"newsmon_build_info", "gauge"},
      {"process_cpu_seconds_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"process_virtual_memory_bytes", "gauge"},
      {"process_open_fds", "gauge"},
      {"process_max_fds", "gauge"},
      {"process_start_time_seconds", "gauge"},
  };
  EXPECT_EQ(scrape.types, expected);
  for (const auto& [family, type] : expected) {
    EXPECT_FALSE(scrape.help[family].empty()) << family;
  }
  EXPECT_EQ(scrape.help["process_cpu_seconds_total"],
            "Total user and system CPU time spent in seconds.");
  EXPECT_EQ(scrape.help["process_start_time_seconds"],
            "Start time of the process since unix epoch in seconds.");
}

TEST_F(MetricsTest, BuildInfoCarriesTheVersion) {
  EXPECT_EQ(Now().samples.at("newsmon_build_info{version=\"" + std::string(core::kVersion) + "\"}"),
            1);
}

TEST_F(MetricsTest, AnOkPollMovesItsSourceAndRuleSeries) {
  const PollEvent event = OkPoll();
  const core::SourceState state{.last_poll = kNow,
                                .last_success = kNow,
                                .last_outcome = core::PollOutcome::kOk,
                                .next_poll = kNow + 5min,
                                .interval = 5min};
  const std::string alpha = "source=\"alpha\"";
  EXPECT_EQ(
      ChangesOf([&] { pipeline::Record(metrics_, event, state); }),
      Merge({{
                 {"newsmon_source_polls_total{outcome=\"ok\"," + alpha + "}", 1},
                 {"newsmon_source_response_bytes_total{" + alpha + "}", 2048},
                 {"newsmon_source_items_total{" + alpha + "}", 20},
                 {"newsmon_source_new_items_total{" + alpha + "}", 3},
                 {"newsmon_source_matches_total{" + alpha + "}", 2},
                 {"newsmon_source_parse_warnings_total{" + alpha + "}", 1},
                 {"newsmon_rule_matches_total{rule=\"central-asia\"}", 2},
                 {"newsmon_rule_matches_total{rule=\"middle-corridor\"}", 1},
                 {"newsmon_source_last_success_timestamp_seconds{" + alpha + "}", kNowSeconds},
                 {"newsmon_source_next_poll_timestamp_seconds{" + alpha + "}", kNowSeconds + 300},
                 {"newsmon_source_interval_seconds{" + alpha + "}", 300},
             },
             // 0.25 s lands in le="0.25": buckets are inclusive.
             Observed("newsmon_source_fetch_duration_seconds", alpha, kFetchBuckets, 0.25)}));
}

TEST_F(MetricsTest, AFailedPollCountsItsOutcomeAndTheFailures) {
  pipeline::Record(metrics_, OkPoll(),
                   {.last_success = kNow, .next_poll = kNow + 5min, .interval = 5min});
  const PollEvent timeout{.source = "alpha",
                          .outcome = core::PollOutcome::kTimeout,
                          .error = "timed out after 10 s fetching https://example.com/feed.xml",
                          .duration = seconds(10)};
  const core::SourceState state{.last_success = kNow,
                                .last_outcome = core::PollOutcome::kTimeout,
                                .consecutive_failures = 1,
                                .next_poll = kNow + 10min,
                                .interval = 5min};
  const std::string alpha = "source=\"alpha\"";
  EXPECT_EQ(
      ChangesOf([&] { pipeline::Record(metrics_, timeout, state); }),
      Merge({{
                 {"newsmon_source_polls_total{outcome=\"timeout\"," + alpha + "}", 1},
                 {"newsmon_source_consecutive_failures{" + alpha + "}", 1},
                 {"newsmon_source_next_poll_timestamp_seconds{" + alpha + "}", kNowSeconds + 600},
             },
             Observed("newsmon_source_fetch_duration_seconds", alpha, kFetchBuckets, 10)}));
}

TEST_F(MetricsTest, EveryOutcomeHasItsOwnSeries) {
  for (const auto& outcome : core::kPollOutcomeNames) {
    PollEvent event{.source = "beta", .outcome = outcome.value};
    auto changes = ChangesOf([&] { pipeline::Record(metrics_, event, core::SourceState{}); });
    EXPECT_EQ(changes.at("newsmon_source_polls_total{outcome=\"" + std::string(outcome.name) +
                         "\",source=\"beta\"}"),
              1);
  }
}

TEST_F(MetricsTest, ADeliveryMovesItsSinkSeriesAndTheLatency) {
  const std::string hook = "sink=\"ops-webhook\"";
  // Published 90 s ago, first seen 30 s ago: the latency runs from publication.
  EXPECT_EQ(
      ChangesOf([&] { pipeline::Record(metrics_, Delivery(DeliveryEvent::Result::kDelivered)); }),
      Merge({{{"newsmon_deliveries_total{result=\"delivered\"," + hook + "}", 1}},
             Observed("newsmon_delivery_duration_seconds", hook, kDeliveryBuckets, 0.125),
             Observed("newsmon_alert_latency_seconds", hook, kAlertLatencyBuckets, 90)}));
}

TEST_F(MetricsTest, AlertLatencyRunsFromTheEarlierOfPublishedAndFirstSeen) {
  auto latency_of = [&](DeliveryEvent event) {
    auto changes = ChangesOf([&] { pipeline::Record(metrics_, event); });
    return changes.at("newsmon_alert_latency_seconds_sum{sink=\"ops-webhook\"}");
  };
  auto undated = Delivery(DeliveryEvent::Result::kDelivered);
  undated.published.reset();
  EXPECT_EQ(latency_of(undated), 30);
  auto dated_later = Delivery(DeliveryEvent::Result::kDelivered);
  dated_later.published = time_point_cast<seconds>(kNow - 10s);  // a feed clock running late
  EXPECT_EQ(latency_of(dated_later), 30);
  auto future = Delivery(DeliveryEvent::Result::kDelivered);
  future.first_seen = kNow + 5s;  // the clock stepped back: never negative
  future.published.reset();
  EXPECT_EQ(Now().samples.at("newsmon_alert_latency_seconds_count{sink=\"ops-webhook\"}"), 2);
  auto changes = ChangesOf([&] { pipeline::Record(metrics_, future); });
  EXPECT_FALSE(changes.contains("newsmon_alert_latency_seconds_sum{sink=\"ops-webhook\"}"));
  EXPECT_EQ(changes.at("newsmon_alert_latency_seconds_count{sink=\"ops-webhook\"}"), 1);
  EXPECT_EQ(changes.at("newsmon_alert_latency_seconds_bucket{sink=\"ops-webhook\",le=\"1\"}"), 1);
}

TEST_F(MetricsTest, FailedDeliveriesHaveNoLatencyAndDeadLettersAreCounted) {
  const std::string hook = "sink=\"ops-webhook\"";
  const auto duration =
      Observed("newsmon_delivery_duration_seconds", hook, kDeliveryBuckets, 0.125);
  auto retry = Delivery(DeliveryEvent::Result::kRetry);
  retry.status = 503;
  EXPECT_EQ(ChangesOf([&] { pipeline::Record(metrics_, retry); }),
            Merge({{{"newsmon_deliveries_total{result=\"retry\"," + hook + "}", 1}}, duration}));
  auto dead = Delivery(DeliveryEvent::Result::kDeadLetter);
  dead.status = 400;
  EXPECT_EQ(ChangesOf([&] { pipeline::Record(metrics_, dead); }),
            Merge({{{"newsmon_deliveries_total{result=\"dead_letter\"," + hook + "}", 1},
                    {"newsmon_dead_letters_total{" + hook + "}", 1}},
                   duration}));
  auto gone = Delivery(DeliveryEvent::Result::kGone);
  gone.status = 410;
  EXPECT_EQ(ChangesOf([&] { pipeline::Record(metrics_, gone); }),
            Merge({{{"newsmon_deliveries_total{result=\"gone\"," + hook + "}", 1},
                    {"newsmon_dead_letters_total{" + hook + "}", 1}},
                   duration}));
}

TEST_F(MetricsTest, GaugesSetDirectly) {
  EXPECT_EQ(ChangesOf([&] {
              metrics_.OutboxPending("log", 7);
              metrics_.RulesLoaded(12);
              metrics_.SourcesConfigured(40);
              metrics_.ConfigReload(true, kNow);
            }),
            (Samples{{"newsmon_outbox_pending{sink=\"log\"}", 7},
                     {"newsmon_rules_loaded", 12},
                     {"newsmon_sources_configured", 40},
                     {"newsmon_config_last_reload_successful", 1},
                     {"newsmon_config_last_reload_success_timestamp_seconds", kNowSeconds}}));
  // A failed reload keeps the time of the last good one.
  EXPECT_EQ(ChangesOf([&] { metrics_.ConfigReload(false, kNow + 1h); }),
            (Samples{{"newsmon_config_last_reload_successful", 0}}));
}

TEST_F(MetricsTest, NamesNotDeclaredAreNotRecorded) {
  EXPECT_EQ(ChangesOf([&] {
              metrics_.Poll("gamma", {.outcome = "ok", .fetch = 1s, .items = 3});
              metrics_.SourceState("gamma", {.consecutive_failures = 2});
              metrics_.RuleMatch("unknown-rule");
              metrics_.Delivery("slack", "delivered", 1s, 5s);
              metrics_.DeadLetter("slack");
              metrics_.OutboxPending("slack", 3);
            }),
            Samples{});
  // An outcome or result outside the fixed enums counts nowhere either.
  auto changes = ChangesOf([&] {
    metrics_.Poll("alpha", {.outcome = "teapot", .fetch = 1s});
    metrics_.Delivery("log", "maybe", 1s);
  });
  for (const auto& [key, value] : changes) {
    EXPECT_FALSE(key.starts_with("newsmon_source_polls_total")) << key;
    EXPECT_FALSE(key.starts_with("newsmon_deliveries_total")) << key;
  }
}

TEST_F(MetricsTest, DeclareAgainAddsNewNamesAndRemovesOldOnes) {
  pipeline::Record(metrics_, OkPoll(), {.last_success = kNow});
  pipeline::Record(metrics_, Delivery(DeliveryEvent::Result::kDelivered));
  Scrape before = Now();
  // The same names again: nothing moves.
  metrics_.Declare(sources_, rules_, sinks_);
  EXPECT_EQ(Changes(before, Now()), Samples{});

  metrics_.Declare(std::vector<std::string>{"alpha", "gamma"},
                   std::vector<std::string>{"central-asia", "belt-and-road"},
                   std::vector<std::string>{"ops-webhook", "slack"});
  Scrape after = Now();
  std::set<std::string> expected = {
      "newsmon_config_last_reload_successful",
      "newsmon_config_last_reload_success_timestamp_seconds",
      "newsmon_rules_loaded",
      "newsmon_sources_configured",
      "newsmon_build_info{version=\"" + std::string(core::kVersion) + "\"}",
      "newsmon_rule_matches_total{rule=\"central-asia\"}",
      "newsmon_rule_matches_total{rule=\"belt-and-road\"}",
  };
  for (const char* source : {"alpha", "gamma"}) expected.merge(SourceSeries(source));
  for (const char* sink : {"ops-webhook", "slack"}) expected.merge(SinkSeries(sink));
  EXPECT_EQ(NewsmonSeries(after), expected);
  // Kept names keep their values; new ones start at 0.
  EXPECT_EQ(after.samples.at("newsmon_source_polls_total{outcome=\"ok\",source=\"alpha\"}"), 1);
  EXPECT_EQ(after.samples.at("newsmon_rule_matches_total{rule=\"central-asia\"}"), 2);
  EXPECT_EQ(after.samples.at("newsmon_deliveries_total{result=\"delivered\",sink=\"ops-webhook\"}"),
            1);
  EXPECT_EQ(after.samples.at("newsmon_source_polls_total{outcome=\"ok\",source=\"gamma\"}"), 0);
  // A removed name is not recorded; declared again, it starts over from 0.
  metrics_.RuleMatch("middle-corridor");
  metrics_.Declare(sources_, rules_, sinks_);
  EXPECT_EQ(Now().samples.at("newsmon_rule_matches_total{rule=\"middle-corridor\"}"), 0);
}

TEST_F(MetricsTest, RecordingWhileDeclaringAndScrapingIsSafe) {
  const std::vector<std::string> fewer = {"alpha"};
  std::thread recorder([&] {
    for (int i = 0; i < 2000; ++i) {
      metrics_.Poll("beta", {.outcome = "ok", .fetch = 10ms, .items = 1});
      metrics_.RuleMatch("middle-corridor");
    }
  });
  for (int i = 0; i < 200; ++i) {
    metrics_.Declare(i % 2 ? sources_ : fewer, rules_, sinks_);
    EXPECT_FALSE(metrics_.Serialize().empty());
  }
  recorder.join();
  metrics_.Declare(sources_, rules_, sinks_);
  EXPECT_TRUE(Now().samples.contains("newsmon_source_items_total{source=\"beta\"}"));
}

TEST(ProcessMetricsTest, ArePlausibleForThisProcess) {
  Metrics metrics;
  Samples samples = Parse(metrics.Serialize()).samples;
  const double now = duration<double>(system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(samples.at("process_start_time_seconds"), now, 60);
  EXPECT_GT(samples.at("process_open_fds"), 0);
  EXPECT_GE(samples.at("process_max_fds"), samples.at("process_open_fds"));
  EXPECT_GT(samples.at("process_resident_memory_bytes"), 0);
  EXPECT_GE(samples.at("process_virtual_memory_bytes"),
            samples.at("process_resident_memory_bytes"));
  EXPECT_GE(samples.at("process_cpu_seconds_total"), 0);
  EXPECT_LT(samples.at("process_cpu_seconds_total"), 3600);
}

TEST(ProcessMetricsTest, ParseProcStatCountsFieldsFromTheLastParenthesis) {
  auto stat = ParseProcStat(
      "4242 (news (m) on) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 50 0 0 20 0 3 0 12345 "
      "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 50u);
  EXPECT_EQ(stat->starttime_ticks, 12345u);
  EXPECT_EQ(stat->vsize_bytes, 104857600u);
  EXPECT_EQ(stat->rss_pages, 2560u);
  EXPECT_FALSE(ParseProcStat(""));
  EXPECT_FALSE(ParseProcStat("4242 (newsmon) S 1 4242"));
  EXPECT_FALSE(ParseProcStat("4242 newsmon S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 50"));
}

TEST(ProcessMetricsTest, ParseBootTimeAndLimits) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3 4\nintr 5\nbtime 1709280000\nprocesses 77\n"), 1709280000u);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3 4\n"));
  const char* limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(ParseMaxOpenFiles(limits), 1024u);
  EXPECT_FALSE(ParseMaxOpenFiles(
      "Max open files            unlimited            unlimited            files     \n"));
}

prometheus::MetricFamily FamilyNamed(const std::vector<prometheus::MetricFamily>& families,
                                     const std::string& name) {
  for (const auto& family : families) {
    if (family.name == name) return family;
  }
  ADD_FAILURE() << "no " << name;
  return {};
}

TEST(ProcessMetricsTest, ReadFromAProcDirectory) {
  test::TempDir proc;
  proc.Write("self/stat",
             "4242 (newsmon) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 50 0 0 20 0 3 0 12345 "
             "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0\n");
  proc.Write("stat", "cpu  1 2 3 4\nbtime 1709280000\n");
  proc.Write("self/limits",
             "Limit                     Soft Limit           Hard Limit           Units     \n"
             "Max open files            1024                 524288               files     \n");
  for (const char* fd : {"self/fd/0", "self/fd/1", "self/fd/2"}) proc.Write(fd, "");
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  auto families = ProcessCollector(proc.path()).Collect();
  ASSERT_EQ(families.size(), 6u);
  auto value = [&](const std::string& name) -> double {
    auto family = FamilyNamed(families, name);
    EXPECT_EQ(family.metric.size(), 1u) << name;
    if (family.metric.empty()) return NAN;
    return family.type == prometheus::MetricType::Counter ? family.metric[0].counter.value
                                                          : family.metric[0].gauge.value;
  };
  EXPECT_DOUBLE_EQ(value("process_cpu_seconds_total"), 300 / ticks);
  EXPECT_EQ(FamilyNamed(families, "process_cpu_seconds_total").type,
            prometheus::MetricType::Counter);
  EXPECT_EQ(value("process_open_fds"), 3);
  EXPECT_EQ(value("process_max_fds"), 1024);
  EXPECT_EQ(value("process_virtual_memory_bytes"), 104857600);
  EXPECT_EQ(value("process_resident_memory_bytes"), 2560 * page);
  EXPECT_DOUBLE_EQ(value("process_start_time_seconds"), 1709280000 + 12345 / ticks);
}

TEST(ProcessMetricsTest, WhatCannotBeReadIsLeftOut) {
  test::TempDir proc;
  EXPECT_TRUE(ProcessCollector(proc.path()).Collect().empty());
  proc.Write("self/stat", "garbage\n");
  proc.Write("self/fd/0", "");
  auto families = ProcessCollector(proc.path()).Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "process_open_fds");
}

}  // namespace
}  // namespace newsmon::metrics
