// Small text helpers of the config language, kept free of YAML so they can be tested alone.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/config/config.h"

namespace newsmon::config {

// Replaces "${VAR}" with the variable's value and "${VAR:-fallback}" with the value or,
// when VAR is unset or empty, the fallback; "$$" is a literal "$". On a missing variable
// without fallback or a malformed reference, returns nullopt and sets `error`.
std::optional<std::string> ExpandVariables(std::string_view text, const Environment& env,
                                           std::string& error);

// The candidate closest to `word` by edit distance (with transpositions), if it is close
// enough to be a likely misspelling; nullopt otherwise. For "did you mean" hints.
std::optional<std::string_view> ClosestName(std::string_view word,
                                            std::span<const std::string_view> candidates);

// Whether `word` is one of `names`.
bool IsOneOf(std::string_view word, std::span<const std::string_view> names);

// Names of sources and sinks become metric labels and file names: a letter or digit, then
// letters, digits, '_', '.', '-'; at most 64 characters.
bool IsValidName(std::string_view name);

}  // namespace newsmon::config
