// A rule as the user wrote it (read and checked by `config`, compiled by `rules`) and a
// Match: which rule fired on which field of an item, and where.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/enum_names.h"

namespace newsmon::core {

// The parts of an Item a rule can look at.
enum class Field { kTitle, kSummary, kLink, kAuthor, kCategories };
inline constexpr std::size_t kFieldCount = 5;

inline constexpr EnumName<Field> kFieldNames[] = {
    {Field::kTitle, "title"},   {Field::kSummary, "summary"},       {Field::kLink, "link"},
    {Field::kAuthor, "author"}, {Field::kCategories, "categories"},
};

enum class RuleSeverity { kInfo, kWarning, kCritical };

inline constexpr EnumName<RuleSeverity> kRuleSeverityNames[] = {
    {RuleSeverity::kInfo, "info"},
    {RuleSeverity::kWarning, "warning"},
    {RuleSeverity::kCritical, "critical"},
};

// One keyword, pattern, `all`/`none` entry or example, with the line it was written on.
struct RuleEntry {
  std::string text;
  int line = 0;  // 1-based line in RuleSpec::file; 0 when not from a file
};

struct RuleSpec {
  std::string name;         // unique across all rule files
  std::string description;  // free text for people; may be empty
  // Triggers: the rule fires when any of these matches one of `fields`...
  std::vector<RuleEntry> keywords;  // phrases (see rules/phrase.h for the syntax)
  std::vector<RuleEntry> patterns;  // raw RE2
  // ...and every `all` entry matches one of `fields`, and no `none` entry does. Each is a
  // phrase, or raw RE2 when written "re:<pattern>".
  std::vector<RuleEntry> all;
  std::vector<RuleEntry> none;
  bool case_sensitive = false;  // for patterns and "re:" entries; phrases never are
  std::vector<Field> fields = {Field::kTitle, Field::kSummary};  // in file order, no repeats
  std::vector<std::string> sources;  // source names it applies to; empty = every source
  RuleSeverity severity = RuleSeverity::kWarning;
  std::vector<std::pair<std::string, std::string>> labels;  // carried into alerts, file order
  std::vector<std::string> notify;                          // sink names; empty = every sink
  // The rule's own examples, checked by `newsmon rules check`.
  std::vector<RuleEntry> examples_match;
  std::vector<RuleEntry> examples_no_match;
  std::string file;  // where it was defined, as the user named it
  int line = 0;      // line of the rule's `name`
};

// A rule that fired on an item. The span is the leftmost trigger match in the first of the
// rule's fields (in kFieldNames order) that a trigger matched, in UTF-8 bytes [begin, end)
// of that field's text (for categories: the categories joined with ", ").
struct Match {
  std::string rule;
  Field field = Field::kTitle;
  std::size_t begin = 0;
  std::size_t end = 0;
};

}  // namespace newsmon::core
