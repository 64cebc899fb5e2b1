#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/diagnostic.h"
#include "daemon/core/rule.h"
#include "tests/support/temp_dir.h"

namespace newsmon::config {
namespace {

using core::Field;
using std::filesystem::path;
using Strings = std::vector<std::string>;
using test::TempDir;

Strings Formatted(const std::vector<core::Diagnostic>& diagnostics, core::Severity severity) {
  Strings out;
  for (const auto& d : diagnostics) {
    if (d.severity == severity) out.push_back(core::Format(d));
  }
  return out;
}
Strings Errors(const RuleFilesResult& r) {
  return Formatted(r.diagnostics, core::Severity::kError);
}
Strings Warnings(const RuleFilesResult& r) {
  return Formatted(r.diagnostics, core::Severity::kWarning);
}

// "text@line" for each entry, so a list with its lines compares in one line.
Strings Shown(const std::vector<core::RuleEntry>& entries) {
  Strings out;
  for (const auto& e : entries) out.push_back(e.text + "@" + std::to_string(e.line));
  return out;
}

Strings Names(const std::vector<core::RuleSpec>& rules) {
  Strings out;
  for (const auto& r : rules) out.push_back(r.name);
  return out;
}

RuleFilesResult Load(const std::vector<path>& files) { return LoadRuleFiles(files); }

// Writes `yaml` as rules.yaml in `dir` and reads it.
RuleFilesResult LoadOne(const TempDir& dir, const std::string& yaml, path* file = nullptr) {
  path written = dir.Write("rules.yaml", yaml);
  if (file) *file = written;
  return Load({written});
}

// --- What is read -----------------------------------------------------------------------

TEST(RuleFilesTest, EveryKeyIsRead) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: silk-road
    description: China's Belt and Road in Central Asia
    keywords:
      - Belt and Road
      - Казахстан*
    patterns: 'silk\s+road'
    all: [gas, "re:\\d{4}"]
    none:
      - oil
    case_sensitive: true
    fields: [summary, title, categories]
    sources: [tengri, kaztag, tengri]
    severity: critical
    labels:
      team: asia
      region: kz
    notify: [ops, log]
    tests:
      match:
        - Belt and Road in 2024 with gas
      no_match: nothing here
)",
                              &file);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.rules.size(), 1u);
  const core::RuleSpec& rule = r.rules[0];
  EXPECT_EQ(rule.name, "silk-road");
  EXPECT_EQ(rule.description, "China's Belt and Road in Central Asia");
  EXPECT_EQ(Shown(rule.keywords), (Strings{"Belt and Road@5", "Казахстан*@6"}));
  EXPECT_EQ(Shown(rule.patterns), Strings{"silk\\s+road@7"});
  EXPECT_EQ(Shown(rule.all), (Strings{"gas@8", "re:\\d{4}@8"}));
  EXPECT_EQ(Shown(rule.none), Strings{"oil@10"});
  EXPECT_TRUE(rule.case_sensitive);
  EXPECT_EQ(rule.fields, (std::vector<Field>{Field::kSummary, Field::kTitle, Field::kCategories}));
  EXPECT_EQ(rule.sources, (Strings{"tengri", "kaztag"}));
  EXPECT_EQ(rule.severity, core::RuleSeverity::kCritical);
  EXPECT_EQ(rule.labels,
            (std::vector<std::pair<std::string, std::string>>{{"team", "asia"}, {"region", "kz"}}));
  EXPECT_EQ(rule.notify, (Strings{"ops", "log"}));
  EXPECT_EQ(Shown(rule.examples_match), Strings{"Belt and Road in 2024 with gas@21"});
  EXPECT_EQ(Shown(rule.examples_no_match), Strings{"nothing here@22"});
  EXPECT_EQ(rule.file, file.string());
  EXPECT_EQ(rule.line, 2);
}

TEST(RuleFilesTest, LeftOutKeysGetTheirDefaults) {
  TempDir dir;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: minimal
    keywords: Astana
  - patterns:
      - 'road\s+\d+'
    name: patterns-only
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.rules.size(), 2u);
  const core::RuleSpec& a = r.rules[0];
  EXPECT_EQ(a.name, "minimal");
  EXPECT_EQ(a.description, "");
  EXPECT_EQ(Shown(a.keywords), Strings{"Astana@3"});
  EXPECT_TRUE(a.patterns.empty());
  EXPECT_TRUE(a.all.empty());
  EXPECT_TRUE(a.none.empty());
  EXPECT_FALSE(a.case_sensitive);
  EXPECT_EQ(a.fields, (std::vector<Field>{Field::kTitle, Field::kSummary}));
  EXPECT_TRUE(a.sources.empty());
  EXPECT_EQ(a.severity, core::RuleSeverity::kWarning);
  EXPECT_TRUE(a.labels.empty());
  EXPECT_TRUE(a.notify.empty());
  EXPECT_TRUE(a.examples_match.empty());
  EXPECT_TRUE(a.examples_no_match.empty());
  EXPECT_EQ(a.line, 2);

  const core::RuleSpec& b = r.rules[1];
  EXPECT_EQ(b.name, "patterns-only");
  EXPECT_TRUE(b.keywords.empty());
  EXPECT_EQ(Shown(b.patterns), Strings{"road\\s+\\d+@5"});
  EXPECT_EQ(b.line, 6);  // the line of its name, not of the rule's first key
}

TEST(RuleFilesTest, SingleFieldAndScalarListsAndSeverities) {
  TempDir dir;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    fields: link
    sources: tengri
    notify: ops
    severity: info
    case_sensitive: false
  - name: b
    keywords: y
    fields: [author]
    severity: warning
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.rules.size(), 2u);
  EXPECT_EQ(r.rules[0].fields, std::vector<Field>{Field::kLink});
  EXPECT_EQ(r.rules[0].sources, Strings{"tengri"});
  EXPECT_EQ(r.rules[0].notify, Strings{"ops"});
  EXPECT_EQ(r.rules[0].severity, core::RuleSeverity::kInfo);
  EXPECT_FALSE(r.rules[0].case_sensitive);
  EXPECT_EQ(r.rules[1].fields, std::vector<Field>{Field::kAuthor});
  EXPECT_EQ(r.rules[1].severity, core::RuleSeverity::kWarning);
}

TEST(RuleFilesTest, RulesComeInFileOrderThenRuleOrder) {
  TempDir dir;
  path b =
      dir.Write("b.yaml", "rules:\n  - name: b1\n    keywords: x\n  - name: b2\n    keywords: y\n");
  path a = dir.Write("a.yaml", "rules:\n  - name: a1\n    keywords: z\n");
  RuleFilesResult r = Load({b, a});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Names(r.rules), (Strings{"b1", "b2", "a1"}));
  EXPECT_EQ(r.rules[0].file, b.string());
  EXPECT_EQ(r.rules[1].line, 4);
  EXPECT_EQ(r.rules[2].file, a.string());
  EXPECT_EQ(r.rules[2].line, 2);
}

TEST(RuleFilesTest, VariablesAreNotExpanded) {
  TempDir dir;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: literal
    description: costs $$5 or ${PRICE:-1}
    keywords: ${HOME}
    patterns: ['end$', '${X}', '^\$\d+$']
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.rules.size(), 1u);
  EXPECT_EQ(r.rules[0].description, "costs $$5 or ${PRICE:-1}");
  EXPECT_EQ(Shown(r.rules[0].keywords), Strings{"${HOME}@4"});
  EXPECT_EQ(Shown(r.rules[0].patterns), (Strings{"end$@5", "${X}@5", "^\\$\\d+$@5"}));
}

// --- Errors in a rule -------------------------------------------------------------------

TEST(RuleFilesTest, UnknownKeysSuggestTheClosest) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: typo
    keywords: x
    severty: critical
    tests:
      matches: x
  - name: far
    keywords: x
    colour: red
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  EXPECT_EQ(Errors(r),
            (Strings{f + ":4:5: error: rules[0].severty: unknown key 'severty' (did you mean "
                         "'severity'?)",
                     f + ":6:7: error: rule 'typo': tests.matches: unknown key 'matches' (did you "
                         "mean 'match'?)",
                     f + ":9:5: error: rules[1].colour: unknown key 'colour' (expected one of: "
                         "name description keywords patterns all none case_sensitive fields "
                         "sources severity labels notify tests)"}));
}

TEST(RuleFilesTest, UnknownTopLevelKey) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, "rule:\n  - name: x\n    keywords: y\n", &file);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{file.string() +
                               ":1:1: error: rule: unknown key 'rule' (did you mean 'rules'?)"});
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, UnknownFieldNames) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    fields: [title, titel]
  - name: b
    keywords: x
    fields: headline
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  EXPECT_EQ(Errors(r),
            (Strings{f + ":4:21: error: rule 'a': fields[1]: unknown value 'titel' (did you mean "
                         "'title'?)",
                     f + ":7:13: error: rule 'b': fields: unknown value 'headline' (expected one "
                         "of: title summary link author categories)"}));
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, FieldListedTwice) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    fields:
      - title
      - summary
      - title
)",
                              &file);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            Strings{file.string() + ":7:9: error: rule 'a': fields[2]: field listed twice"});
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, EmptyFieldsList) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, "rules:\n  - name: a\n    keywords: x\n    fields: []\n", &file);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            Strings{file.string() + ":4:13: error: rule 'a': fields: an empty list reads nothing; "
                                    "leave `fields` out for title and summary"});
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, BadSeverity) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    severity: urgent
  - name: b
    keywords: x
    severity: critcal
  - name: c
    keywords: x
    severity: [info]
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  EXPECT_EQ(Errors(r),
            (Strings{f + ":4:15: error: rule 'a': severity: unknown value 'urgent' (expected one "
                         "of: info warning critical)",
                     f + ":7:15: error: rule 'b': severity: unknown value 'critcal' (did you mean "
                         "'critical'?)",
                     f + ":10:15: error: rule 'c': severity: expected a string, got a list"}));
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, InvalidOrMissingRuleName) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: -starts-with-dash
    keywords: x
  - name: has space
    keywords: x
  - keywords: x
  - name: ok
    keywords: x
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  const std::string kRule =
      "' is not a valid rule name (a letter or digit, then letters, digits, '_', '.', '-'; at "
      "most 64 characters)";
  EXPECT_EQ(Errors(r), (Strings{f + ":2:11: error: rules[0].name: '-starts-with-dash" + kRule,
                                f + ":4:11: error: rules[1].name: 'has space" + kRule,
                                f + ":6:5: error: rules[2]: a rule needs a name"}));
  EXPECT_EQ(Names(r.rules), Strings{"ok"});
}

TEST(RuleFilesTest, RuleNameLongerThan64CharactersIsInvalid) {
  TempDir dir;
  const std::string long_name(65, 'a');
  RuleFilesResult r =
      LoadOne(dir, "rules:\n  - name: " + std::string(64, 'b') +
                       "\n    keywords: x\n  - name: " + long_name + "\n    keywords: x\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(Errors(r).size(), 1u);
  EXPECT_NE(Errors(r)[0].find(":4:11: error: rules[1].name: '" + long_name + "' is not a valid"),
            std::string::npos)
      << Errors(r)[0];
  EXPECT_EQ(Names(r.rules), Strings{std::string(64, 'b')});
}

TEST(RuleFilesTest, DuplicateRuleNameAcrossFilesNamesTheFirstDefinition) {
  TempDir dir;
  path a = dir.Write("a.yaml", "rules:\n  - name: silk\n    keywords: x\n");
  path b = dir.Write("b.yaml",
                     "rules:\n  - name: other\n    keywords: y\n  - name: silk\n"
                     "    keywords: z\n");
  RuleFilesResult r = Load({a, b});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{b.string() +
                               ":4:11: error: rule 'silk': duplicate rule name; first defined at " +
                               a.string() + ":2"});
  EXPECT_EQ(Names(r.rules), (Strings{"silk", "other"}));
  EXPECT_EQ(Shown(r.rules[0].keywords), Strings{"x@3"});
}

TEST(RuleFilesTest, DuplicateRuleNameInOneFile) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(
      dir, "rules:\n  - name: twin\n    keywords: x\n  - name: twin\n    keywords: y\n", &file);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{file.string() +
                               ":4:11: error: rule 'twin': duplicate rule name; first defined at " +
                               file.string() + ":2"});
  EXPECT_EQ(Names(r.rules), Strings{"twin"});
}

TEST(RuleFilesTest, RuleWithoutKeywordsOrPatternsCanNeverFire) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: nothing
    description: only conditions
    all: gas
    none: oil
  - name: null-lists
    keywords:
    patterns: []
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  EXPECT_EQ(Errors(r),
            (Strings{f + ":2:5: error: rule 'nothing': has no keywords and no patterns, so it can "
                         "never fire",
                     f + ":6:5: error: rule 'null-lists': has no keywords and no patterns, so it "
                         "can never fire"}));
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, EmptyStringsAreErrors) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: ["", ok]
    patterns: ''
    all:
      - ""
    tests:
      match: ''
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  EXPECT_EQ(Errors(r), (Strings{f + ":3:16: error: rule 'a': keywords[0]: must not be empty",
                                f + ":4:15: error: rule 'a': patterns: must not be empty",
                                f + ":6:9: error: rule 'a': all[0]: must not be empty",
                                f + ":8:14: error: rule 'a': tests.match: must not be empty"}));
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, InvalidLabelNames) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    labels:
      team: asia
      1team: x
      bad-name: y
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  const std::string kWhy = "label names are letters, digits and '_', not starting with a digit";
  EXPECT_EQ(Errors(r), (Strings{f + ":6:14: error: rule 'a': labels.1team: " + kWhy,
                                f + ":7:17: error: rule 'a': labels.bad-name: " + kWhy}));
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, WrongShapesAreErrors) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: {Belt: Road}
    sources: {tengri: 1}
    labels: [team]
    case_sensitive: yes
    tests: [x]
    description: [x]
  - just a string
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  EXPECT_EQ(Errors(r),
            (Strings{
                f + ":8:18: error: rule 'a': description: expected a string, got a list",
                f + ":3:15: error: rule 'a': keywords: expected a list, got a map",
                f + ":6:21: error: rule 'a': case_sensitive: expected true or false, got 'yes'",
                f + ":4:14: error: rule 'a': sources: expected a list, got a map",
                f + ":5:13: error: rule 'a': labels: expected a map of names to values, got a list",
                f + ":7:12: error: rule 'a': tests: expected a map of keys, got a list",
                f + ":2:5: error: rule 'a': has no keywords and no patterns, so it can never fire",
                f + ":9:5: error: rules[1]: expected a map of keys, got a string",
            }));
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, RulesThatAreNotAListAreAnError) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, "rules: silk.yaml\n", &file);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            Strings{file.string() + ":1:8: error: rules: expected a list, got a string"});
  RuleFilesResult top = LoadOne(dir, "- name: a\n  keywords: x\n", &file);
  EXPECT_FALSE(top.ok());
  EXPECT_EQ(Errors(top),
            Strings{file.string() + ":1:1: error: expected a map of keys, got a list"});
}

TEST(RuleFilesTest, AKeyTwiceInOneRuleIsAnError) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    keywords: y
)",
                              &file);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(
      Errors(r),
      Strings{file.string() + ":4:5: error: rules[0].keywords: key appears twice in the same map"});
}

TEST(RuleFilesTest, EveryBadRuleIsReportedAndTheGoodOnesAreRead) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: good1
    keywords: x
  - name: bad
    keywords: x
    severity: loud
  - name: good2
    patterns: y
  - name: bad2
    keywords: x
    fields: [body]
)",
                              &file);
  EXPECT_FALSE(r.ok());
  const std::string f = file.string();
  EXPECT_EQ(Errors(r),
            (Strings{f + ":6:15: error: rule 'bad': severity: unknown value 'loud' (expected one "
                         "of: info warning critical)",
                     f + ":11:14: error: rule 'bad2': fields[0]: unknown value 'body' (expected "
                         "one of: title summary link author categories)"}));
  EXPECT_EQ(Names(r.rules), (Strings{"good1", "good2"}));
}

// --- Whole files ------------------------------------------------------------------------

TEST(RuleFilesTest, EmptyFileIsAWarning) {
  TempDir dir;
  for (const std::string text : {"", "\n", "# rules come later\n"}) {
    path file;
    RuleFilesResult r = LoadOne(dir, text, &file);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(Errors(r), Strings{});
    EXPECT_EQ(Warnings(r), Strings{file.string() + ": warning: rule file is empty"});
    EXPECT_TRUE(r.rules.empty());
  }
}

TEST(RuleFilesTest, EmptyRulesListIsAWarning) {
  TempDir dir;
  for (const std::string text : {"rules: []\n", "rules:\n"}) {
    path file;
    RuleFilesResult r = LoadOne(dir, text, &file);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(Errors(r), Strings{});
    EXPECT_EQ(Warnings(r), Strings{file.string() + ":1:1: warning: rules: no rules in this file"});
    EXPECT_TRUE(r.rules.empty());
  }
}

TEST(RuleFilesTest, InvalidYamlGivesItsLine) {
  TempDir dir;
  path file;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    severity: warning: loud
)",
                              &file);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{file.string() + ":4:22: error: invalid YAML: illegal map value"});
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, InvalidYamlInOneFileDoesNotStopTheNext) {
  TempDir dir;
  path bad = dir.Write("bad.yaml", "rules:\n  - name: [a\n");
  path good = dir.Write("good.yaml", "rules:\n  - name: b\n    keywords: x\n");
  RuleFilesResult r = Load({bad, good});
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].file, bad.string());
  EXPECT_EQ(r.diagnostics[0].line, 3);
  EXPECT_TRUE(r.diagnostics[0].message.starts_with("invalid YAML: ")) << r.diagnostics[0].message;
  EXPECT_EQ(Names(r.rules), Strings{"b"});
}

TEST(RuleFilesTest, MissingFileAndDirectoryCannotBeRead) {
  TempDir dir;
  path missing = dir.path() / "missing.yaml";
  path directory = dir.path() / "rules.d";
  std::filesystem::create_directories(directory);
  RuleFilesResult r = Load({missing, directory});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            (Strings{missing.string() + ": error: cannot read rule file: No such file or directory",
                     directory.string() + ": error: cannot read rule file: Is a directory"}));
  EXPECT_TRUE(r.rules.empty());
}

TEST(RuleFilesTest, NoFilesNoRules) {
  RuleFilesResult r = Load({});
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_TRUE(r.rules.empty());
}

// --- CheckRuleReferences ----------------------------------------------------------------

Config ConfigWith(const Strings& sources, const Strings& sinks) {
  Config config;
  for (const auto& name : sources) {
    core::Source source;
    source.name = name;
    config.sources.push_back(std::move(source));
  }
  for (const auto& name : sinks) {
    core::SinkSpec sink;
    sink.name = name;
    config.sinks.push_back(std::move(sink));
  }
  return config;
}

TEST(CheckRuleReferencesTest, UnknownSourcesAndSinksSuggestTheClosest) {
  Config config = ConfigWith({"tengri", "kaztag"}, {"log", "ops-telegram"});
  core::RuleSpec rule;
  rule.name = "silk";
  rule.file = "rules/silk.yaml";
  rule.line = 7;
  rule.sources = {"tengri", "tengr1", "bbc-world"};
  rule.notify = {"log", "ops-telegran", "pager"};
  core::RuleSpec fine;
  fine.name = "fine";
  fine.sources = {"kaztag"};
  fine.notify = {"ops-telegram"};
  std::vector<core::RuleSpec> rules = {fine, rule};
  std::vector<core::Diagnostic> out = {core::Diagnostic{.message = "earlier"}};
  CheckRuleReferences(config, rules, out);
  EXPECT_EQ(Formatted(out, core::Severity::kError),
            (Strings{"error: earlier",
                     "rules/silk.yaml:7: error: rule 'silk': unknown source 'tengr1' (did you mean "
                     "'tengri'?)",
                     "rules/silk.yaml:7: error: rule 'silk': unknown source 'bbc-world'",
                     "rules/silk.yaml:7: error: rule 'silk': unknown sink 'ops-telegran' (did you "
                     "mean 'ops-telegram'?)",
                     "rules/silk.yaml:7: error: rule 'silk': unknown sink 'pager'"}));
}

TEST(CheckRuleReferencesTest, RulesFromFilesWithKnownNamesAreFine) {
  TempDir dir;
  RuleFilesResult r = LoadOne(dir, R"(rules:
  - name: a
    keywords: x
    sources: [tengri]
    notify: [log]
  - name: b
    keywords: y
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  std::vector<core::Diagnostic> out;
  CheckRuleReferences(ConfigWith({"tengri"}, {"log"}), r.rules, out);
  EXPECT_TRUE(out.empty());
  CheckRuleReferences(ConfigWith({}, {"log"}), r.rules, out);
  EXPECT_EQ(Formatted(out, core::Severity::kError),
            Strings{(dir.path() / "rules.yaml").string() +
                    ":2: error: rule 'a': unknown source 'tengri'"});
}

// --- ExpandGlobs ------------------------------------------------------------------------

// Runs the test body in `dir` and goes back where it was.
class ExpandGlobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = std::filesystem::current_path();
    std::filesystem::current_path(dir_.path());
  }
  void TearDown() override { std::filesystem::current_path(previous_); }

  TempDir dir_;
  path previous_;
};

TEST_F(ExpandGlobsTest, RelativeGlobsStayRelativeSortedAndUnique) {
  dir_.Write("rules/zeta.yaml", "");
  dir_.Write("rules/alpha.yaml", "");
  dir_.Write("rules/notes.txt", "");
  dir_.Write("more/beta.yaml", "");
  std::vector<core::Diagnostic> out;
  std::vector<std::string> patterns = {"rules/zeta.yaml", "rules/*.yaml", "more/*.yaml"};
  EXPECT_EQ(ExpandGlobs(patterns, out),
            (std::vector<path>{"more/beta.yaml", "rules/alpha.yaml", "rules/zeta.yaml"}));
  EXPECT_TRUE(out.empty());
}

TEST_F(ExpandGlobsTest, AbsolutePatternsStayAbsolute) {
  path file = dir_.Write("rules/a.yaml", "");
  std::vector<core::Diagnostic> out;
  std::vector<std::string> patterns = {(dir_.path() / "rules" / "*.yaml").string()};
  EXPECT_EQ(ExpandGlobs(patterns, out), std::vector<path>{file});
  EXPECT_TRUE(out.empty());
}

TEST_F(ExpandGlobsTest, WildcardMatchingNothingIsAWarning) {
  dir_.Write("rules/a.yaml", "");
  std::vector<core::Diagnostic> out;
  std::vector<std::string> patterns = {"rules/*.yml", "nowhere/*.yaml", "rules/a.yaml"};
  EXPECT_EQ(ExpandGlobs(patterns, out), std::vector<path>{"rules/a.yaml"});
  EXPECT_EQ(Formatted(out, core::Severity::kWarning),
            (Strings{"warning: 'rules/*.yml' matches no file (looked for rules/*.yml)",
                     "warning: 'nowhere/*.yaml' matches no file (looked for nowhere/*.yaml)"}));
  EXPECT_EQ(Formatted(out, core::Severity::kError), Strings{});
}

TEST_F(ExpandGlobsTest, MissingPlainFileIsAnError) {
  std::vector<core::Diagnostic> out;
  std::vector<std::string> patterns = {"rules/missing.yaml"};
  EXPECT_TRUE(ExpandGlobs(patterns, out).empty());
  EXPECT_EQ(Formatted(out, core::Severity::kError),
            Strings{"error: file 'rules/missing.yaml' does not exist (looked for "
                    "rules/missing.yaml)"});
}

TEST_F(ExpandGlobsTest, ExpandedFilesLoadUnderTheNamesAsWritten) {
  dir_.Write("rules/a.yaml", "rules:\n  - name: a\n    keywords: x\n    fields: [titel]\n");
  std::vector<core::Diagnostic> out;
  std::vector<std::string> patterns = {"rules/*.yaml"};
  std::vector<path> files = ExpandGlobs(patterns, out);
  ASSERT_TRUE(out.empty());
  RuleFilesResult r = LoadRuleFiles(files);
  EXPECT_EQ(Errors(r), Strings{"rules/a.yaml:4:14: error: rule 'a': fields[0]: unknown value "
                               "'titel' (did you mean 'title'?)"});
}

}  // namespace
}  // namespace newsmon::config
