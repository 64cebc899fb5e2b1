#include "daemon/app/run.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <system_error>

#include "daemon/admin/server.h"
#include "daemon/app/notify.h"
#include "daemon/config/units.h"
#include "daemon/core/version.h"
#include "daemon/metrics/metrics.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "daemon/pipeline/delivery_loop.h"
#include "daemon/pipeline/metrics_recorder.h"
#include "daemon/pipeline/poll_loop.h"
#include "daemon/pipeline/store_worker.h"
#include "daemon/store/store.h"

namespace newsmon::app {
namespace {

// Creates the state directory if needed and checks we can write there, so a bad
// deployment fails at start-up rather than at the first poll.
bool PrepareStateDir(const std::filesystem::path& dir, spdlog::logger& log) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    log.error("cannot create state directory {}: {}", dir.string(), ec.message());
    return false;
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    log.error("state directory {} is not writable: {}", dir.string(), std::strerror(errno));
    return false;
  }
  return true;
}

// How long a stop waits for polls and deliveries in flight.
constexpr std::chrono::seconds kDrainTimeout{10};
// How often newsmon_outbox_pending is read from the store.
constexpr std::chrono::seconds kOutboxInterval{5};

std::vector<std::string> SinkNames(const config::Config& config) {
  std::vector<std::string> names;
  for (const auto& sink : config.sinks) names.push_back(sink.name);
  return names;
}

// A new match as /api/v1/stream sends it (the history row's id is not known here: null).
// With a store, PollEvent::matched holds only the items alerts were queued for.
store::HistoryEntry StreamEntry(const config::Config& config, const pipeline::PollEvent& event,
                                const pipeline::MatchedItem& matched) {
  store::HistoryEntry entry{
      .source = event.source, .item = matched.item, .first_seen = event.started, .alerted = true};
  for (const auto& match : matched.matches) {
    auto spec = std::find_if(config.rules.begin(), config.rules.end(),
                             [&](const core::RuleSpec& r) { return r.name == match.rule; });
    entry.rules.push_back(
        {.rule = match.rule,
         .severity = spec != config.rules.end() ? spec->severity : core::RuleSeverity::kWarning});
  }
  return entry;
}

const core::Source* FindSource(const config::Config& config, const std::string& name) {
  for (const auto& source : config.sources) {
    if (source.name == name) return &source;
  }
  return nullptr;
}

// The running daemon: everything `newsmon run` owns, on one io_context.
class Daemon final : public admin::Provider {
 public:
  Daemon(Loaded initial, Loader reload, spdlog::logger& log, std::unique_ptr<store::Store> store)
      : log_(log),
        reload_(std::move(reload)),
        config_(std::move(initial.config)),
        store_(std::move(store)),
        resolver_(net::MakeResolver(io_.get_executor())),
        // Enough idle connections to reuse one per poll a host may have in flight.
        client_(io_.get_executor(), *resolver_,
                {.max_idle_per_key =
                     static_cast<std::size_t>(std::max(4, config_.polling.max_per_host))}),
        loop_(io_.get_executor(), client_, clock_, std::move(initial.rules), log,
              {.limits = config_.polling, .store = &store_, .sinks = SinkNames(config_)}),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        drain_(io_),
        notifier_(log),
        admin_(io_.get_executor(),
               {.host = config_.listen.host,
                .port = config_.listen.port,
                .token = config_.admin_token},
               *this, log) {
    loop_.OnPoll([this](const pipeline::PollEvent& event) {
      last_poll_ = clock_.Now();
      if (const core::SourceState* state = loop_.State(event.source)) {
        pipeline::Record(metrics_, event, *state);
      }
      if (event.alerts_queued > 0 && delivery_) delivery_->Wake(event.alert_sinks);
      if (admin_.stream_clients() > 0) {
        for (const auto& matched : event.matched) {
          admin_.Publish(admin::MatchJson(StreamEntry(config_, event, matched)));
        }
      }
    });
    DeclareMetrics();
  }

  int Run(const std::map<std::string, core::SourceState>& states) {
    WaitForSignal();  // before the start-up line, so a signal sent after it is handled
    try {
      admin_.Start();
    } catch (const std::system_error& e) {
      log_.error("{}", e.what());
      return 1;
    }
    for (const auto& source : config_.sources) {
      log_.debug("source {}: {} every {}{}", source.name, source.url,
                 config::FormatDuration(source.interval), source.enabled ? "" : " (disabled)");
      auto state = states.find(source.name);
      loop_.Add(source, state == states.end() ? core::SourceState{} : state->second);
    }
    loop_.Start();
    StartDelivery(config_.sinks);
    WatchOutbox();
    ready_ = true;
    log_.info(
        "newsmon {} started: config {}, {} sources ({} enabled), {} rules in {} files, {} sinks, "
        "state in {}",
        core::kVersion, config_.file.string(), config_.sources.size(),
        config::EnabledSourceCount(config_), config_.rules.size(), config_.rule_files.size(),
        config_.sinks.size(), config_.state_dir.string());
    notifier_.Ready(StatusLine());
    if (auto interval = notifier_.StartWatchdog(io_.get_executor()); interval.count() > 0) {
      log_.info("systemd watchdog every {} ms: pinging every {} ms", interval.count() / 1000,
                interval.count() / 2000);
    }
    io_.run();
    notifier_.Stop();
    log_.info("stopped");
    return 0;
  }

  // admin::Provider: on io_'s thread.
  bool Ready() const override { return ready_ && !stopping_; }
  std::string Metrics() override { return metrics_.Serialize(); }
  std::vector<admin::SourceStatus> Sources() override {
    std::vector<admin::SourceStatus> out;
    for (const auto& source : config_.sources) {
      admin::SourceStatus status{
          .name = source.name, .url = source.url, .kind = source.kind, .enabled = source.enabled};
      if (const core::SourceState* state = loop_.State(source.name)) status.state = *state;
      if (status.state.interval.count() == 0) status.state.interval = source.interval;
      out.push_back(std::move(status));
    }
    return out;
  }
  boost::asio::awaitable<std::vector<store::HistoryEntry>> Matches(
      std::size_t limit, std::optional<std::string> rule,
      std::optional<std::string> source) override {
    auto op = store_.Run([limit, rule = std::move(rule), source = std::move(source)](
                             store::Store& s) { return s.RecentMatches(limit, rule, source); });
    co_return co_await std::move(op);
  }

 private:
  void WaitForSignal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        notifier_.Reloading("reloading " + config_.file.string());
        Reload();
        notifier_.ReloadDone(StatusLine());
        WaitForSignal();
        return;
      }
      log_.info("received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
      notifier_.Stopping("draining polls and deliveries");
      stopping_ = true;
      outbox_timer_.cancel();
      loop_.Stop();
      if (delivery_) delivery_->Stop();
      admin_.Stop();
      drain_deadline_ = std::chrono::steady_clock::now() + kDrainTimeout;
      CheckDrained();
    });
  }

  // What `systemctl status` shows while running: sources, the last poll, the outbox.
  std::string StatusLine() const {
    std::string last = "none yet";
    if (last_poll_) {
      auto ago = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - *last_poll_);
      last = std::to_string(ago.count()) + " s ago";
    }
    return fmt::format(
        "polling {} of {} sources (last poll {}), {} rules, {} sinks, {} alerts "
        "in the outbox",
        config::EnabledSourceCount(config_), config_.sources.size(), last, config_.rules.size(),
        config_.sinks.size(), outbox_pending_);
  }

  bool DeliveryStopped() const {
    return (!delivery_ || delivery_->Stopped()) &&
           std::all_of(retired_.begin(), retired_.end(),
                       [](const auto& d) { return d->Stopped(); });
  }

  void CheckDrained() {
    if ((loop_.Stopped() && DeliveryStopped() && admin_.Stopped()) ||
        std::chrono::steady_clock::now() >= drain_deadline_) {
      io_.stop();
      return;
    }
    drain_.expires_after(std::chrono::milliseconds(20));
    drain_.async_wait([this](const boost::system::error_code&) { CheckDrained(); });
  }

  void StartDelivery(const std::vector<core::SinkSpec>& sinks) {
    delivery_ = std::make_unique<pipeline::DeliveryLoop>(io_.get_executor(), client_, store_,
                                                         clock_, log_, sinks);
    delivery_->OnDelivery(
        [this](const pipeline::DeliveryEvent& event) { pipeline::Record(metrics_, event); });
    delivery_->Start();
  }

  // The running config's names as metric series (at 0 until something happens).
  void DeclareMetrics() {
    std::vector<std::string> sources, rules;
    for (const auto& source : config_.sources) sources.push_back(source.name);
    for (const auto& rule : config_.rules) rules.push_back(rule.name);
    metrics_.Declare(sources, rules, SinkNames(config_));
    metrics_.RulesLoaded(config_.rules.size());
    metrics_.SourcesConfigured(config_.sources.size());
    metrics_.ConfigReload(true, clock_.Now());
  }

  // newsmon_outbox_pending, refreshed from the store every kOutboxInterval.
  void WatchOutbox() {
    auto read = store_.Run([](store::Store& s) { return s.PendingCounts(); });
    boost::asio::co_spawn(io_, std::move(read),
                          [this](std::exception_ptr e, std::map<std::string, std::size_t> pending) {
                            if (!e) {
                              outbox_pending_ = 0;
                              for (const auto& sink : config_.sinks) {
                                auto it = pending.find(sink.name);
                                std::size_t n = it == pending.end() ? 0 : it->second;
                                metrics_.OutboxPending(sink.name, n);
                                outbox_pending_ += n;
                              }
                            }
                            if (stopping_) return;
                            if (ready_) notifier_.Status(StatusLine());
                            outbox_timer_.expires_after(kOutboxInterval);
                            outbox_timer_.async_wait([this](const boost::system::error_code& ec) {
                              if (!ec) WatchOutbox();
                            });
                          });
  }

  // SIGHUP: the new config and rules replace the running ones as a whole, or not at all.
  void Reload() {
    log_.info("received SIGHUP, reloading {}", config_.file.string());
    Loaded loaded = reload_();
    for (const auto& d : loaded.diagnostics) {
      if (d.severity == core::Severity::kError) {
        log_.error("{}", core::Format(d));
      } else {
        log_.warn("{}", core::Format(d));
      }
    }
    if (!loaded.ok) {
      log_.error("reload failed with {} errors: still running the previous config and rules",
                 core::CountErrors(loaded.diagnostics));
      metrics_.ConfigReload(false, clock_.Now());
      return;
    }
    config::Config& next = loaded.config;
    WarnRestartOnly(next);

    loop_.SetRules(std::move(loaded.rules));
    loop_.SetSinks(SinkNames(next));
    std::size_t added = 0, changed = 0, removed = 0;
    for (const auto& old : config_.sources) {
      const core::Source* now = FindSource(next, old.name);
      if (!now || !now->enabled) removed += loop_.Remove(old.name) ? 1 : 0;
    }
    for (const auto& source : next.sources) {
      const core::Source* before = FindSource(config_, source.name);
      if (before && *before == source) continue;
      if (!source.enabled) continue;
      // A changed source keeps its schedule and failures; its validators only while it is
      // fetched from the same URL.
      core::SourceState state;
      if (const core::SourceState* running = loop_.State(source.name)) state = *running;
      if (!before || before->url != source.url) {
        state.etag.clear();
        state.last_modified.clear();
      }
      state.next_poll.reset();
      loop_.Add(source, state);
      ++(before && before->enabled ? changed : added);
    }
    if (next.sinks != config_.sinks) {
      // The old loop finishes what it is sending; the new one takes the outbox from there.
      delivery_->Stop();
      retired_.push_back(std::move(delivery_));
      StartDelivery(next.sinks);
    }
    auto enable = store_.Run([](store::Store& s) { s.EnableAllSinks(); });
    boost::asio::co_spawn(io_, std::move(enable), [this](std::exception_ptr e) {
      if (e) log_.error("reload: cannot re-enable sinks in the state database");
    });
    config_ = std::move(next);
    DeclareMetrics();
    log_.info("reloaded: {} sources ({} added, {} changed, {} removed), {} rules, {} sinks",
              config_.sources.size(), added, changed, removed, config_.rules.size(),
              config_.sinks.size());
  }

  // Settings read once at start.
  void WarnRestartOnly(const config::Config& next) {
    auto warn = [&](bool changed, std::string_view what) {
      if (changed) log_.warn("reload: {} changed; it takes effect at the next restart", what);
    };
    warn(next.state_dir != config_.state_dir, "state_dir");
    warn(next.listen.host != config_.listen.host || next.listen.port != config_.listen.port,
         "listen");
    warn(next.admin_token != config_.admin_token, "the admin token (admin_token_file)");
    warn(next.log.level != config_.log.level || next.log.format != config_.log.format, "log");
    warn(next.polling.max_concurrent != config_.polling.max_concurrent ||
             next.polling.max_per_host != config_.polling.max_per_host,
         "polling");
    warn(next.store.seen_retention != config_.store.seen_retention ||
             next.store.history_limit != config_.store.history_limit,
         "store");
  }

  spdlog::logger& log_;
  Loader reload_;
  config::Config config_;  // the running config
  boost::asio::io_context io_{1};
  // After io_: its thread may still post a completion there while it winds down.
  pipeline::StoreWorker store_;
  std::unique_ptr<net::Resolver> resolver_;
  net::HttpClient client_;
  core::SystemClock clock_;
  pipeline::PollLoop loop_;
  std::unique_ptr<pipeline::DeliveryLoop> delivery_;
  std::vector<std::unique_ptr<pipeline::DeliveryLoop>> retired_;  // replaced by a reload
  metrics::Metrics metrics_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_;
  boost::asio::steady_timer outbox_timer_{io_};
  bool stopping_ = false;
  std::optional<core::WallTime> last_poll_;  // for the STATUS line
  std::size_t outbox_pending_ = 0;           // over all sinks, as last read
  std::chrono::steady_clock::time_point drain_deadline_ =
      std::chrono::steady_clock::time_point::max();
  Notifier notifier_;   // after io_: goes before the io_context its watchdog timer is on
  bool ready_ = false;  // started: /readyz answers 200 (until a stop begins)
  // Last: its connections may read everything above; it goes first.
  admin::Server admin_;
};

}  // namespace

int RunDaemon(Loaded initial, Loader reload, spdlog::logger& log) {
  const config::Config& config = initial.config;
  if (!PrepareStateDir(config.state_dir, log)) return 1;
  std::unique_ptr<store::Store> store;
  std::map<std::string, core::SourceState> states;
  try {
    store = store::Store::Open(store::StoreFile(config.state_dir),
                               {.seen_retention = config.store.seen_retention,
                                .history_limit = config.store.history_limit});
    states = store->LoadSourceStates();
    store->EnableAllSinks();  // a config load re-enables sinks a 410 disabled
  } catch (const store::StoreError& e) {
    log.error("{}", e.what());
    return 1;
  }
  Daemon daemon(std::move(initial), std::move(reload), log, std::move(store));
  return daemon.Run(states);
}

}  // namespace newsmon::app
