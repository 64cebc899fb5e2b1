#include "daemon/app/run.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "daemon/config/units.h"
#include "daemon/core/version.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "daemon/pipeline/poll_loop.h"

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

}  // namespace

int RunDaemon(const config::Config& config, std::shared_ptr<const rules::RuleSet> rules,
              spdlog::logger& log) {
  if (!PrepareStateDir(config.state_dir, log)) return 1;

  boost::asio::io_context io(1);
  auto resolver = net::MakeResolver(io.get_executor());
  // Enough idle connections to reuse one per poll a host may have in flight.
  net::HttpClient client(
      io.get_executor(), *resolver,
      {.max_idle_per_key = static_cast<std::size_t>(std::max(4, config.polling.max_per_host))});
  core::SystemClock clock;
  pipeline::PollLoop loop(io.get_executor(), client, clock, std::move(rules), log,
                          {.limits = config.polling});
  // Installed before the start-up line, so a signal sent after it is always handled.
  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log.info("received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    loop.Stop();
    io.stop();
  });

  for (const auto& source : config.sources) {
    log.debug("source {}: {} every {}{}", source.name, source.url,
              config::FormatDuration(source.interval), source.enabled ? "" : " (disabled)");
    loop.Add(source);
  }
  loop.Start();
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
