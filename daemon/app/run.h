// `newsmon run`: the daemon's main loop.
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "daemon/config/config.h"
#include "daemon/rules/rules.h"

namespace newsmon::app {

// Polls every enabled source and logs each match until SIGINT or SIGTERM, then returns the
// process exit code: 0 after a clean stop, 1 when the daemon cannot start (for example an
// unwritable state directory).
int RunDaemon(const config::Config& config, std::shared_ptr<const rules::RuleSet> rules,
              spdlog::logger& log);

}  // namespace newsmon::app
