#include "daemon/config/config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.h"

namespace newsmon::config {
namespace {

using namespace std::chrono_literals;
using std::filesystem::path;
using Strings = std::vector<std::string>;
using test::TempDir;

constexpr char kFile[] = "/etc/newsmon/newsmon.yaml";
constexpr char kNoRules[] =
    "/etc/newsmon/newsmon.yaml:1:1: warning: rules: no rule files configured: nothing will "
    "ever match";
constexpr char kNoSources[] =
    "/etc/newsmon/newsmon.yaml:1:1: warning: sources: no sources configured: nothing will be "
    "polled";

Environment FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadResult Load(const std::string& yaml, const Environment& env = FakeEnv({})) {
  return LoadConfigFromString(yaml, kFile, env);
}

Strings Formatted(const LoadResult& result, core::Severity severity) {
  Strings out;
  for (const auto& d : result.diagnostics) {
    if (d.severity == severity) out.push_back(core::Format(d));
  }
  return out;
}
Strings Errors(const LoadResult& result) { return Formatted(result, core::Severity::kError); }
Strings Warnings(const LoadResult& result) { return Formatted(result, core::Severity::kWarning); }

// Standard base64 of `bytes` zero bytes, for webhook secrets of a given length.
std::string ZeroBase64(std::size_t bytes) {
  std::string out(bytes / 3 * 4, 'A');
  if (bytes % 3 == 1) out += "AA==";
  if (bytes % 3 == 2) out += "AAA=";
  return out;
}

// --- Valid configs and defaults ---------------------------------------------------------

TEST(ConfigTest, MinimalConfigGetsEveryBuiltInDefault) {
  LoadResult r = Load(R"(sources:
  - name: bbc
    url: https://feeds.bbci.co.uk/news/rss.xml
)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Errors(r), Strings{});
  EXPECT_EQ(Warnings(r), Strings{kNoRules});
  const Config& c = r.config;
  EXPECT_EQ(c.file, path(kFile));
  EXPECT_EQ(c.state_dir, path("/var/lib/newsmon"));
  EXPECT_EQ(c.listen.host, "127.0.0.1");
  EXPECT_EQ(c.listen.port, 9787);
  EXPECT_EQ(c.log.level, LogLevel::kInfo);
  EXPECT_EQ(c.log.format, LogFormat::kText);
  EXPECT_TRUE(c.rule_files.empty());
  ASSERT_EQ(c.sinks.size(), 1u);
  EXPECT_EQ(c.sinks[0].name, "log");
  EXPECT_EQ(c.sinks[0].kind, core::SinkKind::kLog);
  EXPECT_EQ(c.sinks[0].origin, "built-in");
  ASSERT_EQ(c.sources.size(), 1u);
  const core::Source& s = c.sources[0];
  EXPECT_EQ(s.name, "bbc");
  EXPECT_EQ(s.url, "https://feeds.bbci.co.uk/news/rss.xml");
  EXPECT_EQ(s.kind, core::SourceKind::kAuto);
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.interval, 5min);
  EXPECT_EQ(s.timeout, 30s);
  EXPECT_EQ(s.max_body, 10u * 1024 * 1024);
  EXPECT_EQ(s.user_agent, "");
  EXPECT_TRUE(s.headers.empty());
  EXPECT_FALSE(s.html.has_value());
  EXPECT_EQ(s.origin, "/etc/newsmon/newsmon.yaml:2");
}

TEST(ConfigTest, NoSourcesIsOnlyAWarning) {
  LoadResult r = Load("rules: []\nsinks: []\n");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(Errors(r), Strings{});
  EXPECT_EQ(Warnings(r), Strings{"/etc/newsmon/newsmon.yaml:1:1: warning: sources: no sources "
                                 "configured: nothing will be polled"});
  ASSERT_EQ(r.config.sinks.size(), 1u);  // an empty list also means the built-in log sink
  EXPECT_EQ(r.config.sinks[0].name, "log");
}

TEST(ConfigTest, TopLevelSettingsAreRead) {
  LoadResult r = Load(R"(state_dir: /srv/newsmon
listen: 0.0.0.0:9000
log:
  level: debug
  format: json
rules: []
sources:
  - name: a
    url: http://a.example/feed
    kind: atom
    enabled: false
    user_agent: newsmon-test/1.0
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_EQ(r.config.state_dir, path("/srv/newsmon"));
  EXPECT_EQ(r.config.listen.host, "0.0.0.0");
  EXPECT_EQ(r.config.listen.port, 9000);
  EXPECT_EQ(r.config.log.level, LogLevel::kDebug);
  EXPECT_EQ(r.config.log.format, LogFormat::kJson);
  ASSERT_EQ(r.config.sources.size(), 1u);
  EXPECT_EQ(r.config.sources[0].kind, core::SourceKind::kAtom);
  EXPECT_FALSE(r.config.sources[0].enabled);
  EXPECT_EQ(r.config.sources[0].user_agent, "newsmon-test/1.0");
}

TEST(ConfigTest, DefaultsAreInheritedAndTheSourceWins) {
  LoadResult r = Load(R"(rules: []
defaults:
  kind: rss
  enabled: false
  interval: 10m
  timeout: 1m
  max_body: 2MiB
  user_agent: default-agent
sources:
  - name: inherits
    url: https://a.example/
  - name: overrides
    url: https://b.example/
    kind: json
    enabled: true
    interval: 2m
    timeout: 20s
    max_body: 512KiB
    user_agent: own-agent
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.config.sources.size(), 2u);
  const core::Source& a = r.config.sources[0];
  EXPECT_EQ(a.kind, core::SourceKind::kRss);
  EXPECT_FALSE(a.enabled);
  EXPECT_EQ(a.interval, 10min);
  EXPECT_EQ(a.timeout, 1min);
  EXPECT_EQ(a.max_body, 2u * 1024 * 1024);
  EXPECT_EQ(a.user_agent, "default-agent");
  const core::Source& b = r.config.sources[1];
  EXPECT_EQ(b.kind, core::SourceKind::kJson);
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.interval, 2min);
  EXPECT_EQ(b.timeout, 20s);
  EXPECT_EQ(b.max_body, 512u * 1024);
  EXPECT_EQ(b.user_agent, "own-agent");
}

TEST(ConfigTest, HeadersMergePerNameIgnoringCaseAndTheSourceWins) {
  LoadResult r = Load(R"(rules: []
defaults:
  headers:
    X-Token: from-defaults
    Accept-Language: en
sources:
  - name: a
    url: https://a.example/
    headers:
      x-token: from-source
      X-Extra: "1"
  - name: b
    url: https://b.example/
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 2u);
  const auto& a = r.config.sources[0].headers;
  ASSERT_EQ(a.size(), 3u);
  EXPECT_TRUE(a[0].first == "X-Token" || a[0].first == "x-token") << a[0].first;
  EXPECT_EQ(a[0].second, "from-source");
  EXPECT_EQ(a[1], (core::Header{"Accept-Language", "en"}));
  EXPECT_EQ(a[2], (core::Header{"X-Extra", "1"}));
  EXPECT_EQ(r.config.sources[1].headers,
            (std::vector<core::Header>{{"X-Token", "from-defaults"}, {"Accept-Language", "en"}}));
}

TEST(ConfigTest, HtmlDefaultsMergeFieldByFieldForHtmlSources) {
  LoadResult r = Load(R"(rules: []
defaults:
  html:
    timezone: Asia/Baku
    date_format: "%d %B %Y"
    link: "a@href"
sources:
  - name: page
    url: https://page.example/
    kind: html
    html:
      item: li.news
      title: h2
      link: "h2 a@href"
  - name: other
    url: https://other.example/
    kind: html
    html:
      item: article
      title: h1
      timezone: Europe/London
  - name: feed
    url: https://feed.example/rss
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 3u);
  ASSERT_TRUE(r.config.sources[0].html.has_value());
  const core::HtmlSelectors& page = *r.config.sources[0].html;
  EXPECT_EQ(page.item, "li.news");
  EXPECT_EQ(page.title, "h2");
  EXPECT_EQ(page.link, "h2 a@href");
  EXPECT_EQ(page.date, "");
  EXPECT_EQ(page.summary, "");
  EXPECT_EQ(page.date_format, "%d %B %Y");
  EXPECT_EQ(page.timezone, "Asia/Baku");
  ASSERT_TRUE(r.config.sources[1].html.has_value());
  EXPECT_EQ(r.config.sources[1].html->timezone, "Europe/London");
  EXPECT_EQ(r.config.sources[1].html->link, "a@href");
  EXPECT_FALSE(r.config.sources[2].html.has_value());  // html defaults only for html sources
}

// --- Paths, includes, globs -------------------------------------------------------------

TEST(ConfigTest, RelativeStateDirResolvesAgainstTheConfigDirectory) {
  LoadResult r = Load("rules: []\nstate_dir: ../var/newsmon\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.state_dir, path("/etc/var/newsmon"));
  EXPECT_EQ(Load("rules: []\nstate_dir: state\n").config.state_dir, path("/etc/newsmon/state"));
}

TEST(ConfigTest, RelativePathsResolveAgainstTheFileThatNamesThem) {
  TempDir dir;
  std::string secret = "whsec_" + ZeroBase64(32);
  dir.Write("conf/rules/b.yaml", "rules:\n  - name: b\n    keywords: [b]\n");
  dir.Write("conf/rules/a.yaml", "rules:\n  - name: a\n    keywords: [a]\n");
  dir.Write("conf/secrets/hook-url", "https://hooks.example/in\n");
  dir.Write("conf/secrets/hook-secret", secret + "\n");
  dir.Write("conf/sources.d/extra.yaml",
            "sources:\n  - name: extra\n    url: https://x.example/\n");
  path main = dir.Write("conf/newsmon.yaml", R"(state_dir: state
rules: rules/*.yaml
include: sources.d/*.yaml
sinks:
  - name: hook
    kind: webhook
    url_file: secrets/hook-url
    secret_file: secrets/hook-secret
sources:
  - name: main
    url: https://main.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  path conf = dir.path() / "conf";
  EXPECT_EQ(r.config.file, main);
  EXPECT_EQ(r.config.state_dir, conf / "state");
  EXPECT_EQ(r.config.rule_files, (std::vector<path>{conf / "rules/a.yaml", conf / "rules/b.yaml"}));
  ASSERT_EQ(r.config.sinks.size(), 1u);
  EXPECT_EQ(r.config.sinks[0].url, "https://hooks.example/in");
  EXPECT_EQ(r.config.sinks[0].secret, secret);
  ASSERT_EQ(r.config.sources.size(), 2u);
  EXPECT_EQ(r.config.sources[1].name, "extra");
  EXPECT_EQ(r.config.sources[1].origin, (conf / "sources.d/extra.yaml").string() + ":2");
}

TEST(ConfigTest, IncludedSourcesAreAppendedAndInheritDefaults) {
  TempDir dir;
  dir.Write("sources.d/b.yaml", "sources:\n  - name: b1\n    url: https://b.example/\n");
  dir.Write("sources.d/a.yaml",
            "# group a\nsources:\n  - name: a1\n    url: https://a.example/1\n"
            "  - name: a2\n    url: https://a.example/2\n    interval: 1h\n");
  dir.Write("sources.d/notes.txt", "not yaml: [\n");
  path main = dir.Write("newsmon.yaml", R"(rules: []
defaults:
  interval: 20m
include:
  - sources.d/*.yaml
sources:
  - name: first
    url: https://first.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.config.sources.size(), 4u);
  EXPECT_EQ(r.config.sources[0].name, "first");
  EXPECT_EQ(r.config.sources[1].name, "a1");
  EXPECT_EQ(r.config.sources[2].name, "a2");
  EXPECT_EQ(r.config.sources[3].name, "b1");
  EXPECT_EQ(r.config.sources[1].interval, 20min);
  EXPECT_EQ(r.config.sources[2].interval, 1h);
  EXPECT_EQ(r.config.sources[1].origin, (dir.path() / "sources.d/a.yaml").string() + ":3");
}

TEST(ConfigTest, IncludedFileMayHoldOnlySources) {
  TempDir dir;
  path extra = dir.Write("sources.d/extra.yaml", R"(sources:
  - name: x
    url: https://x.example/
defaults:
  interval: 1m
)");
  path main = dir.Write("newsmon.yaml", "rules: []\ninclude: sources.d/*.yaml\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{extra.string() +
                               ":4:1: error: defaults: unknown key 'defaults' (expected one of: "
                               "sources)"});
}

TEST(ConfigTest, InvalidYamlInAnIncludedFileNamesThatFile) {
  TempDir dir;
  path extra = dir.Write("sources.d/bad.yaml", "sources:\n  - name: x\n    url: a: b\n");
  path main = dir.Write("newsmon.yaml", "rules: []\ninclude: [sources.d/bad.yaml]\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{extra.string() + ":3:11: error: invalid YAML: illegal map value"});
}

// Found by the config fuzzer: a directory opens as a stream and then throws on read.
TEST(ConfigTest, IncludedDirectoryIsAnErrorNotACrash) {
  TempDir dir;
  dir.Write("sources.d/sub/a.yaml", "sources: []\n");
  path main = dir.Write("newsmon.yaml", "rules: []\ninclude: [sources.d/sub]\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{(dir.path() / "sources.d/sub").string() +
                               ": error: cannot read included file: Is a directory"});
}

TEST(ConfigTest, WildcardIncludeMatchingNothingIsAWarning) {
  TempDir dir;
  dir.Write("sources.d/README.md", "YAML files here are included\n");
  path main = dir.Write("newsmon.yaml", R"(rules: []
include:
  - sources.d/*.yaml
sources:
  - name: a
    url: https://a.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(Errors(r), Strings{});
  EXPECT_EQ(Warnings(r), Strings{main.string() +
                                 ":3:5: warning: include[0]: 'sources.d/*.yaml' matches no file "
                                 "(looked for " +
                                 (dir.path() / "sources.d/*.yaml").string() + ")"});
  EXPECT_EQ(r.config.sources.size(), 1u);
}

TEST(ConfigTest, WildcardIncludeInAMissingDirectoryIsAWarning) {
  TempDir dir;
  path main = dir.Write("newsmon.yaml", R"(rules: []
include:
  - sources.d/*.yaml
sources:
  - name: a
    url: https://a.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(Errors(r), Strings{});
  EXPECT_EQ(Warnings(r), Strings{main.string() +
                                 ":3:5: warning: include[0]: 'sources.d/*.yaml' matches no file "
                                 "(looked for " +
                                 (dir.path() / "sources.d/*.yaml").string() + ")"});
}

TEST(ConfigTest, MissingPlainIncludeIsAnError) {
  TempDir dir;
  path main = dir.Write("newsmon.yaml", R"(rules: []
include:
  - extra.yaml
sources:
  - name: a
    url: https://a.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{main.string() +
                               ":3:5: error: include[0]: file 'extra.yaml' does not exist (looked "
                               "for " +
                               (dir.path() / "extra.yaml").string() + ")"});
}

TEST(ConfigTest, RuleGlobsGiveSortedUniqueFiles) {
  TempDir dir;
  dir.Write("rules/zeta.yaml", "rules:\n  - name: zeta\n    keywords: [zeta]\n");
  dir.Write("rules/alpha.yaml", "rules:\n  - name: alpha\n    keywords: [alpha]\n");
  dir.Write("rules/mid.yaml", "rules:\n  - name: mid\n    keywords: [mid]\n");
  dir.Write("rules/readme.md", "");
  dir.Write("more/beta.yaml", "rules:\n  - name: beta\n    keywords: [beta]\n");
  path main = dir.Write("etc/newsmon.yaml", R"(rules:
  - ../rules/zeta.yaml
  - ../rules/*.yaml
  - ../more/*.yaml
  - ../rules/./alpha.yaml
sources:
  - name: a
    url: https://a.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  path d = dir.path();
  EXPECT_EQ(r.config.rule_files, (std::vector<path>{d / "more/beta.yaml", d / "rules/alpha.yaml",
                                                    d / "rules/mid.yaml", d / "rules/zeta.yaml"}));
  // The rules themselves are read too, file by file in that order.
  std::vector<std::string> names;
  for (const auto& rule : r.config.rules) names.push_back(rule.name);
  EXPECT_EQ(names, (std::vector<std::string>{"beta", "alpha", "mid", "zeta"}));
}

TEST(ConfigTest, MissingPlainRuleFileIsAnError) {
  LoadResult r = Load("rules: /nonexistent/newsmon/rules.yaml\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:1:8: error: rules: file "
                               "'/nonexistent/newsmon/rules.yaml' does not exist (looked for "
                               "/nonexistent/newsmon/rules.yaml)"});
}

// --- Durations, sizes and their limits --------------------------------------------------

TEST(ConfigTest, DurationsAndSizesAcceptUnits) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    interval: 90s
    timeout: 10s
    max_body: 512KiB
  - name: b
    url: https://b.example/
    interval: 5m
    max_body: 10MiB
  - name: c
    url: https://c.example/
    interval: 1h
    max_body: 1KiB
  - name: d
    url: https://d.example/
    interval: 1h30m
    timeout: 1s
    max_body: 1GiB
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 4u);
  EXPECT_EQ(r.config.sources[0].interval, 90s);
  EXPECT_EQ(r.config.sources[0].timeout, 10s);
  EXPECT_EQ(r.config.sources[0].max_body, 512u * 1024);
  EXPECT_EQ(r.config.sources[1].interval, 5min);
  EXPECT_EQ(r.config.sources[1].max_body, 10u * 1024 * 1024);
  EXPECT_EQ(r.config.sources[2].interval, 1h);
  EXPECT_EQ(r.config.sources[2].max_body, 1024u);
  EXPECT_EQ(r.config.sources[3].interval, 90min);
  EXPECT_EQ(r.config.sources[3].timeout, 1s);
  EXPECT_EQ(r.config.sources[3].max_body, 1024u * 1024 * 1024);
}

TEST(ConfigTest, BadDurationIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    interval: 5 minutes
  - name: b
    url: https://b.example/
    timeout: "30"
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:5:15: error: sources[0].interval: "
                                "invalid duration '5 minutes' (write a number and a unit: 90s, "
                                "5m, 1h, 1h30m)",
                                "/etc/newsmon/newsmon.yaml:8:14: error: sources[1].timeout: "
                                "invalid duration '30' (write a number and a unit: 90s, 5m, 1h, "
                                "1h30m)"}));
}

TEST(ConfigTest, BadSizeIsAnError) {
  LoadResult r = Load(R"(rules: []
defaults:
  max_body: 10 MiB
sources:
  - name: a
    url: https://a.example/
    max_body: ten
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:3:13: error: defaults.max_body: "
                                "invalid size '10 MiB' (write e.g. 512KiB, 10MiB, 1GiB or bytes)",
                                "/etc/newsmon/newsmon.yaml:7:15: error: sources[0].max_body: "
                                "invalid size 'ten' (write e.g. 512KiB, 10MiB, 1GiB or bytes)"}));
}

TEST(ConfigTest, IntervalUnderTenSecondsIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: fast
    url: https://a.example/
    interval: 9s
  - name: limit
    url: https://b.example/
    interval: 10s
    timeout: 10s
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:5:15: error: sources[0].interval: "
                               "interval 9s is under the 10s minimum"});
  ASSERT_EQ(r.config.sources.size(), 2u);
  EXPECT_EQ(r.config.sources[1].interval, 10s);
}

TEST(ConfigTest, TimeoutUnderOneSecondIsAnError) {
  LoadResult r = Load(R"(rules: []
defaults:
  timeout: 999ms
sources:
  - name: a
    url: https://a.example/
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:3:12: error: defaults.timeout: "
                               "timeout 999ms is under the 1s minimum"});
}

TEST(ConfigTest, UnsetTimeoutShrinksToAShortInterval) {
  LoadResult r = Load(R"(rules: []
defaults:
  interval: 15s
sources:
  - name: fast
    url: https://example.org/a
  - name: slow
    url: https://example.org/b
    interval: 10m
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.sources[0].timeout, 15s);
  EXPECT_EQ(r.config.sources[1].timeout, 30s);
}

TEST(ConfigTest, TimeoutLongerThanIntervalIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    interval: 1m
    timeout: 1m
  - name: b
    url: https://b.example/
    interval: 1m
    timeout: 61s
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:7:5: error: sources[1]: timeout 1m1s "
                               "is longer than interval 1m"});
}

TEST(ConfigTest, MaxBodyOutsideOneKibToOneGibIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: small
    url: https://a.example/
    max_body: 1023
  - name: big
    url: https://b.example/
    max_body: 1025MiB
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:5:15: error: sources[0].max_body: "
                                "1023B is outside the allowed 1KiB to 1GiB",
                                "/etc/newsmon/newsmon.yaml:8:15: error: sources[1].max_body: "
                                "1025MiB is outside the allowed 1KiB to 1GiB"}));
}

// --- Environment variables --------------------------------------------------------------

TEST(ConfigTest, VariablesExpandInEveryString) {
  TempDir dir;
  path rule = dir.Write("rules/news.yaml", "rules:\n  - name: news\n    keywords: [news]\n");
  auto env = FakeEnv({{"STATE", "/data/newsmon"},
                      {"ADDR", "127.0.0.1:9999"},
                      {"LEVEL", "warn"},
                      {"HOST", "news.example"},
                      {"EVERY", "2m"},
                      {"ON", "false"},
                      {"TOKEN", "s3cret"},
                      {"RULES", dir.path().string()}});
  LoadResult r = Load(R"(state_dir: ${STATE}
listen: ${ADDR}
log:
  level: ${LEVEL}
rules: ${RULES}/rules/*.yaml
sources:
  - name: a
    url: https://${HOST}/feed?cost=$$5
    interval: ${EVERY}
    enabled: ${ON}
    user_agent: newsmon (${HOST})
    headers:
      Authorization: Bearer ${TOKEN}
)",
                      env);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.state_dir, path("/data/newsmon"));
  EXPECT_EQ(r.config.listen.port, 9999);
  EXPECT_EQ(r.config.log.level, LogLevel::kWarn);
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_EQ(r.config.rule_files, std::vector<path>{rule});
  ASSERT_EQ(r.config.sources.size(), 1u);
  const core::Source& s = r.config.sources[0];
  EXPECT_EQ(s.url, "https://news.example/feed?cost=$5");
  EXPECT_EQ(s.interval, 2min);
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.user_agent, "newsmon (news.example)");
  EXPECT_EQ(s.headers, (std::vector<core::Header>{{"Authorization", "Bearer s3cret"}}));
}

TEST(ConfigTest, VariableFallbackAppliesWhenUnset) {
  LoadResult r = Load(R"(rules: []
state_dir: ${NEWSMON_STATE_DIR:-../var}
sources:
  - name: a
    url: https://${FEED_HOST:-fallback.example}/
)",
                      FakeEnv({{"FEED_HOST", ""}}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.state_dir, path("/etc/var"));
  ASSERT_EQ(r.config.sources.size(), 1u);
  EXPECT_EQ(r.config.sources[0].url, "https://fallback.example/");
}

TEST(ConfigTest, MissingVariableWithoutFallbackIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    headers:
      Authorization: Bearer ${API_TOKEN}
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:6:22: error: "
                               "sources[0].headers.Authorization: environment variable API_TOKEN "
                               "is not set (write ${API_TOKEN:-default} for a fallback)"});
}

// --- Unknown, repeated and mistyped keys ------------------------------------------------

TEST(ConfigTest, UnknownTopLevelKeySuggestsTheClosest) {
  LoadResult r = Load(R"(rules: []
sourcse:
  - name: a
    url: https://a.example/
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:2:1: error: sourcse: unknown key "
                               "'sourcse' (did you mean 'sources'?)"});
}

TEST(ConfigTest, UnknownSourceKeySuggestsTheClosest) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    intreval: 10m
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:5:5: error: sources[0].intreval: "
                               "unknown key 'intreval' (did you mean 'interval'?)"});
  ASSERT_EQ(r.config.sources.size(), 1u);
  EXPECT_EQ(r.config.sources[0].interval, 5min);  // the misspelt key set nothing
}

TEST(ConfigTest, UnknownKeyFarFromAnyListsTheKnownKeys) {
  LoadResult r = Load("rules: []\nlog:\n  colour: red\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:3:3: error: log.colour: unknown key "
                               "'colour' (expected one of: level format)"});
}

TEST(ConfigTest, KeyRepeatedInTheSameMapIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    interval: 5m
    interval: 10m
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:6:5: error: sources[0].interval: key "
                               "appears twice in the same map"});
}

TEST(ConfigTest, WrongTypesAreErrors) {
  LoadResult r = Load(R"(rules:
  a: b
state_dir: [a, b]
sources:
  - name: a
    url:
      - https://a.example/
    enabled: maybe
    headers: [X-A]
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(
      Errors(r),
      (Strings{"/etc/newsmon/newsmon.yaml:3:12: error: state_dir: expected a string, got a list",
               "/etc/newsmon/newsmon.yaml:2:3: error: rules: expected a path or a list of paths, "
               "got a map",
               "/etc/newsmon/newsmon.yaml:8:14: error: sources[0].enabled: expected true or "
               "false, got 'maybe'",
               "/etc/newsmon/newsmon.yaml:9:14: error: sources[0].headers: expected a map of "
               "names to values, got a list",
               "/etc/newsmon/newsmon.yaml:7:7: error: sources[0].url: expected a string, got a "
               "list"}));
}

TEST(ConfigTest, MapWhereAListIsExpectedIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  name: a
  url: https://a.example/
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:3:3: error: sources: expected a list, "
                               "got a map"});
  EXPECT_TRUE(r.config.sources.empty());
}

// --- Sources ----------------------------------------------------------------------------

TEST(ConfigTest, DuplicateSourceNameNamesBothPlaces) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: bbc
    url: https://a.example/
  - name: guardian
    url: https://b.example/
  - name: bbc
    url: https://c.example/
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:7:11: error: sources[2].name: "
                               "duplicate source name 'bbc' (first defined at "
                               "/etc/newsmon/newsmon.yaml:3)"});
}

TEST(ConfigTest, DuplicateSourceNameAcrossAnIncludedFile) {
  TempDir dir;
  path extra = dir.Write("sources.d/more.yaml", R"(sources:
  - name: unique
    url: https://u.example/
  - name: bbc
    url: https://b.example/
)");
  path main = dir.Write("newsmon.yaml", R"(rules: []
include: sources.d/*.yaml
sources:
  - name: bbc
    url: https://a.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{extra.string() +
                               ":4:11: error: sources[1].name: duplicate source name 'bbc' "
                               "(first defined at " +
                               main.string() + ":4)"});
}

TEST(ConfigTest, InvalidSourceNamesAreErrors) {
  LoadResult r = Load(
      "rules: []\nsources:\n  - name: -bbc\n    url: https://a.example/\n"
      "  - name: has space\n    url: https://b.example/\n  - name: " +
      std::string(65, 'a') + "\n    url: https://c.example/\n");
  EXPECT_FALSE(r.ok());
  const std::string rule =
      "' (letters, digits, '_', '.', '-'; starting with a letter or digit; at most 64 "
      "characters)";
  EXPECT_EQ(
      Errors(r),
      (Strings{"/etc/newsmon/newsmon.yaml:3:11: error: sources[0].name: invalid name '-bbc" + rule,
               "/etc/newsmon/newsmon.yaml:5:11: error: sources[1].name: invalid name 'has "
               "space" +
                   rule,
               "/etc/newsmon/newsmon.yaml:7:11: error: sources[2].name: invalid name '" +
                   std::string(65, 'a') + rule}));
}

TEST(ConfigTest, MissingNameOrUrlIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - url: https://a.example/
  - name: b
    kind: rss
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:3:5: error: sources[0]: missing "
                                "required key 'name'",
                                "/etc/newsmon/newsmon.yaml:4:5: error: sources[1]: missing "
                                "required key 'url'"}));
}

TEST(ConfigTest, SourceUrlMustBeAbsoluteHttpWithAHost) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: ftp
    url: ftp://files.example/feed
  - name: relative
    url: /feed.xml
  - name: nohost
    url: http:///feed.xml
)");
  EXPECT_FALSE(r.ok());
  Strings errors = Errors(r);
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "/etc/newsmon/newsmon.yaml:4:10: error: sources[0].url: invalid URL "
            "'ftp://files.example/feed': scheme must be http or https, not 'ftp'");
  EXPECT_TRUE(
      errors[1].starts_with("/etc/newsmon/newsmon.yaml:6:10: error: sources[1].url: "
                            "invalid URL '/feed.xml': not an absolute URL"))
      << errors[1];
  EXPECT_EQ(errors[2],
            "/etc/newsmon/newsmon.yaml:8:10: error: sources[2].url: invalid URL "
            "'http:///feed.xml': the URL has no host");
}

TEST(ConfigTest, UnknownKindSuggestsTheClosest) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    kind: rs
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:5:11: error: sources[0].kind: unknown "
                               "value 'rs' (did you mean 'rss'?)"});
}

TEST(ConfigTest, HtmlKindNeedsAnHtmlBlock) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: page
    url: https://a.example/
    kind: html
  - name: half
    url: https://b.example/
    kind: html
    html:
      item: li
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            (Strings{"/etc/newsmon/newsmon.yaml:3:5: error: sources[0].html: kind html needs an "
                     "html block with at least 'item' and 'title' selectors",
                     "/etc/newsmon/newsmon.yaml:10:7: error: sources[1].html: kind html needs an "
                     "html block with at least 'item' and 'title' selectors"}));
}

TEST(ConfigTest, HtmlBlockOnANonHtmlSourceIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: feed
    url: https://a.example/
    kind: rss
    html:
      item: li
      title: h2
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:7:7: error: sources[0].html: an html "
                               "block is only used with kind: html (this source has kind: rss)"});
}

TEST(ConfigTest, UnknownTimeZoneIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: page
    url: https://a.example/
    kind: html
    html:
      item: li
      title: h2
      timezone: Mars/Olympus
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:9:17: error: sources[0].html.timezone: "
                               "unknown time zone 'Mars/Olympus' (use an IANA name like "
                               "Asia/Baku)"});
}

TEST(ConfigTest, MisspeltHtmlKeyIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: page
    url: https://a.example/
    kind: html
    html:
      item: li
      titel: h2
      title: h3
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:8:7: error: sources[0].html.titel: "
                               "unknown key 'titel' (did you mean 'title'?)"});
  ASSERT_EQ(r.config.sources.size(), 1u);
  ASSERT_TRUE(r.config.sources[0].html.has_value());
  EXPECT_EQ(r.config.sources[0].html->title, "h3");
}

// --- Headers and user agent -------------------------------------------------------------

TEST(ConfigTest, HeaderValueWithLineBreakIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    headers:
      X-Inject: "a\r\nX-Evil: 1"
      X-Lf: "a\nb"
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:6:17: error: "
                                "sources[0].headers.X-Inject: header values must not contain CR, "
                                "LF or NUL",
                                "/etc/newsmon/newsmon.yaml:7:13: error: sources[0].headers.X-Lf: "
                                "header values must not contain CR, LF or NUL"}));
}

TEST(ConfigTest, ManagedHeaderIsAnError) {
  LoadResult r = Load(R"(rules: []
defaults:
  headers:
    Host: example.org
sources:
  - name: a
    url: https://a.example/
    headers:
      content-length: "5"
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:4:11: error: defaults.headers.Host: "
                                "this header is set by newsmon itself",
                                "/etc/newsmon/newsmon.yaml:9:23: error: "
                                "sources[0].headers.content-length: this header is set by "
                                "newsmon itself"}));
}

TEST(ConfigTest, BadHeaderNameIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    headers:
      "X Bad": v
      "X:Colon": v
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:6:16: error: sources[0].headers.X "
                                "Bad: invalid header name",
                                "/etc/newsmon/newsmon.yaml:7:18: error: "
                                "sources[0].headers.X:Colon: invalid header name"}));
}

TEST(ConfigTest, UserAgentWithLineBreakIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    user_agent: "newsmon\nX-Evil: 1"
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:5:17: error: sources[0].user_agent: "
                               "must be non-empty and must not contain CR, LF or NUL"});
}

// --- Sinks ------------------------------------------------------------------------------

TEST(ConfigTest, SinksOfEachKindAreRead) {
  std::string secret = "whsec_" + ZeroBase64(32);
  LoadResult r = Load(R"(rules: []
sinks:
  - name: hook
    kind: webhook
    url: https://hooks.example/in
    secret: )" + secret +
                      R"(
    headers:
      X-Team: news
  - name: tg
    kind: telegram
    secret: "123:abc"
    chat_id: "-100123"
  - name: am
    kind: alertmanager
    url: http://127.0.0.1:9093
    labels:
      team: news
  - name: chat
    kind: slack
    url: https://hooks.slack.example/T0
  - name: push
    kind: ntfy
    url: https://ntfy.example/topic
  - name: log
    kind: log
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sinks.size(), 6u);
  const auto& s = r.config.sinks;
  EXPECT_EQ(s[0].kind, core::SinkKind::kWebhook);
  EXPECT_EQ(s[0].url, "https://hooks.example/in");
  EXPECT_EQ(s[0].secret, secret);
  EXPECT_EQ(s[0].headers, (std::vector<core::Header>{{"X-Team", "news"}}));
  EXPECT_EQ(s[0].origin, "/etc/newsmon/newsmon.yaml:3");
  EXPECT_EQ(s[1].kind, core::SinkKind::kTelegram);
  EXPECT_EQ(s[1].url, "https://api.telegram.org");
  EXPECT_EQ(s[1].secret, "123:abc");
  EXPECT_EQ(s[1].chat_id, "-100123");
  EXPECT_EQ(s[2].kind, core::SinkKind::kAlertmanager);
  EXPECT_EQ(s[2].labels, (std::map<std::string, std::string>{{"team", "news"}}));
  EXPECT_EQ(s[3].kind, core::SinkKind::kSlack);
  EXPECT_EQ(s[4].kind, core::SinkKind::kNtfy);
  EXPECT_EQ(s[5].kind, core::SinkKind::kLog);
  EXPECT_EQ(s[5].url, "");
}

TEST(ConfigTest, WebhookSinkNeedsAUrl) {
  LoadResult r = Load("rules: []\nsinks:\n  - name: hook\n    kind: webhook\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:3:5: error: sinks[0]: sinks of kind "
                               "webhook need 'url' or 'url_file'"});
}

TEST(ConfigTest, TelegramSinkNeedsChatIdAndToken) {
  LoadResult r = Load("rules: []\nsinks:\n  - name: tg\n    kind: telegram\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:3:5: error: sinks[0]: telegram sinks "
                                "need the bot token in 'secret' or 'secret_file'",
                                "/etc/newsmon/newsmon.yaml:3:5: error: sinks[0]: telegram sinks "
                                "need 'chat_id'"}));
}

TEST(ConfigTest, AlertmanagerSinkNeedsAUrl) {
  LoadResult r = Load("rules: []\nsinks:\n  - name: am\n    kind: alertmanager\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:3:5: error: sinks[0]: sinks of kind "
                               "alertmanager need 'url' or 'url_file'"});
}

TEST(ConfigTest, SinkKeyNotUsedByItsKindIsAnError) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: hook
    kind: webhook
    url: https://hooks.example/in
    chat_id: "42"
  - name: log
    kind: log
    labels:
      a: b
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:6:5: error: sinks[0].chat_id: not "
                                "used by sinks of kind webhook",
                                "/etc/newsmon/newsmon.yaml:9:5: error: sinks[1].labels: not used "
                                "by sinks of kind log"}));
}

TEST(ConfigTest, WebhookSecretIsWhsecAndBase64Of24To64Bytes) {
  auto load_secret = [](const std::string& secret) {
    return Load(
        "rules: []\nsinks:\n  - name: hook\n    kind: webhook\n"
        "    url: https://hooks.example/in\n    secret: \"" +
        secret + "\"\n");
  };
  EXPECT_TRUE(load_secret("whsec_" + ZeroBase64(24)).ok());
  EXPECT_TRUE(load_secret("whsec_" + ZeroBase64(64)).ok());
  EXPECT_TRUE(load_secret("whsec_" + ZeroBase64(40)).ok());
  const std::string error =
      "/etc/newsmon/newsmon.yaml:6:13: error: sinks[0].secret: a webhook secret is 'whsec_' "
      "followed by 24 to 64 bytes in base64 (generate one with: echo whsec_$(head -c 32 "
      "/dev/urandom | base64))";
  for (const std::string& bad : {"whsec_" + ZeroBase64(23), "whsec_" + ZeroBase64(65),
                                 ZeroBase64(32), "whsec_" + std::string(31, 'A') + "!",
                                 "whsec_" + std::string(33, 'A'), std::string("whsec_")}) {
    EXPECT_EQ(Errors(load_secret(bad)), Strings{error}) << bad;
  }
}

TEST(ConfigTest, UrlAndUrlFileTogetherIsAnError) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: hook
    kind: webhook
    url: https://hooks.example/in
    url_file: /run/secrets/hook-url
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:6:15: error: sinks[0].url_file: set "
                               "either 'url' or 'url_file', not both"});
}

TEST(ConfigTest, SecretFileIsReadWithoutTrailingNewline) {
  TempDir dir;
  dir.Write("secrets/token", "123:abc\n");
  dir.Write("secrets/crlf-token", "456:def\r\n");
  path main = dir.Write("newsmon.yaml", R"(rules: []
sinks:
  - name: tg
    kind: telegram
    secret_file: secrets/token
    chat_id: "1"
  - name: tg2
    kind: telegram
    secret_file: ./secrets/crlf-token
    chat_id: "2"
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sinks.size(), 2u);
  EXPECT_EQ(r.config.sinks[0].secret, "123:abc");
  EXPECT_EQ(r.config.sinks[1].secret, "456:def");
}

TEST(ConfigTest, MissingSecretFileIsAnError) {
  TempDir dir;
  path main = dir.Write("conf/newsmon.yaml", R"(rules: []
sinks:
  - name: hook
    kind: webhook
    url: https://hooks.example/in
    secret_file: secrets/missing
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{main.string() + ":6:18: error: sinks[0].secret_file: cannot read '" +
                               (dir.path() / "conf/secrets/missing").string() + "'"});
}

TEST(ConfigTest, UnreadableTelegramSecretFileIsOneError) {
  TempDir dir;
  path main = dir.Write("conf/newsmon.yaml", R"(rules: []
sinks:
  - name: tg
    kind: telegram
    secret_file: secrets/missing
    chat_id: "1"
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  // The token is configured, only unreadable: "need the bot token" would mislead.
  EXPECT_EQ(Errors(r), Strings{main.string() + ":5:18: error: sinks[0].secret_file: cannot read '" +
                               (dir.path() / "conf/secrets/missing").string() + "'"});
}

TEST(ConfigTest, DuplicateSinkNameIsAnError) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: out
    kind: log
  - name: out
    kind: log
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:5:11: error: sinks[1].name: duplicate "
                               "sink name 'out' (first defined at /etc/newsmon/newsmon.yaml:3)"});
}

TEST(ConfigTest, UnknownSinkKindIsAnError) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: mail
    kind: email
  - name: hook
    kind: webhok
    url: https://hooks.example/in
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:4:11: error: sinks[0].kind: unknown "
                                "value 'email' (expected one of: log webhook slack discord "
                                "telegram teams ntfy alertmanager)",
                                "/etc/newsmon/newsmon.yaml:6:11: error: sinks[1].kind: unknown "
                                "value 'webhok' (did you mean 'webhook'?)"}));
}

// --- listen and log ---------------------------------------------------------------------

TEST(ConfigTest, ValidListenAddresses) {
  struct Case {
    std::string text;
    std::string host;
    std::uint16_t port;
  };
  for (const Case& c :
       {Case{"127.0.0.1:9787", "127.0.0.1", 9787}, Case{"[::1]:8080", "::1", 8080},
        Case{"0.0.0.0:0", "0.0.0.0", 0}, Case{"10.1.2.3:65535", "10.1.2.3", 65535}}) {
    LoadResult r = Load("rules: []\nlisten: \"" + c.text + "\"\n");
    EXPECT_TRUE(r.ok()) << c.text << ": " << ::testing::PrintToString(Errors(r));
    EXPECT_EQ(r.config.listen.host, c.host) << c.text;
    EXPECT_EQ(r.config.listen.port, c.port) << c.text;
  }
}

TEST(ConfigTest, InvalidListenAddresses) {
  for (const std::string text : {"localhost:80", "127.0.0.1", "127.0.0.1:70000",
                                 "127.0.0.1:", "[::1]", "127.0.0.1:http", ":9787"}) {
    LoadResult r = Load("rules: []\nlisten: \"" + text + "\"\n");
    EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:2:9: error: listen: expected IP:PORT "
                                 "such as 127.0.0.1:9787 or [::1]:9787, got '" +
                                 text + "'"})
        << text;
  }
}

TEST(ConfigTest, UnbracketedIpv6ListenAddressIsAnError) {
  LoadResult r = Load("rules: []\nlisten: \"::1:8080\"\n");
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:2:9: error: listen: expected IP:PORT "
                               "such as 127.0.0.1:9787 or [::1]:9787, got '::1:8080'"});
}

TEST(ConfigTest, BracketsAreForIpv6Only) {
  LoadResult r = Load("rules: []\nlisten: \"[127.0.0.1]:80\"\n");
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:2:9: error: listen: expected IP:PORT "
                               "such as 127.0.0.1:9787 or [::1]:9787, got '[127.0.0.1]:80'"});
}

TEST(ConfigTest, LogLevelAndFormatAreEnums) {
  for (const auto& [name, level] :
       {std::pair{"trace", LogLevel::kTrace}, std::pair{"debug", LogLevel::kDebug},
        std::pair{"info", LogLevel::kInfo}, std::pair{"warn", LogLevel::kWarn},
        std::pair{"error", LogLevel::kError}, std::pair{"critical", LogLevel::kCritical},
        std::pair{"off", LogLevel::kOff}}) {
    LoadResult r = Load(std::string("rules: []\nlog:\n  level: ") + name + "\n  format: json\n");
    EXPECT_TRUE(r.ok()) << name;
    EXPECT_EQ(r.config.log.level, level) << name;
    EXPECT_EQ(r.config.log.format, LogFormat::kJson) << name;
  }
  LoadResult r = Load("rules: []\nlog:\n  level: verbose\n  format: jsno\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:3:10: error: log.level: unknown value "
                                "'verbose' (expected one of: trace debug info warn error critical "
                                "off)",
                                "/etc/newsmon/newsmon.yaml:4:11: error: log.format: unknown value "
                                "'jsno' (did you mean 'json'?)"}));
}

// --- admin_token_file -------------------------------------------------------------------

TEST(ConfigTest, AdminTokenIsEmptyByDefault) {
  LoadResult r = Load("rules: []\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config.admin_token, "");
}

TEST(ConfigTest, AdminTokenFileIsReadRelativeToTheConfigWithoutTrailingNewline) {
  TempDir dir;
  dir.Write("conf/secrets/admin", "0123456789abcdef-XYZ\r\n");
  path main = dir.Write("conf/newsmon.yaml", "rules: []\nadmin_token_file: secrets/admin\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Warnings(r), Strings{main.string() + ":1:1: warning: sources: no sources "
                                                 "configured: nothing will be polled"});
  EXPECT_EQ(r.config.admin_token, "0123456789abcdef-XYZ");
}

TEST(ConfigTest, AdminTokenFileTakesAnAbsolutePathAndEnvironmentVariables) {
  TempDir dir;
  path token = dir.Write("run/admin-token", "an-absolute-token-0123\n");
  LoadResult r = Load("rules: []\nadmin_token_file: ${TOKEN_DIR}/admin-token\n",
                      FakeEnv({{"TOKEN_DIR", (dir.path() / "run").string()}}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.admin_token, "an-absolute-token-0123");
}

TEST(ConfigTest, MissingAdminTokenFileIsAnErrorWithFileAndLine) {
  TempDir dir;
  path main = dir.Write("conf/newsmon.yaml", "rules: []\nadmin_token_file: secrets/missing\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{main.string() + ":2:19: error: admin_token_file: cannot read '" +
                               (dir.path() / "conf/secrets/missing").string() +
                               "': No such file or directory"});
  EXPECT_EQ(r.config.admin_token, "");
}

TEST(ConfigTest, AdminTokenFileThatIsADirectoryIsAnError) {
  TempDir dir;
  dir.Write("conf/secrets/keep", "");
  path main = dir.Write("conf/newsmon.yaml", "rules: []\nadmin_token_file: secrets\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_EQ(Errors(r), Strings{main.string() + ":2:19: error: admin_token_file: cannot read '" +
                               (dir.path() / "conf/secrets").string() + "': Is a directory"});
}

TEST(ConfigTest, EmptyAdminTokenFileIsAnError) {
  TempDir dir;
  dir.Write("empty", "");
  dir.Write("newline", "\n\r\n");
  for (const std::string name : {"empty", "newline"}) {
    path main = dir.Write("newsmon.yaml", "rules: []\nadmin_token_file: " + name + "\n");
    LoadResult r = LoadConfig(main, FakeEnv({}));
    EXPECT_EQ(Errors(r), Strings{main.string() + ":2:19: error: admin_token_file: '" +
                                 (dir.path() / name).string() + "' is empty"})
        << name;
  }
  LoadResult r = Load("rules: []\nadmin_token_file: \"\"\n");
  EXPECT_EQ(Errors(r),
            Strings{"/etc/newsmon/newsmon.yaml:2:19: error: admin_token_file: must not be empty"});
  r = Load("rules: []\nadmin_token_file: [a, b]\n");
  EXPECT_FALSE(r.ok());
}

TEST(ConfigTest, AdminTokenWithSpacesOrControlCharactersIsAnErrorThatHidesIt) {
  TempDir dir;
  dir.Write("spaced", "secret part-one part-two\n");
  dir.Write("two-lines", "secret-line-one-0123\nsecret-line-two-0123\n");
  dir.Write("utf8", "secret-\xC3\xA9-0123456789\n");
  for (const std::string name : {"spaced", "two-lines", "utf8"}) {
    path main = dir.Write("newsmon.yaml", "rules: []\nadmin_token_file: " + name + "\n");
    LoadResult r = LoadConfig(main, FakeEnv({}));
    EXPECT_EQ(Errors(r), Strings{main.string() + ":2:19: error: admin_token_file: the token in '" +
                                 (dir.path() / name).string() +
                                 "' must be one line of printable ASCII without spaces"})
        << name;
    EXPECT_EQ(r.config.admin_token, "") << name;
  }
}

TEST(ConfigTest, ShortAdminTokenIsAWarning) {
  TempDir dir;
  dir.Write("short", "abc123\n");
  path main = dir.Write("newsmon.yaml", "rules: []\nadmin_token_file: short\nsources: []\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.admin_token, "abc123");
  Strings warnings = Warnings(r);
  ASSERT_FALSE(warnings.empty());
  EXPECT_EQ(warnings[0], main.string() + ":2:19: warning: admin_token_file: the token in '" +
                             (dir.path() / "short").string() +
                             "' is shorter than 16 characters: anyone who can reach the admin "
                             "server may guess it");
  for (const auto& d : r.diagnostics) {
    EXPECT_EQ(core::Format(d).find("abc123"), std::string::npos) << core::Format(d);
  }
}

TEST(ConfigTest, AdminTokenFileIsOnlyATopLevelKey) {
  // The token itself is never written in the config.
  LoadResult r = Load("rules: []\nadmin_token: hunter2hunter2hunter2\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(Errors(r).size(), 1u);
  EXPECT_NE(Errors(r)[0].find("unknown key 'admin_token'"), std::string::npos) << Errors(r)[0];
  EXPECT_EQ(Errors(r)[0].find("hunter2"), std::string::npos) << Errors(r)[0];
  EXPECT_EQ(r.config.admin_token, "");
}

// --- Whole files ------------------------------------------------------------------------

TEST(ConfigTest, InvalidYamlReportsFileAndLine) {
  LoadResult r = Load(R"(rules: []
log:
  level: info
  format: text: json
sources: []
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:4:15: error: invalid YAML: illegal map "
                               "value"});
  EXPECT_EQ(r.diagnostics.size(), 1u);
}

TEST(ConfigTest, EmptyFileIsAnError) {
  for (const std::string text : {"", "\n", "# nothing here\n"}) {
    LoadResult r = Load(text);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml: error: the config file is empty"});
  }
}

TEST(ConfigTest, MissingFileIsAnError) {
  TempDir dir;
  path missing = dir.path() / "newsmon.yaml";
  LoadResult r = LoadConfig(missing, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), Strings{missing.string() +
                               ": error: cannot read the config file: No such file or directory"});
}

TEST(ConfigTest, ThreeMistakesGiveThreeLocatedErrors) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: bbc
    url: https://feeds.bbci.co.uk/news/rss.xml
    intreval: 10m
  - name: guardian
    url: https://www.theguardian.com/world/rss
    timeout: 30 seconds
  - name: bbc
    url: https://feeds.bbci.co.uk/news/world/rss.xml
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 3u);
  EXPECT_EQ(Errors(r),
            (Strings{"/etc/newsmon/newsmon.yaml:5:5: error: sources[0].intreval: unknown key "
                     "'intreval' (did you mean 'interval'?)",
                     "/etc/newsmon/newsmon.yaml:8:14: error: sources[1].timeout: invalid duration "
                     "'30 seconds' (write a number and a unit: 90s, 5m, 1h, 1h30m)",
                     "/etc/newsmon/newsmon.yaml:9:11: error: sources[2].name: duplicate source "
                     "name 'bbc' (first defined at /etc/newsmon/newsmon.yaml:3)"}));
}

TEST(ConfigTest, AllErrorsAreReportedAtOnce) {
  LoadResult r = Load(R"(listen: localhost:80
rules: []
sinks:
  - name: hook
    kind: webhook
sources:
  - name: a
    url: ftp://a.example/
  - name: b
    url: https://b.example/
    interval: 1s
  - name: c
    url: https://c.example/
    kind: rdff
  - name: d
    url: https://d.example/
    enabled: yes please
  - name: e
    url: https://e.example/
    max_body: 0
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 7u);
  EXPECT_EQ(Errors(r),
            (Strings{"/etc/newsmon/newsmon.yaml:1:9: error: listen: expected IP:PORT such as "
                     "127.0.0.1:9787 or [::1]:9787, got 'localhost:80'",
                     "/etc/newsmon/newsmon.yaml:4:5: error: sinks[0]: sinks of kind webhook need "
                     "'url' or 'url_file'",
                     "/etc/newsmon/newsmon.yaml:8:10: error: sources[0].url: invalid URL "
                     "'ftp://a.example/': scheme must be http or https, not 'ftp'",
                     "/etc/newsmon/newsmon.yaml:11:15: error: sources[1].interval: interval 1s is "
                     "under the 10s minimum",
                     "/etc/newsmon/newsmon.yaml:14:11: error: sources[2].kind: unknown value "
                     "'rdff' (did you mean 'rdf'?)",
                     "/etc/newsmon/newsmon.yaml:17:14: error: sources[3].enabled: expected true "
                     "or false, got 'yes please'",
                     "/etc/newsmon/newsmon.yaml:20:15: error: sources[4].max_body: 0B is outside "
                     "the allowed 1KiB to 1GiB"}));
}

TEST(ConfigTest, ShippedDefaultConfigLoadsCleanly) {
  LoadResult r = LoadConfig(NEWSMON_SOURCE_DIR "/config/newsmon.yaml", FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Errors(r), Strings{});
  EXPECT_EQ(r.config.sources.size(), 9u);
  EXPECT_EQ(r.config.rule_files.size(), 3u);
  EXPECT_EQ(r.config.sinks.size(), 1u);
  EXPECT_EQ(r.config.state_dir, path(NEWSMON_SOURCE_DIR) / "var");
}

TEST(ConfigTest, HeaderNamesDifferingOnlyInCaseAreAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://example.org/a
    headers:
      Cookie: a=1
      cookie: a=2
)");
  EXPECT_EQ(Errors(r), Strings{"/etc/newsmon/newsmon.yaml:7:15: error: sources[0].headers.cookie: "
                               "header names are case-insensitive: this one appears twice"});
}

TEST(ConfigTest, PathsFromARelativeConfigPathBecomeAbsolute) {
  LoadResult r = LoadConfigFromString("rules: []\nstate_dir: ../var\n",
                                      "deploy/config/newsmon.yaml", FakeEnv({}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config.state_dir, std::filesystem::current_path() / "deploy/var");
}

TEST(ConfigTest, EmptyIncludedFileIsAWarning) {
  TempDir dir;
  dir.Write("sources.d/empty.yaml", "# nothing here yet\n");
  path main = dir.Write("newsmon.yaml", "rules: []\ninclude: sources.d/*.yaml\n");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(
      Warnings(r),
      (Strings{(dir.path() / "sources.d/empty.yaml").string() + ": warning: included file is empty",
               main.string() + ":1:1: warning: sources: no sources configured: nothing "
                               "will be polled"}));
}

// --- Polling, proxies, TLS and address settings ------------------------------------------

TEST(ConfigTest, NewSourceSettingsGetTheirBuiltInDefaults) {
  LoadResult r = Load("rules: []\nsources:\n  - name: a\n    url: https://a.example/\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_EQ(r.config.polling.max_concurrent, 64);
  EXPECT_EQ(r.config.polling.max_per_host, 2);
  ASSERT_EQ(r.config.sources.size(), 1u);
  const core::Source& s = r.config.sources[0];
  EXPECT_FALSE(s.min_interval.has_value());
  EXPECT_FALSE(s.max_interval.has_value());
  EXPECT_EQ(s.max_backoff, 1h);
  EXPECT_TRUE(s.respect_cache);
  EXPECT_EQ(s.connect_timeout, 10s);
  EXPECT_TRUE(s.tls_verify);
  EXPECT_EQ(s.ca_file, "");
  EXPECT_EQ(s.proxy, "");
  EXPECT_FALSE(s.allow_private_networks.all_private);
  EXPECT_TRUE(s.allow_private_networks.cidrs.empty());
}

TEST(ConfigTest, NewSettingsAreInheritedAndTheSourceWins) {
  TempDir dir;
  dir.Write("certs/corp.pem", "-----BEGIN CERTIFICATE-----\n");
  dir.Write("certs/other.pem", "-----BEGIN CERTIFICATE-----\n");
  path main = dir.Write("newsmon.yaml", R"(rules: []
defaults:
  interval: 10m
  min_interval: 2m
  max_interval: 1h
  max_backoff: 2h
  respect_cache: false
  timeout: 20s
  connect_timeout: 5s
  ca_file: certs/corp.pem
  proxy: http://proxy.corp:3128
  allow_private_networks: true
sources:
  - name: inherits
    url: https://a.example/
  - name: overrides
    url: https://b.example/
    interval: 30m
    min_interval: 30m
    max_interval: 2h
    max_backoff: 3h
    respect_cache: true
    timeout: 1m
    connect_timeout: 250ms
    ca_file: ./certs/other.pem
    proxy: none
    allow_private_networks: [10.0.0.0/8, "fd00::/8"]
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.config.sources.size(), 2u);
  const core::Source& a = r.config.sources[0];
  EXPECT_EQ(a.min_interval, 2min);
  EXPECT_EQ(a.max_interval, 1h);
  EXPECT_EQ(a.max_backoff, 2h);
  EXPECT_FALSE(a.respect_cache);
  EXPECT_EQ(a.connect_timeout, 5s);
  EXPECT_EQ(a.ca_file, (dir.path() / "certs/corp.pem").string());
  EXPECT_EQ(a.proxy, "http://proxy.corp:3128");
  EXPECT_TRUE(a.allow_private_networks.all_private);
  EXPECT_TRUE(a.allow_private_networks.cidrs.empty());
  const core::Source& b = r.config.sources[1];
  EXPECT_EQ(b.interval, 30min);
  EXPECT_EQ(b.min_interval, 30min);
  EXPECT_EQ(b.max_interval, 2h);
  EXPECT_EQ(b.max_backoff, 3h);
  EXPECT_TRUE(b.respect_cache);
  EXPECT_EQ(b.timeout, 1min);
  EXPECT_EQ(b.connect_timeout, 250ms);
  EXPECT_EQ(b.ca_file, (dir.path() / "certs/other.pem").string());
  EXPECT_EQ(b.proxy, "");
  EXPECT_FALSE(b.allow_private_networks.all_private);
  EXPECT_EQ(b.allow_private_networks.cidrs, (Strings{"10.0.0.0/8", "fd00::/8"}));
}

TEST(ConfigTest, UnsetLimitsFollowTheIntervalAndTimeout) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: slow
    url: https://a.example/
    interval: 2h
  - name: quick
    url: https://b.example/
    timeout: 4s
  - name: adaptive
    url: https://c.example/
    min_interval: 10m
    max_interval: 3h
  - name: fast-range
    url: https://d.example/
    min_interval: 10s
    max_interval: 1m
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 4u);
  // max_backoff is never below the interval, nor below the longest adaptive interval.
  EXPECT_EQ(r.config.sources[0].max_backoff, 2h);
  EXPECT_EQ(r.config.sources[0].connect_timeout, 10s);
  EXPECT_EQ(r.config.sources[1].max_backoff, 1h);
  EXPECT_EQ(r.config.sources[1].connect_timeout, 4s);  // shortened to fit the timeout
  EXPECT_EQ(r.config.sources[2].max_backoff, 3h);
  // An interval nobody set moves into the adaptive range; so does the timeout after it.
  EXPECT_EQ(r.config.sources[2].interval, 10min);
  EXPECT_EQ(r.config.sources[3].interval, 1min);
  EXPECT_EQ(r.config.sources[3].timeout, 30s);
}

TEST(ConfigTest, MinOrMaxIntervalAloneIsAnError) {
  LoadResult r = Load(R"(rules: []
defaults:
  min_interval: 1m
sources:
  - name: a
    url: https://a.example/
    max_interval: 1h
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:3:17: error: defaults.min_interval: "
                                "min_interval needs max_interval too: set both for an adaptive "
                                "interval, or neither",
                                "/etc/newsmon/newsmon.yaml:7:19: error: sources[0].max_interval: "
                                "max_interval needs min_interval too: set both for an adaptive "
                                "interval, or neither"}));
}

TEST(ConfigTest, IntervalOutsideItsAdaptiveRangeIsAnError) {
  LoadResult r = Load(R"(rules: []
defaults:
  min_interval: 5m
  max_interval: 1h
sources:
  - name: short
    url: https://a.example/
    interval: 1m
  - name: long
    url: https://b.example/
    interval: 2h
  - name: edges
    url: https://c.example/
    interval: 1h
  - name: inverted
    url: https://d.example/
    min_interval: 2h
    max_interval: 1h
  - name: tiny
    url: https://e.example/
    min_interval: 5s
    max_interval: 1m
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:6:5: error: sources[0]: interval 1m "
                                "is not between min_interval 5m and max_interval 1h",
                                "/etc/newsmon/newsmon.yaml:9:5: error: sources[1]: interval 2h "
                                "is not between min_interval 5m and max_interval 1h",
                                "/etc/newsmon/newsmon.yaml:17:19: error: sources[3].min_interval: "
                                "min_interval 2h is longer than max_interval 1h",
                                "/etc/newsmon/newsmon.yaml:21:19: error: sources[4].min_interval: "
                                "min_interval 5s is under the 10s minimum"}));
}

TEST(ConfigTest, MaxBackoffShorterThanIntervalIsAnError) {
  LoadResult r = Load(R"(rules: []
defaults:
  max_backoff: 5s
sources:
  - name: a
    url: https://a.example/
    interval: 2h
    max_backoff: 1h
  - name: b
    url: https://b.example/
    interval: 1h
    max_backoff: 1h
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:3:16: error: defaults.max_backoff: "
                                "max_backoff 5s is under the 10s minimum",
                                "/etc/newsmon/newsmon.yaml:5:5: error: sources[0]: max_backoff 1h "
                                "is shorter than interval 2h"}));
}

TEST(ConfigTest, ConnectTimeoutMustFitTheTimeoutAndBeAtLeast100ms) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    timeout: 5s
    connect_timeout: 6s
  - name: b
    url: https://b.example/
    connect_timeout: 99ms
  - name: c
    url: https://c.example/
    timeout: 5s
    connect_timeout: 5s
  - name: d
    url: https://d.example/
    connect_timeout: 100ms
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:3:5: error: sources[0]: "
                                "connect_timeout 6s is longer than timeout 5s",
                                "/etc/newsmon/newsmon.yaml:9:22: error: "
                                "sources[1].connect_timeout: connect_timeout 99ms is under the "
                                "100ms minimum"}));
  ASSERT_EQ(r.config.sources.size(), 4u);
  EXPECT_EQ(r.config.sources[3].connect_timeout, 100ms);
}

TEST(ConfigTest, RespectCacheAndTlsVerifyAreBooleans) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    respect_cache: sometimes
    tls_verify: "no"
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:5:20: error: sources[0].respect_cache: "
                                "expected true or false, got 'sometimes'",
                                "/etc/newsmon/newsmon.yaml:6:17: error: sources[0].tls_verify: "
                                "expected true or false, got 'no'"}));
}

TEST(ConfigTest, TlsVerifyFalseIsAWarningNamingTheSource) {
  LoadResult r = Load(R"(rules: []
defaults:
  tls_verify: false
sources:
  - name: inherits
    url: https://a.example/
  - name: own
    url: http://b.example/
    tls_verify: false
  - name: checked
    url: https://c.example/
    tls_verify: true
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Warnings(r),
            (Strings{"/etc/newsmon/newsmon.yaml:5:5: warning: sources[0].tls_verify: certificate "
                     "checks are off for source 'inherits': anyone on the network path can "
                     "impersonate it (tls_verify: false in defaults)",
                     "/etc/newsmon/newsmon.yaml:9:17: warning: sources[1].tls_verify: certificate "
                     "checks are off for source 'own': anyone on the network path can "
                     "impersonate it"}));
  ASSERT_EQ(r.config.sources.size(), 3u);
  EXPECT_FALSE(r.config.sources[0].tls_verify);
  EXPECT_FALSE(r.config.sources[1].tls_verify);
  EXPECT_TRUE(r.config.sources[2].tls_verify);
}

TEST(ConfigTest, CaFileResolvesAgainstTheFileThatNamesIt) {
  TempDir dir;
  dir.Write("conf/ca.pem", "-----BEGIN CERTIFICATE-----\n");
  dir.Write("conf/sources.d/own-ca.pem", "-----BEGIN CERTIFICATE-----\n");
  dir.Write("conf/sources.d/extra.yaml",
            "sources:\n  - name: extra\n    url: https://x.example/\n    ca_file: own-ca.pem\n");
  path main = dir.Write("conf/newsmon.yaml", R"(rules: []
include: sources.d/*.yaml
defaults:
  ca_file: ca.pem
sources:
  - name: main
    url: https://main.example/
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 2u);
  EXPECT_EQ(r.config.sources[0].ca_file, (dir.path() / "conf/ca.pem").string());
  EXPECT_EQ(r.config.sources[1].ca_file, (dir.path() / "conf/sources.d/own-ca.pem").string());
}

TEST(ConfigTest, UnreadableCaFileIsAnErrorNamingThePath) {
  TempDir dir;
  dir.Write("conf/certs/README", "bundles go here\n");
  path main = dir.Write("conf/newsmon.yaml", R"(rules: []
sources:
  - name: a
    url: https://a.example/
    ca_file: certs/missing.pem
  - name: b
    url: https://b.example/
    ca_file: certs
  - name: c
    url: https://c.example/
    ca_file: ""
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{main.string() +
                                    ":5:14: error: sources[0].ca_file: cannot read CA "
                                    "file '" +
                                    (dir.path() / "conf/certs/missing.pem").string() +
                                    "': No such file or directory",
                                main.string() +
                                    ":8:14: error: sources[1].ca_file: cannot read CA "
                                    "file '" +
                                    (dir.path() / "conf/certs").string() + "': Is a directory",
                                main.string() + ":11:14: error: sources[2].ca_file: must not be "
                                                "empty"}));
}

TEST(ConfigTest, ProxySettingIsAnHttpUrlOrNone) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
    proxy: http://proxy.corp:3128/
  - name: b
    url: http://b.example/
    proxy: HTTP://10.0.0.1
  - name: c
    url: https://c.example/
    proxy: "http://[fd00::1]:8080"
  - name: d
    url: https://d.example/
    proxy: direct
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 4u);
  EXPECT_EQ(r.config.sources[0].proxy, "http://proxy.corp:3128");
  EXPECT_EQ(r.config.sources[1].proxy, "http://10.0.0.1");
  EXPECT_EQ(r.config.sources[2].proxy, "http://[fd00::1]:8080");
  EXPECT_EQ(r.config.sources[3].proxy, "");
}

TEST(ConfigTest, BadProxySettingIsAnError) {
  struct Case {
    std::string proxy;
    std::string message;
  };
  for (const Case& c : {
           Case{"https://proxy.corp:3128",
                "invalid proxy 'https://proxy.corp:3128': scheme must be http, not 'https' "
                "(newsmon speaks plain HTTP to the proxy and tunnels https through it)"},
           Case{"socks5://proxy.corp:1080",
                "invalid proxy 'socks5://proxy.corp:1080': scheme must be http, not 'socks5' "
                "(newsmon speaks plain HTTP to the proxy and tunnels https through it)"},
           Case{"proxy.corp:3128",
                "invalid proxy 'proxy.corp:3128': expected http://host[:port], none or direct"},
           Case{"", "invalid proxy '': expected http://host[:port], none or direct"},
           Case{"http://user:s3cret@proxy.corp:3128",
                "invalid proxy 'http://***@proxy.corp:3128': credentials in the proxy URL are "
                "not supported"},
           Case{"http://proxy.corp:3128/path",
                "invalid proxy 'http://proxy.corp:3128/path': a proxy URL has no path, query or "
                "fragment"},
           Case{"http://:3128", "invalid proxy 'http://:3128': the URL has no host"},
           Case{"http://proxy.corp:0", "invalid proxy 'http://proxy.corp:0': invalid port '0'"},
           Case{"http://proxy.corp:", "invalid proxy 'http://proxy.corp:': invalid port ''"},
           Case{"http://proxy.corp:99999",
                "invalid proxy 'http://proxy.corp:99999': invalid port '99999'"},
           Case{"http://pro xy:80", "invalid proxy 'http://pro xy:80': invalid host 'pro xy'"},
           Case{"http://[fd00::1", "invalid proxy 'http://[fd00::1': unclosed '[' in the host"},
           Case{"http://[nope]:80",
                "invalid proxy 'http://[nope]:80': invalid IPv6 address "
                "'nope'"},
       }) {
    LoadResult r = Load(
        "rules: []\nsources:\n  - name: a\n    url: https://a.example/\n"
        "    proxy: \"" +
        c.proxy + "\"\n");
    EXPECT_EQ(Errors(r),
              Strings{"/etc/newsmon/newsmon.yaml:5:12: error: sources[0].proxy: " + c.message})
        << c.proxy;
  }
}

TEST(ConfigTest, ProxyComesFromTheEnvironmentBySourceScheme) {
  const std::string yaml = R"(rules: []
sources:
  - name: secure
    url: https://a.example/feed
  - name: plain
    url: http://b.example/feed
)";
  auto proxies = [&](std::map<std::string, std::string> vars) {
    LoadResult r = Load(yaml, FakeEnv(std::move(vars)));
    EXPECT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
    Strings out;
    for (const auto& source : r.config.sources) out.push_back(source.proxy);
    return out;
  };
  EXPECT_EQ(proxies({}), (Strings{"", ""}));
  EXPECT_EQ(proxies({{"HTTPS_PROXY", "http://tls-proxy:3128"}, {"HTTP_PROXY", "http://web:80/"}}),
            (Strings{"http://tls-proxy:3128", "http://web:80"}));
  EXPECT_EQ(proxies({{"HTTPS_PROXY", "http://tls-proxy:3128"}}),
            (Strings{"http://tls-proxy:3128", ""}));
  EXPECT_EQ(proxies({{"http_proxy", "http://lower:8080"}}), (Strings{"", "http://lower:8080"}));
  EXPECT_EQ(proxies({{"https_proxy", "http://lower:8080"}}), (Strings{"http://lower:8080", ""}));
  // Upper case first; an empty variable counts as unset.
  EXPECT_EQ(proxies({{"HTTP_PROXY", "http://upper:1"}, {"http_proxy", "http://lower:2"}}),
            (Strings{"", "http://upper:1"}));
  EXPECT_EQ(proxies({{"HTTPS_PROXY", ""}, {"https_proxy", "http://lower:2"}}),
            (Strings{"http://lower:2", ""}));
}

TEST(ConfigTest, NoProxyExemptsHostsTheirSubdomainsAndExactAddresses) {
  auto proxy_for = [](const std::string& url, const std::string& no_proxy,
                      const std::string& variable = "NO_PROXY") {
    LoadResult r = Load("rules: []\nsources:\n  - name: a\n    url: " + url + "\n",
                        FakeEnv({{"HTTPS_PROXY", "http://proxy:3128"},
                                 {"HTTP_PROXY", "http://proxy:3128"},
                                 {variable, no_proxy}}));
    EXPECT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
    return r.config.sources.empty() ? std::string("?") : r.config.sources[0].proxy;
  };
  const std::string direct;
  const std::string proxied = "http://proxy:3128";
  EXPECT_EQ(proxy_for("https://example.org/", "example.org"), direct);
  EXPECT_EQ(proxy_for("https://news.example.org/", "example.org"), direct);
  EXPECT_EQ(proxy_for("https://news.example.org/", ".example.org"), direct);
  EXPECT_EQ(proxy_for("https://example.org/", ".example.org"), direct);
  EXPECT_EQ(proxy_for("https://NEWS.Example.ORG:8443/", "other.net, Example.org"), direct);
  EXPECT_EQ(proxy_for("https://example.org/", "example.org:443"), direct);
  EXPECT_EQ(proxy_for("https://badexample.org/", "example.org"), proxied);
  EXPECT_EQ(proxy_for("https://example.org.evil.net/", "example.org"), proxied);
  EXPECT_EQ(proxy_for("https://example.org/", "news.example.org"), proxied);
  EXPECT_EQ(proxy_for("https://anything.example/", "*"), direct);
  EXPECT_EQ(proxy_for("https://anything.example/", ",, ,"), proxied);
  EXPECT_EQ(proxy_for("http://10.1.2.3/feed", "10.1.2.3"), direct);
  EXPECT_EQ(proxy_for("http://10.1.2.3/feed", "1.2.3"), proxied);  // no suffix match on IPs
  EXPECT_EQ(proxy_for("http://10.1.2.3/feed", "10.1.2.4"), proxied);
  EXPECT_EQ(proxy_for("http://[fd00::1]:8080/feed", "[fd00::1]"), direct);
  EXPECT_EQ(proxy_for("http://[fd00::1]:8080/feed", "fd00:0::1"), direct);
  EXPECT_EQ(proxy_for("http://[fd00::1]:8080/feed", "fd00::2"), proxied);
  EXPECT_EQ(proxy_for("https://example.org/", "example.org", "no_proxy"), direct);
}

TEST(ConfigTest, ProxySettingOverridesTheEnvironment) {
  LoadResult r =
      Load(R"(rules: []
defaults:
  proxy: http://corp-proxy:3128
sources:
  - name: inherits
    url: https://a.example/
  - name: none
    url: https://b.example/
    proxy: none
  - name: exempt
    url: https://c.example/
    proxy: http://other:8080
)",
           FakeEnv({{"HTTPS_PROXY", "http://env-proxy:3128"}, {"NO_PROXY", "c.example"}}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 3u);
  EXPECT_EQ(r.config.sources[0].proxy, "http://corp-proxy:3128");
  EXPECT_EQ(r.config.sources[1].proxy, "");
  EXPECT_EQ(r.config.sources[2].proxy, "http://other:8080");  // NO_PROXY is for the environment
  LoadResult direct = Load(R"(rules: []
defaults:
  proxy: direct
sources:
  - name: a
    url: https://a.example/
)",
                           FakeEnv({{"HTTPS_PROXY", "http://env-proxy:3128"}}));
  ASSERT_TRUE(direct.ok()) << ::testing::PrintToString(Errors(direct));
  EXPECT_EQ(direct.config.sources[0].proxy, "");
}

TEST(ConfigTest, BadProxyInTheEnvironmentIsOneErrorNamingTheVariable) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: a
    url: https://a.example/
  - name: b
    url: https://b.example/
  - name: c
    url: http://c.example/
  - name: d
    url: https://d.example/
    proxy: none
)",
                      FakeEnv({{"https_proxy", "socks5://admin:pw@proxy:1080"},
                               {"HTTP_PROXY", "http://proxy:3128"}}));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            Strings{"/etc/newsmon/newsmon.yaml:3:5: error: sources[0].proxy: invalid "
                    "proxy in environment variable https_proxy ('socks5://***@proxy:1080'"
                    "): scheme must be http, not 'socks5' (newsmon speaks plain HTTP "
                    "to the proxy and tunnels https through it) (fix the variable, or "
                    "set proxy: in the config)"});
  ASSERT_EQ(r.config.sources.size(), 4u);
  EXPECT_EQ(r.config.sources[2].proxy, "http://proxy:3128");
}

TEST(ConfigTest, BadProxyInTheEnvironmentIsIgnoredForExemptHosts) {
  LoadResult r = Load("rules: []\nsources:\n  - name: a\n    url: https://a.example/\n",
                      FakeEnv({{"HTTPS_PROXY", "bogus"}, {"no_proxy", "a.example"}}));
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
}

TEST(ConfigTest, AllowPrivateNetworksIsABoolOrAListOfNetworks) {
  LoadResult r = Load(R"(rules: []
defaults:
  allow_private_networks: false
sources:
  - name: all
    url: http://10.0.0.5/feed
    allow_private_networks: true
  - name: some
    url: http://10.0.0.5/feed
    allow_private_networks:
      - 127.0.0.2/32
      - 10.0.0.0/8
      - "::1"
  - name: none
    url: https://a.example/
  - name: empty
    url: https://b.example/
    allow_private_networks: []
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 4u);
  EXPECT_TRUE(r.config.sources[0].allow_private_networks.all_private);
  EXPECT_TRUE(r.config.sources[0].allow_private_networks.cidrs.empty());
  EXPECT_FALSE(r.config.sources[1].allow_private_networks.all_private);
  EXPECT_EQ(r.config.sources[1].allow_private_networks.cidrs,
            (Strings{"127.0.0.2/32", "10.0.0.0/8", "::1"}));
  EXPECT_FALSE(r.config.sources[2].allow_private_networks.all_private);
  EXPECT_TRUE(r.config.sources[2].allow_private_networks.cidrs.empty());
  EXPECT_TRUE(r.config.sources[3].allow_private_networks.cidrs.empty());
}

TEST(ConfigTest, BadAllowPrivateNetworksIsAnError) {
  LoadResult r = Load(R"(rules: []
sources:
  - name: scalar
    url: https://a.example/
    allow_private_networks: 10.0.0.0/8
  - name: word
    url: https://b.example/
    allow_private_networks: yes
  - name: map
    url: https://c.example/
    allow_private_networks:
      cidr: 10.0.0.0/8
  - name: bad-entry
    url: https://d.example/
    allow_private_networks: [10.0.0.0/8, 10.0.0.0/33]
)");
  EXPECT_FALSE(r.ok());
  Strings errors = Errors(r);
  ASSERT_EQ(errors.size(), 4u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "/etc/newsmon/newsmon.yaml:5:29: error: sources[0].allow_private_networks: expected "
            "true, false or a list of networks, got '10.0.0.0/8' (write one network as a list: "
            "[10.0.0.0/8])");
  EXPECT_EQ(errors[1],
            "/etc/newsmon/newsmon.yaml:8:29: error: sources[1].allow_private_networks: expected "
            "true, false or a list of networks such as [10.0.0.0/8, fd00::/8], got 'yes'");
  EXPECT_EQ(errors[2],
            "/etc/newsmon/newsmon.yaml:12:7: error: sources[2].allow_private_networks: expected "
            "true, false or a list of networks, got a map");
  // The reason comes from core::ParseCidr; the rest of the message is the config's.
  EXPECT_TRUE(
      errors[3].starts_with("/etc/newsmon/newsmon.yaml:15:42: error: "
                            "sources[3].allow_private_networks[1]: invalid network "
                            "'10.0.0.0/33'"))
      << errors[3];
  EXPECT_TRUE(errors[3].ends_with(" (write a CIDR such as 10.0.0.0/8 or fd00::/8, or one address)"))
      << errors[3];
}

TEST(ConfigTest, PollingLimitsAreRead) {
  LoadResult r = Load("rules: []\npolling:\n  max_concurrent: 10000\n  max_per_host: 1\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.polling.max_concurrent, 10000);
  EXPECT_EQ(r.config.polling.max_per_host, 1);
  LoadResult partial = Load("rules: []\npolling:\n  max_per_host: 1000\n");
  ASSERT_TRUE(partial.ok()) << ::testing::PrintToString(Errors(partial));
  EXPECT_EQ(partial.config.polling.max_concurrent, 64);
  EXPECT_EQ(partial.config.polling.max_per_host, 1000);
}

TEST(ConfigTest, BadPollingLimitsAreErrors) {
  LoadResult r = Load(R"(rules: []
polling:
  max_concurrent: 0
  max_per_host: 1001
  max_per_hots: 3
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:5:3: error: polling.max_per_hots: "
                                "unknown key 'max_per_hots' (did you mean 'max_per_host'?)",
                                "/etc/newsmon/newsmon.yaml:3:19: error: polling.max_concurrent: "
                                "max_concurrent 0 is outside the allowed 1 to 10000",
                                "/etc/newsmon/newsmon.yaml:4:17: error: polling.max_per_host: "
                                "max_per_host 1001 is outside the allowed 1 to 1000"}));
  EXPECT_EQ(r.config.polling.max_concurrent, 64);
  EXPECT_EQ(r.config.polling.max_per_host, 2);
  LoadResult words = Load("rules: []\npolling:\n  max_concurrent: many\n  max_per_host: 2.5\n");
  EXPECT_EQ(Errors(words), (Strings{"/etc/newsmon/newsmon.yaml:3:19: error: "
                                    "polling.max_concurrent: expected a whole number, got 'many'",
                                    "/etc/newsmon/newsmon.yaml:4:17: error: polling.max_per_host: "
                                    "expected a whole number, got '2.5'"}));
  LoadResult list = Load("rules: []\npolling: [1, 2]\n");
  EXPECT_EQ(Errors(list), Strings{"/etc/newsmon/newsmon.yaml:2:10: error: polling: expected a map "
                                  "of keys, got a list"});
}

TEST(ConfigTest, MisspeltNewSettingsSuggestTheirNames) {
  LoadResult r = Load(R"(rules: []
polling:
  max_concurent: 8
defaults:
  max_backof: 2h
  tls_verfy: false
sources:
  - name: a
    url: https://a.example/
    conect_timeout: 5s
    allow_private_network: true
    proxi: none
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            (Strings{"/etc/newsmon/newsmon.yaml:3:3: error: polling.max_concurent: unknown key "
                     "'max_concurent' (did you mean 'max_concurrent'?)",
                     "/etc/newsmon/newsmon.yaml:5:3: error: defaults.max_backof: unknown key "
                     "'max_backof' (did you mean 'max_backoff'?)",
                     "/etc/newsmon/newsmon.yaml:6:3: error: defaults.tls_verfy: unknown key "
                     "'tls_verfy' (did you mean 'tls_verify'?)",
                     "/etc/newsmon/newsmon.yaml:10:5: error: sources[0].conect_timeout: unknown "
                     "key 'conect_timeout' (did you mean 'connect_timeout'?)",
                     "/etc/newsmon/newsmon.yaml:11:5: error: sources[0].allow_private_network: "
                     "unknown key 'allow_private_network' (did you mean "
                     "'allow_private_networks'?)",
                     "/etc/newsmon/newsmon.yaml:12:5: error: sources[0].proxi: unknown key "
                     "'proxi' (did you mean 'proxy'?)"}));
}

// --- Sink delivery and message templates -------------------------------------------------

TEST(ConfigTest, SinkDeliverySettingsDefaultPerKind) {
  LoadResult r = Load(R"(rules: []
sinks:
  - {name: log, kind: log}
  - {name: hook, kind: webhook, url: "https://hooks.example/in"}
  - {name: slack, kind: slack, url: "https://hooks.slack.example/T0"}
  - {name: discord, kind: discord, url: "https://discord.example/api/webhooks/1"}
  - {name: tg, kind: telegram, secret: "123:abc", chat_id: "1"}
  - {name: teams, kind: teams, url: "https://teams.example/hook"}
  - {name: push, kind: ntfy, url: "https://ntfy.example/topic"}
  - {name: am, kind: alertmanager, url: "http://127.0.0.1:9093"}
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Warnings(r), Strings{kNoSources});
  struct Expected {
    core::SinkKind kind;
    int concurrency;
    double rate;
    int burst;
  };
  // The published limits of each service (core/sink.h); 0 = no rate limit.
  const Expected expected[] = {
      {core::SinkKind::kLog, 1, 0, 1},      {core::SinkKind::kWebhook, 4, 0, 1},
      {core::SinkKind::kSlack, 1, 1, 1},    {core::SinkKind::kDiscord, 1, 0.5, 5},
      {core::SinkKind::kTelegram, 1, 1, 1}, {core::SinkKind::kTeams, 1, 2, 4},
      {core::SinkKind::kNtfy, 1, 0.2, 60},  {core::SinkKind::kAlertmanager, 2, 0, 1},
  };
  ASSERT_EQ(r.config.sinks.size(), std::size(expected));
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    const core::SinkSpec& sink = r.config.sinks[i];
    SCOPED_TRACE(sink.name);
    EXPECT_EQ(sink.kind, expected[i].kind);
    EXPECT_EQ(sink.concurrency, expected[i].concurrency);
    EXPECT_EQ(sink.rate, expected[i].rate);
    EXPECT_EQ(sink.burst, expected[i].burst);
    EXPECT_EQ(sink.timeout, 10s);
    EXPECT_EQ(sink.retry_backoff, 1s);
    EXPECT_EQ(sink.max_backoff, 10min);
    EXPECT_EQ(sink.max_age, 24h);
    EXPECT_EQ(sink.message_template, "");  // = core::kDefaultTemplate
  }
  // The built-in log sink too.
  LoadResult none = Load("rules: []\n");
  ASSERT_EQ(none.config.sinks.size(), 1u);
  EXPECT_EQ(none.config.sinks[0].concurrency, 1);
  EXPECT_EQ(none.config.sinks[0].rate, 0);
  EXPECT_EQ(none.config.sinks[0].burst, 1);
}

TEST(ConfigTest, SinkDeliverySettingsAreReadExactly) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: hook
    kind: webhook
    url: https://hooks.example/in
    concurrency: 64
    rate: 1000
    burst: 1000
    timeout: 100ms
    retry_backoff: 10ms
    max_backoff: 24h
    max_age: 30d
  - name: chat
    kind: slack
    url: https://hooks.slack.example/T0
    template: "{severity}: {title:.80} ({source}) {link}"
    concurrency: 1
    rate: 0.25
    burst: 1
    timeout: 5m
    retry_backoff: 1h
    max_backoff: 1h
    max_age: 1m
  - name: am
    kind: alertmanager
    url: http://127.0.0.1:9093
    rate: 30/min
    retry_backoff: 2s
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Warnings(r), Strings{kNoSources});
  ASSERT_EQ(r.config.sinks.size(), 3u);
  const core::SinkSpec& hook = r.config.sinks[0];
  EXPECT_EQ(hook.concurrency, 64);
  EXPECT_EQ(hook.rate, 1000);
  EXPECT_EQ(hook.burst, 1000);
  EXPECT_EQ(hook.timeout, 100ms);
  EXPECT_EQ(hook.retry_backoff, 10ms);
  EXPECT_EQ(hook.max_backoff, 24h);
  EXPECT_EQ(hook.max_age, 24h * 30);
  const core::SinkSpec& chat = r.config.sinks[1];
  EXPECT_EQ(chat.message_template, "{severity}: {title:.80} ({source}) {link}");
  EXPECT_EQ(chat.concurrency, 1);
  EXPECT_EQ(chat.rate, 0.25);
  EXPECT_EQ(chat.burst, 1);
  EXPECT_EQ(chat.timeout, 5min);
  EXPECT_EQ(chat.retry_backoff, 1h);
  EXPECT_EQ(chat.max_backoff, 1h);
  EXPECT_EQ(chat.max_age, 1min);
  // What is not set keeps the kind's default.
  const core::SinkSpec& am = r.config.sinks[2];
  EXPECT_EQ(am.concurrency, 2);
  EXPECT_EQ(am.rate, 0.5);
  EXPECT_EQ(am.burst, 1);
  EXPECT_EQ(am.retry_backoff, 2s);
  EXPECT_EQ(am.max_backoff, 10min);
}

TEST(ConfigTest, RateIsPerSecondOrACountPerDuration) {
  auto load_rate = [](const std::string& rate) {
    return Load(
        "rules: []\nsinks:\n  - name: hook\n    kind: webhook\n"
        "    url: https://hooks.example/in\n    rate: \"" +
        rate + "\"\n");
  };
  const std::pair<std::string, double> good[] = {
      {"2", 2},
      {"0.5", 0.5},
      {"1e3", 1000},
      {"1/s", 1},
      {"30/min", 0.5},
      {"30/m", 0.5},
      {"1/5s", 0.2},
      {"100/h", 100.0 / 3600},
      {"1/d", 1.0 / 86400},
      {"5/250ms", 20},
      {"1000/s", 1000},
      {"1.5/1m30s", 1.0 / 60},
  };
  for (const auto& [text, per_second] : good) {
    LoadResult r = load_rate(text);
    ASSERT_TRUE(r.ok()) << text << ": " << ::testing::PrintToString(Errors(r));
    ASSERT_EQ(r.config.sinks.size(), 1u);
    EXPECT_DOUBLE_EQ(r.config.sinks[0].rate, per_second) << text;
  }
  const std::string at = "/etc/newsmon/newsmon.yaml:6:11: error: sinks[0].rate: ";
  const std::string syntax =
      "' (write requests per second, such as 2 or 0.5, or a count per duration: 30/min, 1/5s, "
      "100/h)";
  const std::pair<std::string, std::string> bad[] = {
      {"0", at + "rate 0 must be more than 0"},
      {"-1", at + "rate -1 must be more than 0"},
      {"0/min", at + "rate 0/min (0/s) must be more than 0"},
      {"1001", at + "rate 1001 is over the 1000/s maximum"},
      {"1001/s", at + "rate 1001/s is over the 1000/s maximum"},
      {"61000/min", at + "rate 61000/min (1016.6666666666666/s) is over the 1000/s maximum"},
      {"fast", at + "invalid rate 'fast" + syntax},
      {"30 per minute", at + "invalid rate '30 per minute" + syntax},
      {"30/", at + "invalid rate '30/" + syntax},
      {"/min", at + "invalid rate '/min" + syntax},
      {"1/0s", at + "invalid rate '1/0s" + syntax},
      {"1/week", at + "invalid rate '1/week" + syntax},
      {"inf", at + "invalid rate 'inf" + syntax},
      {"nan", at + "invalid rate 'nan" + syntax},
      {"", at + "invalid rate '" + syntax},
  };
  for (const auto& [text, error] : bad) {
    LoadResult r = load_rate(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_EQ(Errors(r), Strings{error}) << text;
    ASSERT_EQ(r.config.sinks.size(), 1u);
    EXPECT_EQ(r.config.sinks[0].rate, 0) << text;  // the webhook default is kept
  }
}

TEST(ConfigTest, SinkDeliveryValuesOutOfRangeAreErrors) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: low
    kind: webhook
    url: https://hooks.example/in
    concurrency: 0
    burst: 0
    timeout: 99ms
    retry_backoff: 9ms
    max_backoff: 5ms
    max_age: 59s
  - name: high
    kind: discord
    url: https://discord.example/api/webhooks/1
    concurrency: 65
    burst: 1001
    timeout: 5m1s
    retry_backoff: 61m
    max_backoff: 25h
    max_age: 31d
)");
  EXPECT_FALSE(r.ok());
  const std::string at = "/etc/newsmon/newsmon.yaml:";
  EXPECT_EQ(
      Errors(r),
      (Strings{at + "6:18: error: sinks[0].concurrency: concurrency 0 is outside the allowed 1 "
                    "to 64",
               at + "7:12: error: sinks[0].burst: burst 0 is outside the allowed 1 to 1000",
               at + "8:14: error: sinks[0].timeout: timeout 99ms is under the 100ms minimum",
               at + "9:20: error: sinks[0].retry_backoff: retry_backoff 9ms is under the 10ms "
                    "minimum",
               at + "10:18: error: sinks[0].max_backoff: max_backoff 5ms is under the 10ms "
                    "minimum",
               at + "11:14: error: sinks[0].max_age: max_age 59s is under the 1m minimum",
               at + "15:18: error: sinks[1].concurrency: concurrency 65 is outside the allowed 1 "
                    "to 64",
               at + "16:12: error: sinks[1].burst: burst 1001 is outside the allowed 1 to 1000",
               at + "17:14: error: sinks[1].timeout: timeout 5m1s is over the 5m maximum",
               at + "18:20: error: sinks[1].retry_backoff: retry_backoff 1h1m is over the 1h "
                    "maximum",
               at + "19:18: error: sinks[1].max_backoff: max_backoff 1d1h is over the 1d maximum",
               at + "20:14: error: sinks[1].max_age: max_age 31d is over the 30d maximum"}));
  // Rejected values leave the kind's defaults in place.
  ASSERT_EQ(r.config.sinks.size(), 2u);
  EXPECT_EQ(r.config.sinks[1].concurrency, 1);
  EXPECT_EQ(r.config.sinks[1].burst, 5);
  EXPECT_EQ(r.config.sinks[1].timeout, 10s);
}

TEST(ConfigTest, SinkDeliveryValuesOfTheWrongTypeAreErrors) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: hook
    kind: webhook
    url: https://hooks.example/in
    concurrency: many
    rate: [1, 2]
    burst: 2.5
    timeout: 10
    retry_backoff: {a: b}
    max_age: true
)");
  EXPECT_FALSE(r.ok());
  const std::string at = "/etc/newsmon/newsmon.yaml:";
  const std::string units = " (write a number and a unit: 90s, 5m, 1h, 1h30m)";
  EXPECT_EQ(Errors(r),
            (Strings{at + "6:18: error: sinks[0].concurrency: expected a whole number, got 'many'",
                     at + "7:11: error: sinks[0].rate: expected a rate, got a list",
                     at + "8:12: error: sinks[0].burst: expected a whole number, got '2.5'",
                     at + "9:14: error: sinks[0].timeout: invalid duration '10'" + units,
                     at + "10:20: error: sinks[0].retry_backoff: expected a duration, got a map",
                     at + "11:14: error: sinks[0].max_age: invalid duration 'true'" + units}));
}

TEST(ConfigTest, MaxBackoffMustNotBeShorterThanRetryBackoff) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: short
    kind: webhook
    url: https://hooks.example/in
    retry_backoff: 5m
    max_backoff: 1m
  - name: grows
    kind: webhook
    url: https://hooks.example/in
    retry_backoff: 30m
  - name: bad-retry
    kind: webhook
    url: https://hooks.example/in
    retry_backoff: 2h
    max_backoff: 1m
)");
  EXPECT_FALSE(r.ok());
  // An invalid retry_backoff is one error: max_backoff is not compared with the default.
  EXPECT_EQ(Errors(r),
            (Strings{"/etc/newsmon/newsmon.yaml:7:18: error: sinks[0].max_backoff: max_backoff "
                     "1m is shorter than retry_backoff 5m",
                     "/etc/newsmon/newsmon.yaml:15:20: error: sinks[2].retry_backoff: "
                     "retry_backoff 2h is over the 1h maximum"}));
  ASSERT_EQ(r.config.sinks.size(), 3u);
  // Unset, max_backoff grows to a retry_backoff longer than its default.
  EXPECT_EQ(r.config.sinks[1].retry_backoff, 30min);
  EXPECT_EQ(r.config.sinks[1].max_backoff, 30min);
  EXPECT_EQ(r.config.sinks[2].max_backoff, 1min);
}

TEST(ConfigTest, TemplatesAreReadForEveryChatKind) {
  LoadResult r = Load(R"yaml(rules: []
sinks:
  - name: slack
    kind: slack
    url: https://hooks.slack.example/T0
    template: "*{rule}* {title} <{link}>"
  - name: discord
    kind: discord
    url: https://discord.example/api/webhooks/1
    template: "{{{severity}}} {title:.80}"
  - name: tg
    kind: telegram
    secret: "123:abc"
    chat_id: "1"
    template: |
      {title}
      {summary:.200}
      {link}
  - name: teams
    kind: teams
    url: https://teams.example/hook
    template: "{source}: {title} ({published}, {author}, {categories}, {id}, {delivery_id})"
  - name: push
    kind: ntfy
    url: https://ntfy.example/topic
    template: "Cost: $$5 {title}"
)yaml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Warnings(r), Strings{kNoSources});
  ASSERT_EQ(r.config.sinks.size(), 5u);
  EXPECT_EQ(r.config.sinks[0].message_template, "*{rule}* {title} <{link}>");
  EXPECT_EQ(r.config.sinks[1].message_template, "{{{severity}}} {title:.80}");
  EXPECT_EQ(r.config.sinks[2].message_template, "{title}\n{summary:.200}\n{link}\n");
  EXPECT_EQ(r.config.sinks[3].message_template,
            "{source}: {title} ({published}, {author}, {categories}, {id}, {delivery_id})");
  EXPECT_EQ(r.config.sinks[4].message_template, "Cost: $5 {title}");  // "$$" is a "$"
}

TEST(ConfigTest, BadTemplatesAreErrorsAtTheirLine) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: typo
    kind: slack
    url: https://hooks.slack.example/T0
    template: "{rule}: {titel}"
  - name: open
    kind: discord
    url: https://discord.example/api/webhooks/1
    template: "{rule}: {title"
  - name: close
    kind: teams
    url: https://teams.example/hook
    template: "{rule}: title}"
  - name: positional
    kind: ntfy
    url: https://ntfy.example/topic
    template: "{} {0}"
  - name: spec
    kind: slack
    url: https://hooks.slack.example/T0
    template: "{title:zz}"
  - name: empty
    kind: slack
    url: https://hooks.slack.example/T0
    template: ""
  - name: block
    kind: telegram
    secret: "123:abc"
    chat_id: "1"
    template: |
      {title}
      {body}
  - name: far
    kind: slack
    url: https://hooks.slack.example/T0
    template: "{xyzzy}"
)");
  EXPECT_FALSE(r.ok());
  const std::string at = "/etc/newsmon/newsmon.yaml:";
  const std::string fields =
      " (fields: rule, severity, source, title, link, summary, author, published, categories, "
      "id, delivery_id)";
  EXPECT_EQ(Errors(r),
            (Strings{at + "6:15: error: sinks[0].template: unknown field 'titel' in the message "
                          "template (did you mean 'title'?)",
                     at +
                         "10:15: error: sinks[1].template: invalid message template: missing '}' "
                         "in format string" +
                         fields,
                     at +
                         "14:15: error: sinks[2].template: invalid message template: unmatched "
                         "'}' in format string" +
                         fields,
                     at + "18:15: error: sinks[3].template: fields have names: write one such as "
                          "{title}, not {}",
                     at +
                         "22:15: error: sinks[4].template: invalid message template: invalid "
                         "type specifier" +
                         fields,
                     at + "26:15: error: sinks[5].template: must not be empty (leave 'template' "
                          "out for the default, \"{rule}: {title} — {link}\")",
                     at +
                         "31:15: error: sinks[6].template: unknown field 'body' in the message "
                         "template" +
                         fields,
                     at +
                         "37:15: error: sinks[7].template: unknown field 'xyzzy' in the message "
                         "template" +
                         fields}));
  for (const auto& sink : r.config.sinks) EXPECT_EQ(sink.message_template, "") << sink.name;
}

TEST(ConfigTest, TemplateAndDeliveryKeysOnKindsThatDoNotUseThem) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: hook
    kind: webhook
    url: https://hooks.example/in
    template: "{title}"
  - name: am
    kind: alertmanager
    url: http://127.0.0.1:9093
    template: "{title"
  - name: log
    kind: log
    template: "{title}"
    concurrency: 2
    rate: 1
    burst: 2
    timeout: 1s
    retry_backoff: 1s
    max_backoff: 1m
    max_age: 1h
)");
  EXPECT_FALSE(r.ok());
  const std::string at = "/etc/newsmon/newsmon.yaml:";
  // One error per key: a template a kind does not use is not checked as well.
  Strings expected = {
      at + "6:5: error: sinks[0].template: not used by sinks of kind webhook",
      at + "10:5: error: sinks[1].template: not used by sinks of kind alertmanager"};
  int line = 13;
  for (std::string key : {"template", "concurrency", "rate", "burst", "timeout", "retry_backoff",
                          "max_backoff", "max_age"}) {
    expected.push_back(at + std::to_string(line++) + ":5: error: sinks[2]." + key +
                       ": not used by sinks of kind log");
  }
  EXPECT_EQ(Errors(r), expected);
  ASSERT_EQ(r.config.sinks.size(), 3u);
  EXPECT_EQ(r.config.sinks[0].message_template, "");
  EXPECT_EQ(r.config.sinks[2].concurrency, 1);
}

TEST(ConfigTest, MisspeltSinkKeysSuggestTheirNames) {
  LoadResult r = Load(R"(rules: []
sinks:
  - name: chat
    kind: slack
    url: https://hooks.slack.example/T0
    templte: "{title}"
    concurency: 2
    retry_backof: 1s
    max_ages: 1h
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r),
            (Strings{"/etc/newsmon/newsmon.yaml:6:5: error: sinks[0].templte: unknown key "
                     "'templte' (did you mean 'template'?)",
                     "/etc/newsmon/newsmon.yaml:7:5: error: sinks[0].concurency: unknown key "
                     "'concurency' (did you mean 'concurrency'?)",
                     "/etc/newsmon/newsmon.yaml:8:5: error: sinks[0].retry_backof: unknown key "
                     "'retry_backof' (did you mean 'retry_backoff'?)",
                     "/etc/newsmon/newsmon.yaml:9:5: error: sinks[0].max_ages: unknown key "
                     "'max_ages' (did you mean 'max_age'?)"}));
}

// --- Backfill, item age and the store ----------------------------------------------------

TEST(ConfigTest, BackfillAndMaxItemAgeDefaultToOffAndSevenDays) {
  LoadResult r = Load("rules: []\nsources:\n  - name: a\n    url: https://a.example/\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  ASSERT_EQ(r.config.sources.size(), 1u);
  EXPECT_FALSE(r.config.sources[0].backfill);
  EXPECT_EQ(r.config.sources[0].max_item_age, 24h * 7);
}

TEST(ConfigTest, BackfillAndMaxItemAgeAreInheritedAndTheSourceWins) {
  TempDir dir;
  dir.Write("sources.d/more.yaml", R"(sources:
  - name: included
    url: https://c.example/
  - name: included-own
    url: https://d.example/
    backfill: false
    max_item_age: 1h
)");
  path main = dir.Write("newsmon.yaml", R"(rules: []
include: sources.d/*.yaml
defaults:
  backfill: true
  max_item_age: 2d
sources:
  - name: inherits
    url: https://a.example/
  - name: overrides
    url: https://b.example/
    backfill: false
    max_item_age: 3650d
)");
  LoadResult r = LoadConfig(main, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.config.sources.size(), 4u);
  EXPECT_TRUE(r.config.sources[0].backfill);
  EXPECT_EQ(r.config.sources[0].max_item_age, 48h);
  EXPECT_FALSE(r.config.sources[1].backfill);
  EXPECT_EQ(r.config.sources[1].max_item_age, 24h * 3650);
  EXPECT_TRUE(r.config.sources[2].backfill);
  EXPECT_EQ(r.config.sources[2].max_item_age, 48h);
  EXPECT_FALSE(r.config.sources[3].backfill);
  EXPECT_EQ(r.config.sources[3].max_item_age, 1h);
}

TEST(ConfigTest, BadBackfillAndMaxItemAgeAreErrors) {
  LoadResult r = Load(R"(rules: []
defaults:
  backfill: yes
  max_item_age: 59m
sources:
  - name: a
    url: https://a.example/
    backfill: [true]
    max_item_age: 0s
  - name: b
    url: https://b.example/
    max_item_age: 0
  - name: c
    url: https://c.example/
    max_item_age: {days: 7}
    max_item_ago: 7d
)");
  EXPECT_FALSE(r.ok());
  const std::string at = "/etc/newsmon/newsmon.yaml:";
  const std::string hint = " minimum (for no age limit, write a long one such as 3650d)";
  EXPECT_EQ(
      Errors(r),
      (Strings{at + "3:13: error: defaults.backfill: expected true or false, got 'yes'",
               at + "4:17: error: defaults.max_item_age: max_item_age 59m is under the 1h" + hint,
               at + "8:15: error: sources[0].backfill: expected true or false, got a list",
               at + "9:19: error: sources[0].max_item_age: max_item_age 0s is under the 1h" + hint,
               at + "12:19: error: sources[1].max_item_age: invalid duration '0' (write a "
                    "number and a unit: 90s, 5m, 1h, 1h30m)",
               at + "16:5: error: sources[2].max_item_ago: unknown key 'max_item_ago' (did "
                    "you mean 'max_item_age'?)",
               at + "15:19: error: sources[2].max_item_age: expected a duration, got a "
                    "map"}));
}

TEST(ConfigTest, StoreSettingsDefaultWhenUnset) {
  LoadResult r = Load("rules: []\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config.store.seen_retention, 24h * 90);
  EXPECT_EQ(r.config.store.history_limit, 10000u);
  LoadResult empty = Load("rules: []\nstore: {}\n");
  ASSERT_TRUE(empty.ok()) << ::testing::PrintToString(Errors(empty));
  EXPECT_EQ(empty.config.store.seen_retention, 24h * 90);
  EXPECT_EQ(empty.config.store.history_limit, 10000u);
}

TEST(ConfigTest, StoreSettingsAreRead) {
  LoadResult r = Load("rules: []\nstore:\n  seen_retention: 1d\n  history_limit: 100\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(Warnings(r), Strings{kNoSources});
  EXPECT_EQ(r.config.store.seen_retention, 24h);
  EXPECT_EQ(r.config.store.history_limit, 100u);
  LoadResult high = Load("rules: []\nstore:\n  seen_retention: 3650d\n  history_limit: 1000000\n");
  ASSERT_TRUE(high.ok()) << ::testing::PrintToString(Errors(high));
  EXPECT_EQ(high.config.store.seen_retention, 24h * 3650);
  EXPECT_EQ(high.config.store.history_limit, 1000000u);
  LoadResult partial = Load("rules: []\nstore:\n  history_limit: 500\n");
  ASSERT_TRUE(partial.ok()) << ::testing::PrintToString(Errors(partial));
  EXPECT_EQ(partial.config.store.seen_retention, 24h * 90);
  EXPECT_EQ(partial.config.store.history_limit, 500u);
}

TEST(ConfigTest, BadStoreSettingsAreErrors) {
  LoadResult r = Load(R"(rules: []
store:
  seen_retention: 23h59m
  history_limit: 99
  histroy_limit: 5
)");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Errors(r), (Strings{"/etc/newsmon/newsmon.yaml:5:3: error: store.histroy_limit: "
                                "unknown key 'histroy_limit' (did you mean 'history_limit'?)",
                                "/etc/newsmon/newsmon.yaml:3:19: error: store.seen_retention: "
                                "seen_retention 23h59m is under the 1d minimum",
                                "/etc/newsmon/newsmon.yaml:4:18: error: store.history_limit: "
                                "history_limit 99 is outside the allowed 100 to 1000000"}));
  EXPECT_EQ(r.config.store.seen_retention, 24h * 90);
  EXPECT_EQ(r.config.store.history_limit, 10000u);
  LoadResult high = Load("rules: []\nstore:\n  history_limit: 1000001\n");
  EXPECT_EQ(Errors(high), Strings{"/etc/newsmon/newsmon.yaml:3:18: error: store.history_limit: "
                                  "history_limit 1000001 is outside the allowed 100 to 1000000"});
  LoadResult words = Load("rules: []\nstore:\n  seen_retention: forever\n  history_limit: 1e4\n");
  EXPECT_EQ(Errors(words),
            (Strings{"/etc/newsmon/newsmon.yaml:3:19: error: store.seen_retention: invalid "
                     "duration 'forever' (write a number and a unit: 90s, 5m, 1h, 1h30m)",
                     "/etc/newsmon/newsmon.yaml:4:18: error: store.history_limit: expected a "
                     "whole number, got '1e4'"}));
  LoadResult list = Load("rules: []\nstore: [90d]\n");
  EXPECT_EQ(Errors(list), Strings{"/etc/newsmon/newsmon.yaml:2:8: error: store: expected a map "
                                  "of keys, got a list"});
  LoadResult misspelt = Load("rules: []\nstroe:\n  history_limit: 100\n");
  EXPECT_EQ(Errors(misspelt), Strings{"/etc/newsmon/newsmon.yaml:2:1: error: stroe: unknown key "
                                      "'stroe' (did you mean 'store'?)"});
}

}  // namespace
}  // namespace newsmon::config
