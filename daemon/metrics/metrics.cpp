#include "daemon/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "daemon/core/version.h"
#include "daemon/metrics/process.h"

namespace newsmon::metrics {
namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Registry;

constexpr std::size_t kOutcomeCount = std::size(core::kPollOutcomeNames);
constexpr std::size_t kResultCount = std::size(kDeliveryResults);

prometheus::Family<Counter>& Counters(Registry& registry, const std::string& name,
                                      const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Family<Gauge>& Gauges(Registry& registry, const std::string& name,
                                  const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

prometheus::Family<Histogram>& Histograms(Registry& registry, const std::string& name,
                                          const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

template <std::size_t N>
Histogram::BucketBoundaries Buckets(const double (&bounds)[N]) {
  return {std::begin(bounds), std::end(bounds)};
}

double UnixSeconds(core::WallTime time) { return Seconds(time.time_since_epoch()).count(); }

// A series and the family it belongs to, so it can be removed again.
template <typename T>
struct Series {
  prometheus::Family<T>* family = nullptr;
  T* metric = nullptr;

  void Add(prometheus::Family<T>& in, const prometheus::Labels& labels) {
    family = &in;
    metric = &in.Add(labels);
  }
  void Add(prometheus::Family<T>& in, const prometheus::Labels& labels,
           const Histogram::BucketBoundaries& buckets) {
    family = &in;
    metric = &in.Add(labels, buckets);
  }
  void Remove() { family->Remove(metric); }
  T* operator->() const { return metric; }
};

struct SourceSeries {
  std::array<Series<Counter>, kOutcomeCount> polls;  // in kPollOutcomeNames order
  Series<Histogram> fetch;
  Series<Counter> bytes, items, new_items, matches, warnings;
  Series<Gauge> last_success, failures, next_poll, interval;

  void Remove() {
    for (auto& outcome : polls) outcome.Remove();
    fetch.Remove();
    for (auto* counter : {&bytes, &items, &new_items, &matches, &warnings}) counter->Remove();
    for (auto* gauge : {&last_success, &failures, &next_poll, &interval}) gauge->Remove();
  }
};

struct RuleSeries {
  Series<Counter> matches;

  void Remove() { matches.Remove(); }
};

struct SinkSeries {
  std::array<Series<Counter>, kResultCount> deliveries;  // in kDeliveryResults order
  Series<Histogram> duration, latency;
  Series<Gauge> pending;
  Series<Counter> dead_letters;

  void Remove() {
    for (auto& result : deliveries) result.Remove();
    duration.Remove();
    latency.Remove();
    pending.Remove();
    dead_letters.Remove();
  }
};

// Removes the series of names not in `wanted` and adds those of new names (via `add`).
template <typename SeriesT, typename AddFn>
void Reconcile(std::map<std::string, SeriesT, std::less<>>& table,
               std::span<const std::string> wanted, AddFn add) {
  std::set<std::string_view> keep(wanted.begin(), wanted.end());
  for (auto it = table.begin(); it != table.end();) {
    if (keep.contains(it->first)) {
      ++it;
    } else {
      it->second.Remove();
      it = table.erase(it);
    }
  }
  for (const auto& name : keep) {
    if (table.find(name) == table.end()) table.emplace(std::string(name), add(std::string(name)));
  }
}

template <typename SeriesT>
SeriesT* Find(std::map<std::string, SeriesT, std::less<>>& table, std::string_view name) {
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

template <std::size_t N, typename Entry>
std::optional<std::size_t> IndexOf(const Entry (&table)[N], std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if constexpr (std::is_same_v<Entry, std::string_view>) {
      if (table[i] == name) return i;
    } else {
      if (table[i].name == name) return i;
    }
  }
  return std::nullopt;
}

}  // namespace

struct Metrics::Impl {
  Registry registry;  // first: the members below register their families in it
  ProcessCollector process;

  prometheus::Family<Counter>& polls = Counters(registry, "newsmon_source_polls_total",
                                                "Polls of a source, by how they ended (outcome).");
  prometheus::Family<Histogram>& fetch_duration =
      Histograms(registry, "newsmon_source_fetch_duration_seconds",
                 "Time to fetch a source (request and response body; parsing excluded).");
  prometheus::Family<Counter>& response_bytes =
      Counters(registry, "newsmon_source_response_bytes_total",
               "Response body bytes received from a source, as sent (compressed).");
  prometheus::Family<Counter>& items =
      Counters(registry, "newsmon_source_items_total",
               "Items in the feeds read from a source (every item of every successful poll).");
  prometheus::Family<Counter>& new_items = Counters(registry, "newsmon_source_new_items_total",
                                                    "Items of a source seen for the first time.");
  prometheus::Family<Counter>& matches =
      Counters(registry, "newsmon_source_matches_total",
               "New items of a source that at least one rule matched.");
  prometheus::Family<Counter>& warnings =
      Counters(registry, "newsmon_source_parse_warnings_total",
               "Problems the parser worked around in a source's feeds.");
  prometheus::Family<Gauge>& last_success =
      Gauges(registry, "newsmon_source_last_success_timestamp_seconds",
             "When a poll of the source last succeeded (ok or not_modified), Unix time; 0 = "
             "never.");
  prometheus::Family<Gauge>& failures =
      Gauges(registry, "newsmon_source_consecutive_failures",
             "Failed polls of the source since its last success.");
  prometheus::Family<Gauge>& next_poll =
      Gauges(registry, "newsmon_source_next_poll_timestamp_seconds",
             "When the source is next due to be polled, Unix time; 0 = not scheduled.");
  prometheus::Family<Gauge>& interval =
      Gauges(registry, "newsmon_source_interval_seconds",
             "The source's current polling interval (before backoff and jitter).");
  prometheus::Family<Counter>& rule_matches = Counters(
      registry, "newsmon_rule_matches_total", "New items the rule matched, over all sources.");
  prometheus::Family<Counter>& deliveries =
      Counters(registry, "newsmon_deliveries_total", "Delivery attempts to a sink, by result.");
  prometheus::Family<Histogram>& delivery_duration = Histograms(
      registry, "newsmon_delivery_duration_seconds", "Time of one delivery attempt to a sink.");
  prometheus::Family<Histogram>& alert_latency = Histograms(
      registry, "newsmon_alert_latency_seconds",
      "From when an item was published (or first seen, if earlier or undated) to its alert's "
      "delivery.");
  prometheus::Family<Gauge>& outbox_pending = Gauges(
      registry, "newsmon_outbox_pending", "Alerts waiting in the outbox to be sent to a sink.");
  prometheus::Family<Counter>& dead_letters =
      Counters(registry, "newsmon_dead_letters_total",
               "Alerts given up on and moved to a sink's dead letters.");
  Gauge& reload_ok = Gauges(registry, "newsmon_config_last_reload_successful",
                            "Whether the last config load or reload succeeded (1) or failed (0).")
                         .Add({});
  Gauge& reload_time =
      Gauges(registry, "newsmon_config_last_reload_success_timestamp_seconds",
             "When the config was last loaded or reloaded successfully, Unix time.")
          .Add({});
  Gauge& rules_loaded =
      Gauges(registry, "newsmon_rules_loaded", "Rules in the running config.").Add({});
  Gauge& sources_configured =
      Gauges(registry, "newsmon_sources_configured", "Sources in the running config.").Add({});

  std::mutex mutex;  // guards the three tables below (the series themselves are atomic)
  std::map<std::string, SourceSeries, std::less<>> sources;
  std::map<std::string, RuleSeries, std::less<>> rules;
  std::map<std::string, SinkSeries, std::less<>> sinks;

  Impl() {
    Gauges(registry, "newsmon_build_info", "The running newsmon's version; always 1.")
        .Add({{"version", core::kVersion}})
        .Set(1);
  }

  SourceSeries AddSource(const std::string& name) {
    const prometheus::Labels labels{{"source", name}};
    SourceSeries s;
    for (std::size_t i = 0; i < kOutcomeCount; ++i) {
      s.polls[i].Add(polls,
                     {{"source", name}, {"outcome", std::string(core::kPollOutcomeNames[i].name)}});
    }
    s.fetch.Add(fetch_duration, labels, Buckets(kFetchBuckets));
    s.bytes.Add(response_bytes, labels);
    s.items.Add(items, labels);
    s.new_items.Add(new_items, labels);
    s.matches.Add(matches, labels);
    s.warnings.Add(warnings, labels);
    s.last_success.Add(last_success, labels);
    s.failures.Add(failures, labels);
    s.next_poll.Add(next_poll, labels);
    s.interval.Add(interval, labels);
    return s;
  }

  RuleSeries AddRule(const std::string& name) {
    RuleSeries r;
    r.matches.Add(rule_matches, {{"rule", name}});
    return r;
  }

  SinkSeries AddSink(const std::string& name) {
    const prometheus::Labels labels{{"sink", name}};
    SinkSeries s;
    for (std::size_t i = 0; i < kResultCount; ++i) {
      s.deliveries[i].Add(deliveries,
                          {{"sink", name}, {"result", std::string(kDeliveryResults[i])}});
    }
    s.duration.Add(delivery_duration, labels, Buckets(kDeliveryBuckets));
    s.latency.Add(alert_latency, labels, Buckets(kAlertLatencyBuckets));
    s.pending.Add(outbox_pending, labels);
    s.dead_letters.Add(dead_letters, labels);
    return s;
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}

Metrics::~Metrics() = default;

void Metrics::Declare(std::span<const std::string> sources, std::span<const std::string> rules,
                      std::span<const std::string> sinks) {
  std::lock_guard lock(impl_->mutex);
  Reconcile(impl_->sources, sources, [&](const std::string& n) { return impl_->AddSource(n); });
  Reconcile(impl_->rules, rules, [&](const std::string& n) { return impl_->AddRule(n); });
  Reconcile(impl_->sinks, sinks, [&](const std::string& n) { return impl_->AddSink(n); });
}

void Metrics::Poll(std::string_view source, const PollSample& poll) {
  std::lock_guard lock(impl_->mutex);
  SourceSeries* s = Find(impl_->sources, source);
  if (!s) return;
  if (auto outcome = IndexOf(core::kPollOutcomeNames, poll.outcome)) {
    s->polls[*outcome]->Increment();
  }
  s->fetch->Observe(poll.fetch.count());
  s->bytes->Increment(static_cast<double>(poll.wire_bytes));
  s->items->Increment(static_cast<double>(poll.items));
  s->new_items->Increment(static_cast<double>(poll.new_items));
  s->matches->Increment(static_cast<double>(poll.matches));
  s->warnings->Increment(static_cast<double>(poll.warnings));
}

void Metrics::SourceState(std::string_view source, const SourceSample& state) {
  std::lock_guard lock(impl_->mutex);
  SourceSeries* s = Find(impl_->sources, source);
  if (!s) return;
  s->last_success->Set(state.last_success ? UnixSeconds(*state.last_success) : 0);
  s->failures->Set(state.consecutive_failures);
  s->next_poll->Set(state.next_poll ? UnixSeconds(*state.next_poll) : 0);
  s->interval->Set(state.interval.count());
}

void Metrics::RuleMatch(std::string_view rule) {
  std::lock_guard lock(impl_->mutex);
  if (RuleSeries* r = Find(impl_->rules, rule)) r->matches->Increment();
}

void Metrics::Delivery(std::string_view sink, std::string_view result, Seconds duration,
                       std::optional<Seconds> latency) {
  std::lock_guard lock(impl_->mutex);
  SinkSeries* s = Find(impl_->sinks, sink);
  if (!s) return;
  if (auto index = IndexOf(kDeliveryResults, result)) s->deliveries[*index]->Increment();
  s->duration->Observe(duration.count());
  if (latency) s->latency->Observe(latency->count());
}

void Metrics::DeadLetter(std::string_view sink) {
  std::lock_guard lock(impl_->mutex);
  if (SinkSeries* s = Find(impl_->sinks, sink)) s->dead_letters->Increment();
}

void Metrics::OutboxPending(std::string_view sink, std::uint64_t pending) {
  std::lock_guard lock(impl_->mutex);
  if (SinkSeries* s = Find(impl_->sinks, sink)) s->pending->Set(static_cast<double>(pending));
}

void Metrics::ConfigReload(bool ok, core::WallTime when) {
  impl_->reload_ok.Set(ok ? 1 : 0);
  if (ok) impl_->reload_time.Set(UnixSeconds(when));
}

void Metrics::RulesLoaded(std::uint64_t rules) {
  impl_->rules_loaded.Set(static_cast<double>(rules));
}

void Metrics::SourcesConfigured(std::uint64_t sources) {
  impl_->sources_configured.Set(static_cast<double>(sources));
}

std::string Metrics::Serialize() const {
  std::vector<prometheus::MetricFamily> families = impl_->registry.Collect();
  std::vector<prometheus::MetricFamily> process = impl_->process.Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
                  std::make_move_iterator(process.end()));
  // prometheus-cpp emits a family's series in hash order; sorted, a scrape reads (and diffs)
  // well.
  for (auto& family : families) {
    std::sort(family.metric.begin(), family.metric.end(),
              [](const auto& a, const auto& b) { return a.label < b.label; });
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace newsmon::metrics
