#include "daemon/config/text.h"

#include <algorithm>
#include <vector>

namespace newsmon::config {
namespace {

bool IsVariableStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool IsVariableChar(char c) { return IsVariableStart(c) || (c >= '0' && c <= '9'); }

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so
// "intreval" is one edit from "interval".
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> ExpandVariables(std::string_view text, const Environment& env,
                                           std::string& error) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$' || i + 1 == text.size() || (text[i + 1] != '{' && text[i + 1] != '$')) {
      out += c;
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = "unterminated '${' (write '$$' for a literal '$')";
      return std::nullopt;
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::size_t sep = inner.find(":-");
    std::string_view name = inner.substr(0, sep);
    if (name.empty() || !IsVariableStart(name[0]) ||
        !std::all_of(name.begin(), name.end(), IsVariableChar)) {
      error =
          "invalid variable name '" + std::string(name) + "' in '${" + std::string(inner) + "}'";
      return std::nullopt;
    }
    std::optional<std::string> value = env ? env(std::string(name)) : std::nullopt;
    if (sep != std::string_view::npos) {
      if (!value || value->empty()) value = std::string(inner.substr(sep + 2));
    } else if (!value) {
      error = "environment variable " + std::string(name) + " is not set (write ${" +
              std::string(name) + ":-default} for a fallback)";
      return std::nullopt;
    }
    out += *value;
    i = close + 1;
  }
  return out;
}

std::optional<std::string_view> ClosestName(std::string_view word,
                                            std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 0;
  for (std::string_view candidate : candidates) {
    std::size_t distance = EditDistance(word, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // Allow about one edit per three letters, at most two: close enough to be a typo,
  // far enough that "url" is not offered for "kind".
  std::size_t limit = std::min<std::size_t>(2, std::max<std::size_t>(1, word.size() / 3));
  if (!best || best_distance > limit) return std::nullopt;
  return best;
}

bool IsOneOf(std::string_view word, std::span<const std::string_view> names) {
  return std::find(names.begin(), names.end(), word) != names.end();
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

}  // namespace newsmon::config
