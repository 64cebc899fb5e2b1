// The daemon's logger: human-readable text or JSON lines on stderr (systemd's journal and
// container runtimes collect stderr).
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "daemon/config/config.h"

namespace newsmon::app {

// A new logger writing to stderr. Not registered globally: pass it to what needs it.
std::shared_ptr<spdlog::logger> MakeLogger(const config::LogSettings& settings);

// A logger writing to `sink`, with the level and format of `settings`. For tests.
std::shared_ptr<spdlog::logger> MakeLogger(const config::LogSettings& settings,
                                           std::shared_ptr<spdlog::sinks::sink> sink);

spdlog::level::level_enum ToSpdlogLevel(config::LogLevel level);

}  // namespace newsmon::app
