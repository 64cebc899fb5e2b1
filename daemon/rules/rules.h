// Rules compiled for matching: every rule's triggers (keywords and patterns) go into one
// RE2::Set per field (fields read by the same rules share it; patterns that anchor at the
// start of the text get a second one), so one pass over a field finds every candidate rule
// whatever the rule count; candidates are then confirmed exactly (word boundaries, `all`,
// `none`, sources) and located. A keyword or pattern shared by several rules is compiled
// and searched once.
//
// A RuleSet is immutable once built: the daemon builds a new one off to the side on reload
// and swaps the shared_ptr, so matching never sees a half-loaded state. Match is safe to
// call from any number of threads at once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/diagnostic.h"
#include "daemon/core/feed.h"
#include "daemon/core/rule.h"

namespace newsmon::rules {

struct BuildOptions {
  // RE2 memory budget of each field's Set, in bytes (program plus DFA cache). 0 = sized
  // for the rule count: 8 MiB plus 64 KiB per rule in the Set. A Set whose DFA still runs
  // out of memory on some text falls back to checking every rule of that field one by one.
  std::int64_t set_max_mem = 0;
  // false: no Sets; every rule is checked one by one on every text. Slow; it is the path a
  // DFA failure takes, kept selectable so tests can compare the two.
  bool use_sets = true;
  // Tests only: every Set match reports that its DFA ran out of memory, so the fallback and
  // its count can be tested. (RE2 2022-06 checks at compile time that a Set's DFA budget
  // holds many states of the largest size, and a many-match DFA that fills its cache resets
  // it rather than failing, so a real failure needs a pathological budget.)
  bool simulate_dfa_failure = false;
};

// The text of each field of one item, indexed by core::Field. Empty = absent.
using FieldTexts = std::array<std::string_view, core::kFieldCount>;

// A rule example that did not do what it says.
struct ExampleFailure {
  std::string rule;
  std::string file;
  int line = 0;
  std::string text;
  bool expected_match = false;       // true: should match but does not; false: the reverse
  std::vector<core::Match> matches;  // what the rule matched (when it should not have)
};

class RuleSet {
 public:
  struct Compiled;  // RE2 objects; defined in rule_set.cpp

  explicit RuleSet(std::unique_ptr<Compiled> compiled);
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Every rule that fires on `item` from source `source`, in rule order (files in the order
  // given, rules in file order), one Match per rule.
  std::vector<core::Match> Match(const core::Item& item, std::string_view source) const;
  // The same for the given field texts.
  std::vector<core::Match> Match(const FieldTexts& texts, std::string_view source) const;

  // Runs every rule's own examples: each example is the text of every field the rule reads,
  // from a source the rule applies to. Empty when all hold.
  std::vector<ExampleFailure> CheckExamples() const;

  const std::vector<core::RuleSpec>& specs() const;
  const core::RuleSpec* Find(std::string_view name) const;

  // How many times a Set's DFA ran out of memory and the field was matched rule by rule
  // instead (results stay exact; only slower). Exported as a metric.
  std::uint64_t dfa_fallbacks() const { return dfa_fallbacks_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<Compiled> compiled_;
  mutable std::atomic<std::uint64_t> dfa_fallbacks_{0};
};

struct BuildResult {
  std::shared_ptr<const RuleSet> rules;       // null when there are errors
  std::vector<core::Diagnostic> diagnostics;  // every problem, each naming file:line and rule
  bool ok() const { return rules != nullptr; }
};

// Compiles `specs` (as read and checked by config::LoadRuleFiles). Reports every bad
// regex, bad phrase and program too large for RE2's memory budget at once.
BuildResult Build(std::vector<core::RuleSpec> specs, const BuildOptions& options = {});

// The text a rule sees for each field of `item`; `scratch` holds the joined categories.
FieldTexts TextsOf(const core::Item& item, std::string& scratch);

}  // namespace newsmon::rules
