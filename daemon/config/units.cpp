#include "daemon/config/units.h"

#include <array>
#include <charconv>
#include <limits>

namespace newsmon::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Longest suffixes first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 5> kDurationUnits = {{
    {"ms", 1},
    {"s", 1000},
    {"m", 60'000},
    {"h", 3'600'000},
    {"d", 86'400'000},
}};

constexpr std::array<Unit, 9> kSizeUnits = {{
    {"KiB", 1ULL << 10},
    {"MiB", 1ULL << 20},
    {"GiB", 1ULL << 30},
    {"kB", 1'000},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"B", 1},
    {"", 1},
}};

// Reads leading decimal digits from `text` into `value`; returns how many were read.
std::size_t ReadNumber(std::string_view text, std::uint64_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return 0;
  return static_cast<std::size_t>(end - text.data());
}

bool MultiplyAdd(std::uint64_t& total, std::uint64_t value, std::uint64_t factor) {
  if (value > (std::numeric_limits<std::uint64_t>::max() - total) / factor) return false;
  total += value * factor;
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::uint64_t value = 0;
    std::size_t digits = ReadNumber(text, value);
    if (digits == 0) return std::nullopt;
    text.remove_prefix(digits);
    const Unit* unit = nullptr;
    for (const Unit& candidate : kDurationUnits) {
      if (text.starts_with(candidate.suffix)) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr || !MultiplyAdd(total, value, unit->factor)) return std::nullopt;
    text.remove_prefix(unit->suffix.size());
  }
  if (total > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

std::optional<std::uint64_t> ParseSize(std::string_view text) {
  std::uint64_t value = 0;
  std::size_t digits = ReadNumber(text, value);
  if (digits == 0) return std::nullopt;
  std::string_view suffix = text.substr(digits);
  for (const Unit& unit : kSizeUnits) {
    if (suffix == unit.suffix) {
      std::uint64_t total = 0;
      if (!MultiplyAdd(total, value, unit.factor)) return std::nullopt;
      return total;
    }
  }
  return std::nullopt;
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  auto ms = static_cast<std::uint64_t>(duration.count());
  if (ms == 0) return "0s";
  std::string out;
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    if (ms >= it->factor) {
      out += std::to_string(ms / it->factor) + std::string(it->suffix);
      ms %= it->factor;
    }
  }
  return out;
}

std::string FormatSize(std::uint64_t bytes) {
  // kSizeUnits[2..0] are GiB, MiB, KiB: use the largest that divides exactly.
  for (int i = 2; i >= 0; --i) {
    const Unit& unit = kSizeUnits[static_cast<std::size_t>(i)];
    if (bytes != 0 && bytes % unit.factor == 0) {
      return std::to_string(bytes / unit.factor) + std::string(unit.suffix);
    }
  }
  return std::to_string(bytes) + "B";
}

}  // namespace newsmon::config
