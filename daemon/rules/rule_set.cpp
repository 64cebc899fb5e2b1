#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "daemon/rules/phrase.h"
#include "daemon/rules/rules.h"

namespace newsmon::rules {
namespace {

using Span = std::pair<std::size_t, std::size_t>;

constexpr std::string_view kRegexPrefix = "re:";
constexpr std::int64_t kBaseSetMemory = 8 << 20;
constexpr std::int64_t kSetMemoryPerRule = 64 << 10;
constexpr std::size_t kYesNoFirstMaxBytes = 256;

// One keyword, pattern or all/none entry, compiled. Find gives its leftmost match.
struct Term {
  std::unique_ptr<RE2> re;
  std::uint32_t id = 0;  // index in RuleSet::Compiled::terms
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

// A keyword or pattern of a rule: what fires it.
struct Trigger {
  const Term* term;  // shared: rules that use the same keyword or pattern point at one
                     // Term, so a text is searched for it once however many rules carry it
  // Its entry for the Sets: a keyword's loose form, or the pattern. One entry per trigger,
  // not one alternation per rule: RE2::Set sorts its entries and factors their common
  // literal prefixes into a trie, which keeps the DFA's states small however many rules
  // there are. (A pattern could not share an alternation anyway: "\\Qa|b" runs to the end.)
  std::string prefilter;
  bool padded;  // the prefilter goes to the Set searched on padded text
};

struct CompiledRule {
  std::vector<Trigger> triggers;  // keywords then patterns
  std::vector<const Term*> all;
  std::vector<const Term*> none;
};

// One RE2::Set and what its entries stand for.
struct SetPart {
  std::unique_ptr<RE2::Set> set;
  bool padded = false;  // searched on the text with kPrefilterPadding in front
  // Set index -> every (rule, trigger) with that prefilter. Rules often share keywords;
  // each distinct prefilter is one entry, which keeps the DFA's states small.
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> entry_of;
};

struct FieldSet {
  std::vector<std::uint32_t> rules;  // the rules reading this field, in order
  // The Set searched on padded text (keywords, and patterns that do not anchor at the
  // start), then the one searched on the text itself (patterns that do).
  // Empty when BuildOptions::use_sets is false.
  std::vector<SetPart> parts;
};

// A rule that may fire on a field: its prefilter for one trigger (or, without a Set, for
// every trigger) matched there.
struct Candidate {
  std::uint32_t rule;
  std::uint8_t field;
  std::uint32_t trigger;  // kEveryTrigger: try them all
  auto operator<=>(const Candidate&) const = default;
};
constexpr std::uint32_t kEveryTrigger = 0xFFFFFFFF;

std::string Describe(const core::RuleSpec& spec) { return "rule '" + spec.name + "'"; }

// Whether `pattern` may use the start of the text ("^", "\\A"), so that it must not be
// searched on padded text. Errs on the side of yes ("\\Q^\\E"); "[^" is a class, not an
// anchor.
bool AnchorsAtStart(std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (i + 1 < pattern.size() && pattern[i + 1] == 'A') return true;
      ++i;
    } else if (pattern[i] == '^' && (i == 0 || pattern[i - 1] != '[')) {
      return true;
    }
  }
  return false;
}

class Builder {
 public:
  Builder(std::vector<std::unique_ptr<Term>>& terms, std::vector<core::Diagnostic>& out)
      : terms_(terms), out_(out) {}

  CompiledRule Compile(const core::RuleSpec& spec) {
    CompiledRule rule;
    for (std::size_t i = 0; i < spec.keywords.size(); ++i) {
      std::string key = "keywords[" + std::to_string(i) + "]";
      std::string prefilter;
      if (auto term = Phrase(spec, spec.keywords[i], key, &prefilter)) {
        rule.triggers.push_back({term, std::move(prefilter), /*padded=*/true});
      }
    }
    for (std::size_t i = 0; i < spec.patterns.size(); ++i) {
      std::string key = "patterns[" + std::to_string(i) + "]";
      if (auto term = Regex(spec, spec.patterns[i].text, spec.patterns[i], key)) {
        const std::string& pattern = spec.patterns[i].text;
        // A flag prefix, not a group around it: "(?i:\\Qa)" would never close.
        rule.triggers.push_back(
            {term, (spec.case_sensitive ? "" : "(?i)") + pattern, !AnchorsAtStart(pattern)});
      }
    }
    rule.all = Conditions(spec, spec.all, "all");
    rule.none = Conditions(spec, spec.none, "none");
    return rule;
  }

 private:
  // Null after reporting a bad phrase. `loose` (when given) gets its prefilter.
  const Term* Phrase(const core::RuleSpec& spec, const core::RuleEntry& entry,
                     const std::string& key, std::string* loose) {
    std::string error;
    auto phrase = CompilePhrase(entry.text, error);
    if (!phrase) {
      Error(spec, entry, key, "phrase '" + entry.text + "': " + error);
      return nullptr;
    }
    if (loose) *loose = std::move(phrase->prefilter);
    std::string id = "p" + entry.text;
    if (auto it = known_.find(id); it != known_.end()) return it->second;
    auto term = Compile(spec, phrase->core, /*case_sensitive=*/false, entry, key);
    if (!term) return nullptr;
    term->boundary_before = phrase->boundary_before;
    term->boundary_after = phrase->boundary_after;
    term->extend_end = phrase->extend_end;
    return Keep(std::move(id), std::move(term));
  }

  // Null after reporting a bad regex.
  const Term* Regex(const core::RuleSpec& spec, const std::string& pattern,
                    const core::RuleEntry& entry, const std::string& key) {
    std::string id = (spec.case_sensitive ? "R" : "r") + pattern;
    if (auto it = known_.find(id); it != known_.end()) return it->second;
    auto term = Compile(spec, pattern, spec.case_sensitive, entry, key);
    return term ? Keep(std::move(id), std::move(term)) : nullptr;
  }

  const Term* Keep(std::string id, std::unique_ptr<Term> term) {
    term->id = static_cast<std::uint32_t>(terms_.size());
    terms_.push_back(std::move(term));
    return known_[std::move(id)] = terms_.back().get();
  }

  std::unique_ptr<Term> Compile(const core::RuleSpec& spec, const std::string& pattern,
                                bool case_sensitive, const core::RuleEntry& entry,
                                const std::string& key) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(case_sensitive);
    auto term = std::make_unique<Term>();
    term->re = std::make_unique<RE2>(pattern, options);
    if (term->re->ok() && RE2::FullMatch("", *term->re)) {
      Error(spec, entry, key,
            "'" + entry.text + "' matches the empty string, so it would match every item");
      return nullptr;
    }
    if (term->re->ok()) return term;
    if (term->re->error_code() == RE2::ErrorPatternTooLarge) {
      Error(spec, entry, key,
            "'" + entry.text + "' is too large for RE2's memory budget (" +
                std::to_string(options.max_mem() >> 20) +
                " MiB): split it or use keywords with '*'");
    } else {
      Error(spec, entry, key, "invalid regex '" + entry.text + "': " + term->re->error());
    }
    return nullptr;
  }

  std::vector<const Term*> Conditions(const core::RuleSpec& spec,
                                      const std::vector<core::RuleEntry>& entries,
                                      const std::string& what) {
    std::vector<const Term*> terms;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& entry = entries[i];
      std::string key = what + "[" + std::to_string(i) + "]";
      const Term* term = std::string_view(entry.text).starts_with(kRegexPrefix)
                             ? Regex(spec, entry.text.substr(kRegexPrefix.size()), entry, key)
                             : Phrase(spec, entry, key, nullptr);
      if (term) terms.push_back(term);
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

  std::vector<std::unique_ptr<Term>>& terms_;
  std::unordered_map<std::string, const Term*> known_;  // kind + text -> the term
  std::vector<core::Diagnostic>& out_;
};

bool AppliesTo(const core::RuleSpec& spec, std::string_view source) {
  return spec.sources.empty() ||
         std::find(spec.sources.begin(), spec.sources.end(), source) != spec.sources.end();
}

// The texts of `item`; its categories are joined into `*categories`, or left out when that
// is null.
FieldTexts Texts(const core::Item& item, std::string* categories) {
  FieldTexts texts{};
  texts[static_cast<std::size_t>(core::Field::kTitle)] = item.title;
  if (item.summary) texts[static_cast<std::size_t>(core::Field::kSummary)] = *item.summary;
  if (item.link) texts[static_cast<std::size_t>(core::Field::kLink)] = *item.link;
  if (item.author) texts[static_cast<std::size_t>(core::Field::kAuthor)] = *item.author;
  if (categories) {
    categories->clear();
    for (const auto& category : item.categories) {
      if (!categories->empty()) *categories += ", ";
      *categories += category;
    }
    texts[static_cast<std::size_t>(core::Field::kCategories)] = *categories;
  }
  return texts;
}

}  // namespace

struct RuleSet::Compiled {
  std::vector<core::RuleSpec> specs;
  std::vector<std::unique_ptr<Term>> terms;  // every distinct keyword, pattern, all/none
  std::vector<CompiledRule> rules;           // parallel to specs
  // Fields read by the same rules share one FieldSet (by default title and summary do):
  // one DFA cache to fill and to pay for, not two.
  std::array<std::shared_ptr<const FieldSet>, core::kFieldCount> sets;
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
  // Categories are joined only when some rule reads them.
  std::string categories;
  bool read = compiled_->sets[static_cast<std::size_t>(core::Field::kCategories)] != nullptr;
  return Match(Texts(item, read ? &categories : nullptr), source);
}

std::vector<core::Match> RuleSet::Match(const FieldTexts& texts, std::string_view source) const {
  // Reused per thread to spare allocations.
  thread_local std::vector<Candidate> candidates;
  thread_local std::vector<int> hits;
  thread_local std::string padded;
  candidates.clear();
  const Compiled& c = *compiled_;
  for (std::size_t f = 0; f < core::kFieldCount; ++f) {
    if (texts[f].empty() || c.sets[f] == nullptr) continue;
    const FieldSet& field = *c.sets[f];
    auto field_id = static_cast<std::uint8_t>(f);
    auto all_rules_of_field = [&] {
      for (std::uint32_t rule : field.rules) candidates.push_back({rule, field_id, kEveryTrigger});
    };
    if (field.parts.empty()) {
      all_rules_of_field();
      continue;
    }
    for (const SetPart& part : field.parts) {
      std::string_view text = texts[f];
      if (part.padded) {
        padded.assign(1, kPrefilterPadding);
        padded.append(text);
        text = padded;
      }
      RE2::Set::ErrorInfo info{};
      bool failed = c.simulate_dfa_failure;
      // For a short text, first only whether anything matches: that stops at the first
      // match and allocates nothing, while asking which entries matched allocates two
      // arrays the size of the Set and scans to the end. Most titles match nothing; a long
      // summary often matches something, and two scans of it would cost more.
      if (!failed && text.size() <= kYesNoFirstMaxBytes && !part.set->Match(text, nullptr, &info)) {
        if (info.kind == RE2::Set::kNoError) continue;
        failed = true;
      }
      if (!failed && part.set->Match(text, &hits, &info)) {
        for (int index : hits) {
          for (auto [rule, trigger] : part.entry_of[static_cast<std::size_t>(index)]) {
            candidates.push_back({rule, field_id, trigger});
          }
        }
      } else if (failed || info.kind != RE2::Set::kNoError) {
        // The DFA ran out of memory: every rule reading this field is a candidate,
        // confirmed one by one below. Exact, only slower.
        dfa_fallbacks_.fetch_add(1, std::memory_order_relaxed);
        all_rules_of_field();
        break;
      }
    }
  }
  std::vector<core::Match> matches;
  if (candidates.empty()) return matches;
  std::sort(candidates.begin(), candidates.end());

  // Each (term, field) is searched once per call, however many rules share the term.
  thread_local std::vector<std::tuple<std::uint32_t, std::uint8_t, std::optional<Span>>> found;
  found.clear();
  auto find = [&](const Term& term, std::uint8_t f) {
    for (const auto& [id, field, span] : found) {
      if (id == term.id && field == f) return span;
    }
    auto span = term.Find(texts[f]);
    found.emplace_back(term.id, f, span);
    return span;
  };
  auto any_field_matches = [&](const core::RuleSpec& spec, const Term* term) {
    return std::any_of(spec.fields.begin(), spec.fields.end(), [&](core::Field f) {
      auto field = static_cast<std::uint8_t>(f);
      return !texts[field].empty() && find(*term, field);
    });
  };
  for (std::size_t i = 0; i < candidates.size();) {
    std::uint32_t r = candidates[i].rule;
    std::size_t group_end = i;
    while (group_end < candidates.size() && candidates[group_end].rule == r) ++group_end;
    const core::RuleSpec& spec = c.specs[r];
    const CompiledRule& rule = c.rules[r];
    std::optional<core::Match> fired;
    // Fields in order; in each, only the triggers whose prefilter fired there can match.
    for (std::size_t k = i; k < group_end && !fired && AppliesTo(spec, source);) {
      std::uint8_t f = candidates[k].field;
      std::optional<Span> leftmost;
      auto consider = [&](const Term* term) {
        auto span = find(*term, f);
        if (span && (!leftmost || span->first < leftmost->first)) leftmost = span;
      };
      for (; k < group_end && candidates[k].field == f; ++k) {
        if (candidates[k].trigger == kEveryTrigger) {
          for (const Trigger& trigger : rule.triggers) consider(trigger.term);
        } else {
          consider(rule.triggers[candidates[k].trigger].term);
        }
      }
      if (leftmost) {
        fired = core::Match{.rule = spec.name,
                            .field = static_cast<core::Field>(f),
                            .begin = leftmost->first,
                            .end = leftmost->second};
      }
    }
    if (fired &&
        std::all_of(rule.all.begin(), rule.all.end(),
                    [&](const Term* t) { return any_field_matches(spec, t); }) &&
        std::none_of(rule.none.begin(), rule.none.end(),
                     [&](const Term* t) { return any_field_matches(spec, t); })) {
      matches.push_back(std::move(*fired));
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
  Builder builder(compiled->terms, result.diagnostics);
  compiled->rules.reserve(specs.size());
  for (const auto& spec : specs) compiled->rules.push_back(builder.Compile(spec));

  // The rules reading each field.
  std::array<std::vector<std::uint32_t>, core::kFieldCount> members;
  for (std::uint32_t r = 0; r < specs.size(); ++r) {
    if (compiled->rules[r].triggers.empty()) continue;
    for (core::Field f : specs[r].fields) members[static_cast<std::size_t>(f)].push_back(r);
  }
  for (std::size_t f = 0; f < core::kFieldCount; ++f) {
    if (members[f].empty() || compiled->sets[f] != nullptr) continue;
    auto built = std::make_shared<FieldSet>();
    FieldSet& field = *built;
    field.rules = members[f];
    std::string field_names;  // for messages: "title, summary"
    for (std::size_t g = f; g < core::kFieldCount; ++g) {
      if (members[g] != members[f]) continue;
      compiled->sets[g] = built;
      if (!field_names.empty()) field_names += ", ";
      field_names += core::NameOf<core::Field>(core::kFieldNames, static_cast<core::Field>(g));
    }
    if (!options.use_sets) continue;
    for (bool padded : {true, false}) {
      SetPart part{.padded = padded};
      std::int64_t budget = options.set_max_mem;
      if (budget <= 0) {
        budget = kBaseSetMemory + kSetMemoryPerRule * static_cast<std::int64_t>(field.rules.size());
      }
      RE2::Options set_options;
      set_options.set_log_errors(false);
      set_options.set_max_mem(budget);
      part.set = std::make_unique<RE2::Set>(set_options, RE2::UNANCHORED);
      std::unordered_map<std::string_view, std::size_t> entry_index;  // prefilter -> index
      for (std::uint32_t r : field.rules) {
        const CompiledRule& rule = compiled->rules[r];
        for (std::uint32_t t = 0; t < rule.triggers.size(); ++t) {
          const Trigger& trigger = rule.triggers[t];
          if (trigger.padded != padded) continue;
          if (auto it = entry_index.find(trigger.prefilter); it != entry_index.end()) {
            part.entry_of[it->second].emplace_back(r, t);
            continue;
          }
          std::string error;
          if (part.set->Add(trigger.prefilter, &error) < 0) {
            // Each part compiled alone above; only a bug gets here.
            result.diagnostics.push_back({.file = specs[r].file,
                                          .line = specs[r].line,
                                          .key = Describe(specs[r]),
                                          .message = "cannot combine its triggers: " + error});
            continue;
          }
          entry_index.emplace(trigger.prefilter, part.entry_of.size());
          part.entry_of.push_back({{r, t}});
        }
      }
      if (part.entry_of.empty()) continue;
      if (!part.set->Compile()) {
        result.diagnostics.push_back(
            {.key = "rules",
             .message = "the " + std::to_string(field.rules.size()) + " rules reading " +
                        field_names + " are too large together for RE2's memory budget (" +
                        std::to_string(budget >> 10) +
                        " KiB): split long keyword lists or simplify patterns"});
        break;
      }
      field.parts.push_back(std::move(part));
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

FieldTexts TextsOf(const core::Item& item, std::string& scratch) { return Texts(item, &scratch); }

}  // namespace newsmon::rules
