// `newsmon run`: the daemon's main loop.
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/diagnostic.h"
#include "daemon/rules/rules.h"

namespace newsmon::app {

// A config with its rules compiled, as `newsmon run` loads it at start and on SIGHUP.
struct Loaded {
  config::Config config;
  std::shared_ptr<const rules::RuleSet> rules;  // null when !ok
  std::vector<core::Diagnostic> diagnostics;    // errors and warnings, in reading order
  bool ok = false;
};
using Loader = std::function<Loaded()>;

// Polls every enabled source, records what it sees and delivers alerts until SIGINT or
// SIGTERM (then drains and returns 0); SIGHUP calls `reload` and applies the new config and
// rules, or keeps the running ones when it has errors. Returns 1 when the daemon cannot
// start (an unusable state directory or database).
int RunDaemon(Loaded initial, Loader reload, spdlog::logger& log);

}  // namespace newsmon::app
