// One table of names per enum that users write in config files, so parsing, printing and
// "did you mean" suggestions all read the same list.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace newsmon::core {

template <typename Enum>
struct EnumName {
  Enum value;
  std::string_view name;
};

template <typename Enum>
std::optional<Enum> ParseEnum(std::span<const EnumName<Enum>> table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

template <typename Enum>
std::string_view NameOf(std::span<const EnumName<Enum>> table, Enum value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

}  // namespace newsmon::core
