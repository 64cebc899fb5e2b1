// `newsmon run`: the daemon's main loop.
#pragma once

#include <spdlog/logger.h>

#include "daemon/config/config.h"

namespace newsmon::app {

// Runs until SIGINT or SIGTERM, then returns the process exit code: 0 after a clean stop,
// 1 when the daemon cannot start (for example an unwritable state directory).
int RunDaemon(const config::Config& config, spdlog::logger& log);

}  // namespace newsmon::app
