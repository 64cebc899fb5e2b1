#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "daemon/rules/phrase.h"
#include "daemon/rules/rules.h"

namespace newsmon::rules {
namespace {

using Span = std::pair<std::size_t, std::size_t>;

constexpr std::string_view kRegexPrefix = "re:";
constexpr std::int64_t kBaseSetMemory = 8 << 20;
constexpr std::int64_t kSetMemoryPerRule = 64 << 10;

// One keyword, pattern or all/none entry, compiled. Find gives its leftmost match.
struct Term {
  std::unique_ptr<RE2> re;
  bool boundary_before = false;
  bool boundary_after = false;
  bool extend_end = false;

  std::optional<Span> Find(std::string_view text) const {
    re2::StringPiece found;
    std::size_t from = 0;
    while (from <= text.size() && re->Match(text, from, text.size(), RE2::UNANCHORED, &found, 1)) {
      std::size_t begin = static_cast<std::size_t>(found.data() - text.data());
      std::size_t end = begin + found.size();
      if (extend_end) end = WordEnd(text, end);
      bool ok = !(boundary_before && WordCharBefore(text, begin)) &&
                !(boundary_after && WordCharAt(text, end));
      if (ok) return Span{begin, end};
      // Try again from the next code point: a later start may sit on a boundary.
      from = begin + 1;
      while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
    }
    return std::nullopt;
  }
};

struct CompiledRule {
  std::vector<Term> triggers;  // keywords then patterns
  std::vector<Term> all;
  std::vector<Term> none;
  // Entries for the Sets: the keywords' loose forms as one alternation, then each pattern
  // alone (an alternation could break: "\\Qa|b" runs to the end of the regex).
  std::vector<std::string> prefilters;
};

struct FieldSet {
  std::vector<std::uint32_t> rules;    // the rules reading this field, in order
  std::unique_ptr<RE2::Set> set;       // null when BuildOptions::use_sets is false
  std::vector<std::uint32_t> rule_of;  // Set index -> rule index
};

std::string Describe(const core::RuleSpec& spec) { return "rule '" + spec.name + "'"; }

class Builder {
 public:
  explicit Builder(std::vector<core::Diagnostic>& out) : out_(out) {}

  CompiledRule Compile(const core::RuleSpec& spec) {
    CompiledRule rule;
    std::vector<std::string> loose_keywords;
    for (std::size_t i = 0; i < spec.keywords.size(); ++i) {
      std::string key = "keywords[" + std::to_string(i) + "]";
      if (auto term = Phrase(spec, spec.keywords[i], key, &loose_keywords)) {
        rule.triggers.push_back(std::move(*term));
      }
    }
    if (!loose_keywords.empty()) {
      std::string alternation;
      for (const auto& p : loose_keywords) {
        if (!alternation.empty()) alternation += '|';
        alternation += p;
      }
      rule.prefilters.push_back(std::move(alternation));
    }
    for (std::size_t i = 0; i < spec.patterns.size(); ++i) {
      std::string key = "patterns[" + std::to_string(i) + "]";
      if (auto term = Regex(spec, spec.patterns[i].text, spec.patterns[i], key)) {
        rule.triggers.push_back(std::move(*term));
        // A flag prefix, not a group around it, for the same reason.
        rule.prefilters.push_back((spec.case_sensitive ? "" : "(?i)") + spec.patterns[i].text);
      }
    }
    rule.all = Conditions(spec, spec.all, "all");
    rule.none = Conditions(spec, spec.none, "none");
    return rule;
  }

 private:
  std::optional<Term> Phrase(const core::RuleSpec& spec, const core::RuleEntry& entry,
                             const std::string& key, std::vector<std::string>* loose) {
    std::string error;
    auto phrase = CompilePhrase(entry.text, error);
    if (!phrase) {
      Error(spec, entry, key, "phrase '" + entry.text + "': " + error);
      return std::nullopt;
    }
    auto term = Regex(spec, phrase->core, entry, key);
    if (!term) return std::nullopt;
    term->boundary_before = phrase->boundary_before;
    term->boundary_after = phrase->boundary_after;
    term->extend_end = phrase->extend_end;
    if (loose) loose->push_back(std::move(phrase->prefilter));
    return term;
  }

  std::optional<Term> Regex(const core::RuleSpec& spec, const std::string& pattern,
                            const core::RuleEntry& entry, const std::string& key) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(spec.case_sensitive);
    Term term{.re = std::make_unique<RE2>(pattern, options)};
    if (term.re->ok() && RE2::FullMatch("", *term.re)) {
      Error(spec, entry, key,
            "'" + entry.text + "' matches the empty string, so it would match every item");
      return std::nullopt;
    }
    if (term.re->ok()) return term;
    if (term.re->error_code() == RE2::ErrorPatternTooLarge) {
      Error(spec, entry, key,
            "'" + entry.text + "' is too large for RE2's memory budget (" +
                std::to_string(options.max_mem() >> 20) +
                " MiB): split it or use keywords with '*'");
    } else {
      Error(spec, entry, key, "invalid regex '" + entry.text + "': " + term.re->error());
    }
    return std::nullopt;
  }

  std::vector<Term> Conditions(const core::RuleSpec& spec,
                               const std::vector<core::RuleEntry>& entries,
                               const std::string& what) {
    std::vector<Term> terms;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& entry = entries[i];
      std::string key = what + "[" + std::to_string(i) + "]";
      std::optional<Term> term;
      if (std::string_view(entry.text).starts_with(kRegexPrefix)) {
        term = Regex(spec, entry.text.substr(kRegexPrefix.size()), entry, key);
      } else {
        term = Phrase(spec, entry, key, nullptr);
      }
      if (term) terms.push_back(std::move(*term));
    }
    return terms;
  }

  void Error(const core::RuleSpec& spec, const core::RuleEntry& entry, const std::string& key,
             std::string message) {
    out_.push_back(core::Diagnostic{.file = spec.file,
                                    .line = entry.line > 0 ? entry.line : spec.line,
                                    .key = Describe(spec) + ": " + key,
                                    .message = std::move(message)});
  }

  std::vector<core::Diagnostic>& out_;
};

bool AppliesTo(const core::RuleSpec& spec, std::string_view source) {
  return spec.sources.empty() ||
         std::find(spec.sources.begin(), spec.sources.end(), source) != spec.sources.end();
}

}  // namespace

struct RuleSet::Compiled {
  std::vector<core::RuleSpec> specs;
  std::vector<CompiledRule> rules;  // parallel to specs
  std::array<FieldSet, core::kFieldCount> sets;
  bool simulate_dfa_failure = false;  // BuildOptions::simulate_dfa_failure
  std::unordered_map<std::string_view, std::size_t> by_name;
};

RuleSet::RuleSet(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}
RuleSet::~RuleSet() = default;

const std::vector<core::RuleSpec>& RuleSet::specs() const { return compiled_->specs; }

const core::RuleSpec* RuleSet::Find(std::string_view name) const {
  auto it = compiled_->by_name.find(name);
  return it == compiled_->by_name.end() ? nullptr : &compiled_->specs[it->second];
}

std::vector<core::Match> RuleSet::Match(const core::Item& item, std::string_view source) const {
  std::string scratch;
  return Match(TextsOf(item, scratch), source);
}

std::vector<core::Match> RuleSet::Match(const FieldTexts& texts, std::string_view source) const {
  // (rule, field) pairs whose prefilter fired; reused per thread to spare allocations.
  thread_local std::vector<std::pair<std::uint32_t, std::uint8_t>> candidates;
  thread_local std::vector<int> hits;
  candidates.clear();
  const Compiled& c = *compiled_;
  for (std::size_t f = 0; f < core::kFieldCount; ++f) {
    const FieldSet& field = c.sets[f];
    if (texts[f].empty() || field.rules.empty()) continue;
    auto all_rules_of_field = [&] {
      for (std::uint32_t rule : field.rules) {
        candidates.emplace_back(rule, static_cast<std::uint8_t>(f));
      }
    };
    if (field.set == nullptr) {
      all_rules_of_field();
      continue;
    }
    RE2::Set::ErrorInfo info{};
    bool failed = c.simulate_dfa_failure;
    if (!failed && field.set->Match(texts[f], &hits, &info)) {
      for (int index : hits) {
        candidates.emplace_back(field.rule_of[static_cast<std::size_t>(index)],
                                static_cast<std::uint8_t>(f));
      }
    } else if (failed || info.kind != RE2::Set::kNoError) {
      // The DFA ran out of memory: every rule reading this field is a candidate, confirmed
      // one by one below. Exact, only slower.
      dfa_fallbacks_.fetch_add(1, std::memory_order_relaxed);
      all_rules_of_field();
    }
  }
  std::vector<core::Match> matches;
  if (candidates.empty()) return matches;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  auto any_field_matches = [&](const core::RuleSpec& spec, const Term& term) {
    for (core::Field f : spec.fields) {
      std::string_view text = texts[static_cast<std::size_t>(f)];
      if (!text.empty() && term.Find(text)) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < candidates.size();) {
    std::uint32_t r = candidates[i].first;
    std::size_t group_end = i;
    while (group_end < candidates.size() && candidates[group_end].first == r) ++group_end;
    const core::RuleSpec& spec = c.specs[r];
    const CompiledRule& rule = c.rules[r];
    std::optional<core::Match> found;
    if (AppliesTo(spec, source)) {
      for (std::size_t k = i; k < group_end && !found; ++k) {
        std::string_view text = texts[candidates[k].second];
        std::optional<Span> leftmost;
        for (const Term& term : rule.triggers) {
          auto span = term.Find(text);
          if (span && (!leftmost || span->first < leftmost->first)) leftmost = span;
        }
        if (leftmost) {
          found = core::Match{.rule = spec.name,
                              .field = static_cast<core::Field>(candidates[k].second),
                              .begin = leftmost->first,
                              .end = leftmost->second};
        }
      }
    }
    if (found &&
        std::all_of(rule.all.begin(), rule.all.end(),
                    [&](const Term& t) { return any_field_matches(spec, t); }) &&
        std::none_of(rule.none.begin(), rule.none.end(),
                     [&](const Term& t) { return any_field_matches(spec, t); })) {
      matches.push_back(std::move(*found));
    }
    i = group_end;
  }
  return matches;
}

std::vector<ExampleFailure> RuleSet::CheckExamples() const {
  std::vector<ExampleFailure> failures;
  for (const auto& spec : compiled_->specs) {
    std::string_view source = spec.sources.empty() ? std::string_view() : spec.sources.front();
    auto check = [&](const core::RuleEntry& example, bool expected) {
      FieldTexts texts{};
      for (core::Field f : spec.fields) texts[static_cast<std::size_t>(f)] = example.text;
      std::vector<core::Match> own;
      for (auto& m : Match(texts, source)) {
        if (m.rule == spec.name) own.push_back(std::move(m));
      }
      if (own.empty() == expected) {
        failures.push_back({.rule = spec.name,
                            .file = spec.file,
                            .line = example.line > 0 ? example.line : spec.line,
                            .text = example.text,
                            .expected_match = expected,
                            .matches = std::move(own)});
      }
    };
    for (const auto& example : spec.examples_match) check(example, true);
    for (const auto& example : spec.examples_no_match) check(example, false);
  }
  return failures;
}

BuildResult Build(std::vector<core::RuleSpec> specs, const BuildOptions& options) {
  BuildResult result;
  auto compiled = std::make_unique<RuleSet::Compiled>();
  Builder builder(result.diagnostics);
  compiled->rules.reserve(specs.size());
  for (const auto& spec : specs) compiled->rules.push_back(builder.Compile(spec));

  for (std::size_t f = 0; f < core::kFieldCount; ++f) {
    std::vector<std::uint32_t> members;
    for (std::uint32_t r = 0; r < specs.size(); ++r) {
      const auto& fields = specs[r].fields;
      if (!compiled->rules[r].prefilters.empty() &&
          std::find(fields.begin(), fields.end(), static_cast<core::Field>(f)) != fields.end()) {
        members.push_back(r);
      }
    }
    if (members.empty()) continue;
    FieldSet& field = compiled->sets[f];
    field.rules = members;
    if (!options.use_sets) continue;
    RE2::Options set_options;
    set_options.set_log_errors(false);
    set_options.set_max_mem(options.set_max_mem > 0
                                ? options.set_max_mem
                                : kBaseSetMemory + kSetMemoryPerRule *
                                                       static_cast<std::int64_t>(members.size()));
    field.set = std::make_unique<RE2::Set>(set_options, RE2::UNANCHORED);
    for (std::uint32_t r : members) {
      for (const auto& prefilter : compiled->rules[r].prefilters) {
        std::string error;
        if (field.set->Add(prefilter, &error) < 0) {
          // Each part compiled alone above; only a bug gets here.
          result.diagnostics.push_back({.file = specs[r].file,
                                        .line = specs[r].line,
                                        .key = Describe(specs[r]),
                                        .message = "cannot combine its triggers: " + error});
          continue;
        }
        field.rule_of.push_back(r);
      }
    }
    if (!field.set->Compile()) {
      result.diagnostics.push_back(
          {.key = "rules",
           .message = "the " + std::to_string(members.size()) + " rules reading field '" +
                      std::string(core::NameOf<core::Field>(core::kFieldNames,
                                                            static_cast<core::Field>(f))) +
                      "' are too large together for RE2's memory budget (" +
                      std::to_string(set_options.max_mem() >> 10) +
                      " KiB): split long keyword lists or simplify patterns"});
    }
  }
  if (core::HasErrors(result.diagnostics)) return result;
  compiled->specs = std::move(specs);
  compiled->simulate_dfa_failure = options.simulate_dfa_failure;
  for (std::size_t r = 0; r < compiled->specs.size(); ++r) {
    compiled->by_name.emplace(compiled->specs[r].name, r);
  }
  result.rules = std::make_shared<const RuleSet>(std::move(compiled));
  return result;
}

FieldTexts TextsOf(const core::Item& item, std::string& scratch) {
  scratch.clear();
  for (const auto& category : item.categories) {
    if (!scratch.empty()) scratch += ", ";
    scratch += category;
  }
  FieldTexts texts{};
  texts[static_cast<std::size_t>(core::Field::kTitle)] = item.title;
  if (item.summary) texts[static_cast<std::size_t>(core::Field::kSummary)] = *item.summary;
  if (item.link) texts[static_cast<std::size_t>(core::Field::kLink)] = *item.link;
  if (item.author) texts[static_cast<std::size_t>(core::Field::kAuthor)] = *item.author;
  texts[static_cast<std::size_t>(core::Field::kCategories)] = scratch;
  return texts;
}

}  // namespace newsmon::rules
