// The value syntaxes users write in config files: durations and sizes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace newsmon::config {

// "90s", "5m", "1h", "1h30m", "250ms", "2d". A unit is required; nullopt on anything else,
// on overflow, and on an empty string.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// "512KiB", "10MiB", "1GiB", "100kB", "2MB", "123B" or a bare byte count "4096".
// nullopt on anything else and on overflow.
std::optional<std::uint64_t> ParseSize(std::string_view text);

// The two above, back to text: "5m", "1h30m", "10MiB", "1500B". Used in messages.
std::string FormatDuration(std::chrono::milliseconds duration);
std::string FormatSize(std::uint64_t bytes);

}  // namespace newsmon::config
