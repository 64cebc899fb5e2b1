// libFuzzer target: rules and texts from the same bytes. Lines up to the first empty line
// are rule entries ("k" keyword, "p" pattern, "a" all, "n" none, then the text; the first
// byte of the input also picks case sensitivity and fields); the lines after it are texts.
// Building must never crash; matching must give spans inside the text, one Match per rule
// in rule order, and exactly what the slow exact path gives: the Sets are a prefilter that
// may let through too much but must never drop a match.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/rules/rules.h"

namespace {

using newsmon::core::Field;
using newsmon::core::Match;
using newsmon::core::RuleSpec;

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

bool Same(const std::vector<Match>& a, const std::vector<Match>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].rule != b[i].rule || a[i].field != b[i].field || a[i].begin != b[i].begin ||
        a[i].end != b[i].end) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 4096) return 0;
  std::uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto lines = Lines(input);

  // Two rules: entries alternate between them, so Sets hold more than one rule.
  std::vector<RuleSpec> specs(2);
  specs[0].name = "a";
  specs[1].name = "b";
  specs[0].case_sensitive = (flags & 1) != 0;
  if (flags & 2) specs[1].fields = {Field::kTitle, Field::kLink};
  std::size_t i = 0;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    RuleSpec& spec = specs[i % 2];
    std::string text(lines[i].substr(1));
    switch (lines[i][0]) {
      case 'k':
        spec.keywords.push_back({text});
        break;
      case 'p':
        spec.patterns.push_back({text});
        break;
      case 'a':
        spec.all.push_back({text});
        break;
      case 'n':
        spec.none.push_back({text});
        break;
      default:
        break;
    }
  }
  std::erase_if(specs, [](const RuleSpec& s) { return s.keywords.empty() && s.patterns.empty(); });

  auto fast = newsmon::rules::Build(specs);
  auto exact = newsmon::rules::Build(specs, {.use_sets = false});
  if (fast.ok() != exact.ok()) std::abort();
  if (!fast.ok()) return 0;
  for (++i; i < lines.size(); ++i) {
    newsmon::rules::FieldTexts texts{};
    texts[static_cast<std::size_t>(Field::kTitle)] = lines[i];
    texts[static_cast<std::size_t>(Field::kLink)] = lines[i];
    auto matches = fast.rules->Match(texts, "");
    for (std::size_t m = 0; m < matches.size(); ++m) {
      if (matches[m].begin > matches[m].end || matches[m].end > lines[i].size()) std::abort();
      if (m > 0 && matches[m].rule <= matches[m - 1].rule) std::abort();
    }
    if (!Same(matches, exact.rules->Match(texts, ""))) std::abort();
  }
  return 0;
}
