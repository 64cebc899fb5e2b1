#include "daemon/app/run.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <system_error>

#include "daemon/config/units.h"
#include "daemon/core/version.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "daemon/pipeline/delivery_loop.h"
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

}  // namespace

int RunDaemon(const config::Config& config, std::shared_ptr<const rules::RuleSet> rules,
              spdlog::logger& log) {
  if (!PrepareStateDir(config.state_dir, log)) return 1;
  std::unique_ptr<store::Store> opened;
  std::map<std::string, core::SourceState> states;
  try {
    opened = store::Store::Open(store::StoreFile(config.state_dir),
                                {.seen_retention = config.store.seen_retention,
                                 .history_limit = config.store.history_limit});
    states = opened->LoadSourceStates();
    opened->EnableAllSinks();  // a config load re-enables sinks a 410 disabled
  } catch (const store::StoreError& e) {
    log.error("{}", e.what());
    return 1;
  }
  pipeline::StoreWorker store(std::move(opened));

  boost::asio::io_context io(1);
  auto resolver = net::MakeResolver(io.get_executor());
  // Enough idle connections to reuse one per poll a host may have in flight.
  net::HttpClient client(
      io.get_executor(), *resolver,
      {.max_idle_per_key = static_cast<std::size_t>(std::max(4, config.polling.max_per_host))});
  core::SystemClock clock;
  std::vector<std::string> sink_names;
  for (const auto& sink : config.sinks) sink_names.push_back(sink.name);
  pipeline::PollLoop loop(io.get_executor(), client, clock, std::move(rules), log,
                          {.limits = config.polling, .store = &store, .sinks = sink_names});
  pipeline::DeliveryLoop delivery(io.get_executor(), client, store, clock, log, config.sinks);
  loop.OnPoll([&](const pipeline::PollEvent& event) {
    if (event.alerts_queued > 0) delivery.Wake(event.alert_sinks);
  });

  // Installed before the start-up line, so a signal sent after it is always handled. A stop
  // lets polls and deliveries in flight finish (and be recorded) for up to kDrainTimeout.
  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain(io);
  auto drain_deadline = std::chrono::steady_clock::time_point::max();
  std::function<void()> check_drained = [&] {
    if ((loop.Stopped() && delivery.Stopped()) ||
        std::chrono::steady_clock::now() >= drain_deadline) {
      io.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](const boost::system::error_code&) { check_drained(); });
  };
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log.info("received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    loop.Stop();
    delivery.Stop();
    drain_deadline = std::chrono::steady_clock::now() + kDrainTimeout;
    check_drained();
  });

  for (const auto& source : config.sources) {
    log.debug("source {}: {} every {}{}", source.name, source.url,
              config::FormatDuration(source.interval), source.enabled ? "" : " (disabled)");
    auto state = states.find(source.name);
    loop.Add(source, state == states.end() ? core::SourceState{} : state->second);
  }
  loop.Start();
  delivery.Start();
  log.info(
      "newsmon {} started: config {}, {} sources ({} enabled), {} rules in {} files, {} sinks, "
      "state in {}",
      core::kVersion, config.file.string(), config.sources.size(),
      config::EnabledSourceCount(config), config.rules.size(), config.rule_files.size(),
      config.sinks.size(), config.state_dir.string());
  io.run();
  log.info("stopped");
  return 0;
}

}  // namespace newsmon::app
