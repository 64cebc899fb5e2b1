// `newsmon rules test`, `newsmon rules check`, and the rules in `newsmon check` and
// `newsmon fetch`, as a user runs them.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using test::Contains;
using test::RunProcess;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;
const std::string kSourceDir = NEWSMON_SOURCE_DIR;

// A config with one source, "steppe", and the rules in `rules`.
std::string WriteConfig(const TempDir& dir, const std::string& rules) {
  return dir
      .Write("newsmon.yaml",
             "state_dir: state\nrules: " + rules +
                 "\nsources:\n  - name: steppe\n    url: https://example.org/feed.xml\n")
      .string();
}

constexpr char kRules[] =
    "rules:\n"
    "  - name: central-asia\n"  // line 2
    "    severity: critical\n"  // 3
    "    keywords: [\"Central Asia\", Казахстан*, Қазақстан*]\n"
    "    tests:\n"
    "      match: [\"Trade in Central Asia grows\"]\n"
    "      no_match: [\"Eurasian Central Asiatic\"]\n"
    "  - name: corridor\n"  // line 8
    "    keywords: [\"Middle Corridor\"]\n"
    "    none: [\"Middle East\"]\n"
    "    sources: [steppe]\n";

TEST(RulesCliTest, CheckPassesOnTheShippedPacks) {
  auto r = RunProcess({kBinary, "rules", "check", "--rules", kSourceDir + "/rules/*.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(
      std::regex_match(r.out, std::regex("OK: [0-9]+ rules in 3 files, [0-9]+ examples pass\n")))
      << r.out;
}

// The example rule README.md shows under "Rules" is valid and its examples hold.
TEST(RulesCliTest, ReadmeExampleRulePassesItsOwnExamples) {
  std::ifstream in(kSourceDir + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t section = readme.find("\n## Rules\n");
  ASSERT_NE(section, std::string::npos);
  std::size_t begin = readme.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  begin += 8;
  std::size_t end = readme.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  TempDir dir;
  auto rules = dir.Write("example.yaml", readme.substr(begin, end - begin)).string();
  auto r = RunProcess({kBinary, "rules", "check", "--rules", rules});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK: 1 rule in 1 file, 3 examples pass\n");
}

TEST(RulesCliTest, CheckCountsRulesFilesAndExamples) {
  TempDir dir;
  auto rules = dir.Write("a.yaml", kRules).string();
  auto r = RunProcess({kBinary, "rules", "check", "--rules", rules});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK: 2 rules in 1 file, 2 examples pass\n");
}

TEST(RulesCliTest, CheckPrintsEveryFailingExampleWithFileAndLine) {
  TempDir dir;
  auto rules = dir.Write("bad.yaml",
                         "rules:\n"
                         "  - name: asia\n"
                         "    keywords: [Asia]\n"
                         "    tests:\n"
                         "      match:\n"
                         "        - Eurasia rising\n"  // line 6: fails (word boundary)
                         "        - Asia rising\n"
                         "      no_match:\n"
                         "        - Asia, again\n")  // line 9: fails (it does match)
                   .string();
  auto r = RunProcess({kBinary, "rules", "check", "--rules", rules});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, rules +
                       ":6: error: rule 'asia': example should match but does not: "
                       "\"Eurasia rising\"\n" +
                       rules +
                       ":9: error: rule 'asia': example should not match but does: "
                       "\"Asia, again\", at title [0, 4) \"Asia\"\n"
                       "newsmon rules check: 2 of 3 examples failed\n");
}

TEST(RulesCliTest, CheckReportsEveryKindOfErrorAtOnce) {
  TempDir dir;
  auto first = dir.Write("1.yaml",
                         "rules:\n"
                         "  - name: dup\n"
                         "    keywords: [x]\n")
                   .string();
  auto second = dir.Write("2.yaml",
                          "rules:\n"
                          "  - name: dup\n"  // 2: duplicate
                          "    keywords: [y]\n"
                          "  - name: empty\n"  // 4: no keywords or patterns
                          "    description: nothing\n"
                          "  - name: fields\n"
                          "    keywords: [z]\n"
                          "    fields: [title, body]\n"  // 8: unknown field
                          "  - name: regex\n"
                          "    patterns:\n"
                          "      - 'ok'\n"
                          "      - 'broken('\n"  // 12: bad regex
                          "  - name: star\n"
                          "    keywords: ['a*b']\n")  // 14: '*' inside a word
                    .string();
  auto r = RunProcess({kBinary, "rules", "check", "--rules", dir.path().string() + "/*.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, second +
                                  ":2:11: error: rule 'dup': duplicate rule name; first "
                                  "defined at " +
                                  first + ":2\n"))
      << r.err;
  EXPECT_TRUE(Contains(
      r.err, second + ":4:5: error: rule 'empty': has no keywords and no patterns, so it can "
                      "never fire\n"))
      << r.err;
  EXPECT_TRUE(Contains(r.err, second + ":8:21: error: rule 'fields': fields[1]: unknown value "
                                       "'body'"))
      << r.err;
  // Regexes and phrases are compiled only once the files read cleanly.
  EXPECT_FALSE(Contains(r.err, "broken(")) << r.err;
  EXPECT_TRUE(Contains(r.err, "newsmon rules: 3 errors\n")) << r.err;

  // With the shape fixed, the regex and phrase errors show, all at once.
  dir.Write("1.yaml", "rules: []\n");
  dir.Write("2.yaml",
            "rules:\n"
            "  - name: regex\n"
            "    patterns:\n"
            "      - 'ok'\n"
            "      - 'broken('\n"  // 5
            "  - name: star\n"
            "    keywords: ['a*b']\n");  // 7
  r = RunProcess({kBinary, "rules", "check", "--rules", dir.path().string() + "/*.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, first + ":1:1: warning: rules: no rules in this file\n" + second +
                       ":5: error: rule 'regex': patterns[1]: invalid regex 'broken(': missing ): "
                       "broken(\n" +
                       second +
                       ":7: error: rule 'star': keywords[0]: phrase 'a*b': '*' may only end a word "
                       "(as in \"Казахстан*\")\n"
                       "newsmon rules: 2 errors\n");
}

TEST(RulesCliTest, TestPrintsTheRulesThatFire) {
  TempDir dir;
  auto rules = dir.Write("a.yaml", kRules).string();
  auto r = RunProcess(
      {kBinary, "rules", "test", "--rules", rules, "Trade in Central Asia", "Nothing here"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Trade in Central Asia\n"
            "  central-asia\n"
            "Nothing here\n"
            "  no rule matched\n");
}

TEST(RulesCliTest, TestExplainShowsFieldSpanAndText) {
  TempDir dir;
  auto rules = dir.Write("a.yaml", kRules).string();
  auto r = RunProcess(
      {kBinary, "rules", "test", "--explain", "--rules", rules, "Президент Казахстана в Астане"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Президент Казахстана в Астане\n"
            "  central-asia (critical, " +
                rules +
                ":2): title [19, 39) \"Казахстана\"\n"
                "    Президент Казахстана в Астане\n"
                "              ^^^^^^^^^^\n");
}

TEST(RulesCliTest, TestJsonGivesByteSpansPerLineOfStdin) {
  TempDir dir;
  auto rules = dir.Write("a.yaml", kRules).string();
  auto input = dir.Write("in.txt", "ҚАЗАҚСТАН мен Өзбекстан\r\nno match\n").string();
  auto r = RunProcess({kBinary, "rules", "test", "--json", "--rules", rules}, {},
                      std::chrono::seconds(30), input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"text\":\"ҚАЗАҚСТАН мен Өзбекстан\",\"matches\":[{\"rule\":\"central-asia\","
            "\"field\":\"title\",\"span\":[0,18]}]}\n"
            "{\"text\":\"no match\",\"matches\":[]}\n");
}

TEST(RulesCliTest, TestFieldAndSourceDecideWhichRulesApply) {
  TempDir dir;
  dir.Write("rules/a.yaml", kRules);
  auto config = dir.Write("newsmon.yaml",
                          "state_dir: state\n"
                          "rules: rules/*.yaml\n"
                          "sources:\n"
                          "  - name: steppe\n"
                          "    url: https://example.org/feed.xml\n"
                          "  - name: other\n"
                          "    url: https://example.org/other.xml\n")
                    .string();
  const std::string text = "The Middle Corridor opens";
  auto json = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {kBinary, "rules", "test", "--json", "--config", config};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(text);
    auto r = RunProcess(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const std::string fires =
      "{\"text\":\"The Middle Corridor opens\",\"matches\":[{\"rule\":"
      "\"corridor\",\"field\":\"summary\",\"span\":[4,19]}]}\n";
  const std::string silent = "{\"text\":\"The Middle Corridor opens\",\"matches\":[]}\n";
  EXPECT_EQ(json({"--source", "steppe", "--field", "summary"}), fires);
  EXPECT_EQ(json({"--source", "other", "--field", "summary"}), silent);
  EXPECT_EQ(json({"--field", "summary"}), silent);                     // no source given
  EXPECT_EQ(json({"--source", "steppe", "--field", "link"}), silent);  // not a field it reads
}

TEST(RulesCliTest, ConfigRulesNamingUnknownSourcesOrSinksAreErrors) {
  TempDir dir;
  dir.Write("rules/a.yaml",
            "rules:\n"
            "  - name: r\n"
            "    keywords: [x]\n"
            "    sources: [stepe]\n"
            "    notify: [slak]\n");
  auto config = dir.Write("newsmon.yaml",
                          "state_dir: state\n"
                          "rules: rules/a.yaml\n"
                          "sinks:\n"
                          "  - name: slack\n"
                          "    kind: slack\n"
                          "    url: https://hooks.slack.com/services/T/B/X\n"
                          "sources:\n"
                          "  - name: steppe\n"
                          "    url: https://example.org/feed.xml\n")
                    .string();
  auto rule_file = (dir.path() / "rules/a.yaml").string();
  for (std::string command : {"check", "rules"}) {
    std::vector<std::string> argv = {kBinary, command};
    if (command == "rules") argv.push_back("check");
    argv.insert(argv.end(), {"--config", config});
    auto r = RunProcess(argv);
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_TRUE(Contains(r.err, rule_file +
                                    ":2: error: rule 'r': unknown source 'stepe' (did you mean "
                                    "'steppe'?)\n" +
                                    rule_file +
                                    ":2: error: rule 'r': unknown sink 'slak' (did you mean "
                                    "'slack'?)\n"))
        << command << ": " << r.err;
  }
}

TEST(RulesCliTest, CheckCommandIncludesRegexErrorsAndWarnsOnFailingExamples) {
  TempDir dir;
  dir.Write("rules/a.yaml",
            "rules:\n"
            "  - name: r\n"
            "    patterns: ['(unclosed']\n");
  auto config = WriteConfig(dir, "rules/a.yaml");
  auto rule_file = (dir.path() / "rules/a.yaml").string();
  auto r = RunProcess({kBinary, "check", "--config", config});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, rule_file +
                       ":3: error: rule 'r': patterns[0]: invalid regex '(unclosed': missing ): "
                       "(unclosed\n" +
                       config + ": 1 error\n");

  dir.Write("rules/a.yaml",
            "rules:\n"
            "  - name: r\n"
            "    keywords: [Asia]\n"
            "    tests: {match: [Eurasia]}\n");
  r = RunProcess({kBinary, "check", "--config", config});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, rule_file +
                       ":4: warning: rule 'r': example should match but does not: \"Eurasia\" (run "
                       "'newsmon rules check')\n");
  EXPECT_EQ(r.out, config + ": OK (1 sources, 1 enabled; 1 rule files, 1 rules; 1 sinks)\n");
}

TEST(RulesCliTest, FetchJsonFillsMatchesWithTheConfigRules) {
  TempDir dir;
  dir.Write("rules/a.yaml", kRules);
  auto config = WriteConfig(dir, "rules/*.yaml");
  auto feed =
      dir.Write(
             "feed.xml",
             "<rss version=\"2.0\"><channel><title>T</title>\n"
             "<item><title>Казахстан и Middle Corridor</title><guid isPermaLink=\"false\">1</guid>"
             "<description>Not the Middle East</description></item>\n"
             "<item><title>Quiet day</title><guid isPermaLink=\"false\">2</guid>"
             "<description>in Central   Asia</description></item>\n"
             "</channel></rss>\n")
          .string();
  auto r = RunProcess({kBinary, "fetch", "--config", config, "steppe", "--input", feed, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The first item's corridor match is vetoed by `none` ("Middle East" in the summary).
  EXPECT_EQ(r.out,
            "{\"id\":\"1\",\"title\":\"Казахстан и Middle Corridor\",\"link\":null,"
            "\"published\":null,\"summary\":\"Not the Middle East\",\"author\":null,"
            "\"categories\":[],\"matches\":[{\"rule\":\"central-asia\",\"field\":\"title\","
            "\"span\":[0,18]}]}\n"
            "{\"id\":\"2\",\"title\":\"Quiet day\",\"link\":null,\"published\":null,"
            "\"summary\":\"in Central Asia\",\"author\":null,\"categories\":[],\"matches\":[{"
            "\"rule\":\"central-asia\",\"field\":\"summary\",\"span\":[3,15]}]}\n");

  r = RunProcess({kBinary, "fetch", "--config", config, "steppe", "--input", feed});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out,
                       "Казахстан и Middle Corridor\n"
                       "                      matches: central-asia\n"))
      << r.out;
}

TEST(RulesCliTest, UsesNewsmonConfigWhenNoRulesAreGiven) {
  TempDir dir;
  dir.Write("rules/a.yaml", kRules);
  auto config = WriteConfig(dir, "rules/*.yaml");
  auto r = RunProcess({kBinary, "rules", "check"}, {"NEWSMON_CONFIG=" + config});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK: 2 rules in 1 file, 2 examples pass\n");
}

TEST(RulesCliTest, RulesGlobMatchingNothingIsAnError) {
  TempDir dir;
  auto pattern = dir.path().string() + "/none/*.yaml";
  auto r = RunProcess({kBinary, "rules", "check", "--rules", pattern});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "warning: '" + pattern + "' matches no file (looked for " + pattern +
                       ")\nerror: --rules: no rule file matches\nnewsmon rules: 1 error\n");
}

}  // namespace
}  // namespace newsmon
