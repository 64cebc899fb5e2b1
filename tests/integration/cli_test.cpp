// The `newsmon` binary as a user runs it: subcommands, exit codes, output, signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/http_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::Contains;
using test::RunProcess;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;
const std::string kSourceDir = NEWSMON_SOURCE_DIR;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A small valid config with its state under `dir`.
std::string WriteConfig(const TempDir& dir, const std::string& extra = "") {
  return dir
      .Write("newsmon.yaml",
             "state_dir: state\nlisten: 127.0.0.1:0\n"
             "rules: []\n"
             "sources:\n"
             "  - name: example\n"
             // Loopback without allow_private_networks: a poll is refused before any traffic.
             "    url: http://127.0.0.1:9/feed.xml\n" +
                 extra)
      .string();
}

TEST(CliTest, CheckAcceptsTheShippedConfig) {
  auto r = RunProcess({kBinary, "check", "--config", kSourceDir + "/config/newsmon.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex(".*/config/newsmon.yaml: OK \\(9 sources, 9 enabled; 3 rule files, [0-9]+ "
                        "rules; 1 sinks\\)\n")))
      << r.out;
}

// The shipped config, installed by `cmake --install`, is valid where it lands: its relative
// rule and include paths hold in the installed layout too.
TEST(CliTest, InstalledConfigIsValid) {
  TempDir dir;
  auto install = RunProcess({"cmake", "--install", NEWSMON_BUILD_DIR, "--prefix", "/usr"},
                            {"DESTDIR=" + dir.path().string()}, 60s);
  ASSERT_EQ(install.exit_code, 0) << install.err;
  std::string config = (dir.path() / "etc/newsmon/newsmon.yaml").string();
  auto r = RunProcess({(dir.path() / "usr/bin/newsmon").string(), "check", "--config", config});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex(".*/etc/newsmon/newsmon.yaml: OK \\(9 sources, 9 enabled; 3 rule files, "
                        "[0-9]+ rules; 1 sinks\\)\n")))
      << r.out;
}

TEST(CliTest, CheckReportsThreeMistakesWithFileAndLine) {
  std::string file = kSourceDir + "/tests/fixtures/config/three-mistakes.yaml";
  auto r = RunProcess({kBinary, "check", "--config", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  auto lines = Lines(r.err);
  std::vector<std::string> errors;
  for (const auto& line : lines) {
    if (Contains(line, ": error: ")) errors.push_back(line);
  }
  ASSERT_EQ(errors.size(), 3u) << r.err;
  EXPECT_EQ(errors[0], file +
                           ":5:5: error: sources[0].intreval: unknown key 'intreval' (did you "
                           "mean 'interval'?)");
  EXPECT_EQ(errors[1], file +
                           ":8:14: error: sources[1].timeout: invalid duration '30x' (write a "
                           "number and a unit: 90s, 5m, 1h, 1h30m)");
  EXPECT_EQ(errors[2], file +
                           ":9:11: error: sources[2].name: duplicate source name 'bbc-asia' "
                           "(first defined at " +
                           file + ":3)");
  EXPECT_EQ(lines.back(), file + ": 3 errors");
}

TEST(CliTest, CheckOnAMissingFileIsAConfigError) {
  auto r = RunProcess({kBinary, "check", "--config", "/nonexistent/newsmon.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "/nonexistent/newsmon.yaml: error: cannot read the config file"))
      << r.err;
}

TEST(CliTest, ConfigPathComesFromTheEnvironmentToo) {
  TempDir dir;
  auto r = RunProcess({kBinary, "check"}, {"NEWSMON_CONFIG=" + WriteConfig(dir)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, ": OK (1 sources, 1 enabled; 0 rule files, 0 rules; 1 sinks)"))
      << r.out;
}

TEST(CliTest, VersionPrintsTheVersion) {
  auto r = RunProcess({kBinary, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "newsmon 0.1.0\n");
}

TEST(CliTest, EverySubcommandHasHelpWithExamples) {
  for (std::string sub : {"run", "check"}) {
    auto r = RunProcess({kBinary, sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_TRUE(Contains(r.out, "Examples:\n  newsmon " + sub + " --config")) << r.out;
    EXPECT_TRUE(Contains(r.out, "--config")) << r.out;
  }
  auto top = RunProcess({kBinary, "--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_TRUE(Contains(top.out, "Exit codes: 0 success, 1 runtime failure, 2 invalid usage"));
}

TEST(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunProcess({kBinary}).exit_code, 2);
  EXPECT_EQ(RunProcess({kBinary, "frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunProcess({kBinary, "check", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(RunProcess({kBinary, "--log-level", "loud", "check"}).exit_code, 2);
}

// Selectors and date formats are checked when the config is, not at the first poll.
TEST(CliTest, CheckReportsABadHtmlSelectorAndDateFormatWithTheSourceLine) {
  TempDir dir;
  auto config = dir.Write("newsmon.yaml",
                          "state_dir: state\n"
                          "rules: []\n"
                          "sources:\n"
                          "  - name: page\n"
                          "    url: https://example.org/\n"
                          "    kind: html\n"
                          "    html: {item: li, title: \"div > )\"}\n"
                          "  - name: dates\n"
                          "    url: https://example.org/news\n"
                          "    kind: html\n"
                          "    html: {item: li, title: a, date_format: \"%d %Q\"}\n")
                    .string();
  auto r = RunProcess({kBinary, "check", "--config", config});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            config +
                ":4: error: sources.page: html.title: unexpected ')' at offset 7 in 'div > )'\n" +
                config +
                ":8: error: sources.dates: html.date_format '%d %Q' in time zone 'UTC': unknown "
                "directive '%Q' in date format '%d %Q'\n" +
                config + ": 2 errors\n");
}

TEST(CliTest, RunRefusesAnInvalidConfig) {
  auto r = RunProcess(
      {kBinary, "run", "--config", kSourceDir + "/tests/fixtures/config/three-mistakes.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "newsmon: not starting: 3 config errors")) << r.err;
}

// Starts the daemon, waits until it says it started, stops it with `signal`.
void StartAndStop(int signal, const std::string& signal_name) {
  TempDir dir;
  Child daemon({kBinary, "run", "--config", WriteConfig(dir)});
  ASSERT_TRUE(daemon.WaitForOutput(
      [](const std::string&, const std::string& err) { return Contains(err, " started: "); }, 10s))
      << daemon.err();
  daemon.Signal(signal);
  EXPECT_EQ(daemon.Wait(10s), 0) << daemon.err();
  EXPECT_TRUE(Contains(daemon.err(), "received " + signal_name + ", stopping")) << daemon.err();
  EXPECT_TRUE(Contains(daemon.err(), "1 sources (1 enabled), 0 rules in 0 files, 1 sinks"));
  struct stat st {};
  EXPECT_EQ(::stat((dir.path() / "state").c_str(), &st), 0) << "state_dir not created";
}

TEST(CliTest, RunStopsCleanlyOnSigterm) { StartAndStop(SIGTERM, "SIGTERM"); }
TEST(CliTest, RunStopsCleanlyOnSigint) { StartAndStop(SIGINT, "SIGINT"); }

TEST(CliTest, RunLogsJsonLinesWhenAsked) {
  TempDir dir;
  Child daemon({kBinary, "run", "--config", WriteConfig(dir, "log:\n  format: json\n")});
  ASSERT_TRUE(daemon.WaitForOutput(
      [](const std::string&, const std::string& err) { return Contains(err, " started: "); }, 10s))
      << daemon.err();
  daemon.Signal(SIGTERM);
  ASSERT_EQ(daemon.Wait(10s), 0);
  auto lines = Lines(daemon.err());
  ASSERT_GE(lines.size(), 3u);
  for (const auto& line : lines) {
    auto entry = nlohmann::json::parse(line);  // throws (fails) on a non-JSON line
    EXPECT_TRUE(entry.contains("ts") && entry.contains("level") && entry.contains("msg"));
  }
  EXPECT_EQ(nlohmann::json::parse(lines.back())["msg"], "stopped");
}

TEST(CliTest, LogLevelFlagOverridesTheConfig) {
  TempDir dir;
  Child daemon({kBinary, "run", "--config", WriteConfig(dir, "log:\n  level: error\n"),
                "--log-level", "debug"});
  ASSERT_TRUE(daemon.WaitForOutput(
      [](const std::string&, const std::string& err) { return Contains(err, " started: "); }, 10s))
      << daemon.err();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(10s), 0);
  EXPECT_TRUE(Contains(daemon.err(), "debug source example: http://127.0.0.1:9/feed.xml every 5m"))
      << daemon.err();
}

// The daemon polls a feed (served by this test on 127.0.0.1), logs the match and delivers
// it to the default log sink; the outbox is empty afterwards, and a restart does not alert
// again.
TEST(CliTest, RunPollsTheSourcesAndLogsMatches) {
  test::TestHttpServer server;
  server.Handle("/feed.xml",
                test::Reply::Text(200,
                                  "<rss version=\"2.0\"><channel><title>T</title>"
                                  "<item><title>Astana hosts the Middle Corridor summit</title>"
                                  "<link>https://news.example.kz/1</link></item>"
                                  "<item><title>Weather</title></item></channel></rss>"));
  TempDir dir;
  dir.Write("rules/corridor.yaml", "rules:\n  - name: corridor\n    keywords: [Middle Corridor]\n");
  auto config = dir.Write("newsmon.yaml",
                          "state_dir: state\nlisten: 127.0.0.1:0\n"
                          "rules: [rules/*.yaml]\n"
                          "sources:\n"
                          "  - name: steppe\n"
                          "    url: " +
                              server.Url("/feed.xml") +
                              "\n"
                              "    interval: 10s\n"
                              "    backfill: true\n"
                              "    allow_private_networks: [127.0.0.1/32]\n");
  Child daemon({kBinary, "run", "--config", config.string()});
  // The first poll comes within the interval (spread with jitter).
  ASSERT_TRUE(daemon.WaitForOutput(
      [](const std::string&, const std::string& err) { return Contains(err, "alert ["); }, 30s))
      << daemon.err();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(10s), 0);
  EXPECT_TRUE(Contains(daemon.err(),
                       "match [corridor] source steppe: Astana hosts the Middle Corridor summit — "
                       "https://news.example.kz/1"))
      << daemon.err();
  EXPECT_TRUE(Contains(daemon.err(),
                       "alert [corridor] (warning) source steppe: Astana hosts the Middle "
                       "Corridor summit — https://news.example.kz/1 (delivery nm_"))
      << daemon.err();
  EXPECT_FALSE(Contains(daemon.err(), "Weather"));

  auto pending = RunProcess({kBinary, "outbox", "list", "--config", config.string()});
  EXPECT_EQ(pending.exit_code, 0) << pending.err;
  EXPECT_EQ(pending.out, "0 pending\n");

  // A restart polls again (when the first run's next poll is due) and finds nothing new.
  Child again({kBinary, "run", "--config", config.string(), "--log-level", "debug"});
  ASSERT_TRUE(again.WaitForOutput(
      [](const std::string&, const std::string& err) { return Contains(err, "next poll in"); },
      30s))
      << again.err();
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(10s), 0);
  EXPECT_TRUE(Contains(again.err(), "source steppe: ok in")) << again.err();
  EXPECT_TRUE(Contains(again.err(), "2 items, 0 new, 0 alerts queued")) << again.err();
  EXPECT_FALSE(Contains(again.err(), "alert [")) << again.err();
}

// A state database that is not one stops the daemon with exit 1, naming the file, and
// leaves the file as it was.
TEST(CliTest, RunRefusesADamagedStateDatabase) {
  TempDir dir;
  auto db = dir.Write("state/newsmon.db", std::string(8192, 'x'));
  auto config = dir.Write("newsmon.yaml", "state_dir: state\nlisten: 127.0.0.1:0\n");
  auto result = RunProcess({kBinary, "run", "--config", config.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(Contains(result.err, "state database " + db.string())) << result.err;
  EXPECT_TRUE(Contains(result.err, "move it aside")) << result.err;
  EXPECT_EQ(std::filesystem::file_size(db), 8192U);
}

// `sink test` on a log sink logs a marked test alert; an unknown sink is a usage error.
TEST(CliTest, SinkTestOnTheLogSink) {
  TempDir dir;
  auto config = dir.Write("newsmon.yaml", "state_dir: state\nlisten: 127.0.0.1:0\n");
  auto result = RunProcess({kBinary, "sink", "test", "--config", config.string(), "log"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(Contains(result.out,
                       "test alert [newsmon-test] (info) source newsmon-test: "
                       "newsmon test alert"))
      << result.out;
  auto unknown = RunProcess({kBinary, "sink", "test", "--config", config.string(), "slack"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "no sink named 'slack'")) << unknown.err;
}

// A webhook that refuses the payload: the alert is dead-lettered; `outbox list --dead`
// shows it with the answer, `outbox retry --dead` queues it again under the same delivery
// id, and `sink test` reports the refusal with exit 1.
TEST(CliTest, DeadLettersAreListedAndRetried) {
  test::TestHttpServer feed;
  feed.Handle("/feed.xml", test::Reply::Text(200,
                                             "<rss version=\"2.0\"><channel><title>T</title>"
                                             "<item><title>Middle Corridor news</title>"
                                             "<guid>g1</guid></item></channel></rss>"));
  test::TestHttpServer hook({.address = "127.0.0.2"});
  hook.Handle("/hook", test::Reply::Text(400, "unknown field 'x'"));
  TempDir dir;
  dir.Write("rules/corridor.yaml", "rules:\n  - name: corridor\n    keywords: [Middle Corridor]\n");
  auto config = dir.Write("newsmon.yaml",
                          "state_dir: state\nlisten: 127.0.0.1:0\n"
                          "rules: [rules/*.yaml]\n"
                          "sinks:\n"
                          "  - name: hook\n"
                          "    kind: webhook\n"
                          "    url: " +
                              hook.Url("/hook") +
                              "\n"
                              "sources:\n"
                              "  - name: steppe\n"
                              "    url: " +
                              feed.Url("/feed.xml") +
                              "\n"
                              "    interval: 10s\n"
                              "    backfill: true\n"
                              "    allow_private_networks: true\n");
  Child daemon({kBinary, "run", "--config", config.string()});
  ASSERT_TRUE(daemon.WaitForOutput(
      [](const std::string&, const std::string& err) { return Contains(err, "dead-lettered"); },
      30s))
      << daemon.err();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(10s), 0);
  EXPECT_TRUE(Contains(daemon.err(), "HTTP 400")) << daemon.err();
  EXPECT_TRUE(Contains(daemon.err(), "unknown field 'x'")) << daemon.err();
  EXPECT_FALSE(Contains(daemon.err(), "/hook")) << "the sink's URL path is not logged";

  auto dead =
      RunProcess({kBinary, "outbox", "list", "--dead", "--json", "--config", config.string()});
  ASSERT_EQ(dead.exit_code, 0) << dead.err;
  auto entry = nlohmann::json::parse(dead.out.substr(0, dead.out.find('\n')));
  EXPECT_EQ(entry["sink"], "hook");
  EXPECT_EQ(entry["source"], "steppe");
  EXPECT_EQ(entry["title"], "Middle Corridor news");
  EXPECT_EQ(entry["status"], 400);
  EXPECT_EQ(entry["attempts"], 1);
  std::string delivery_id = entry["delivery_id"];
  EXPECT_EQ(delivery_id, hook.Requests().at(0).Header("webhook-id").value_or(""));

  auto retry = RunProcess(
      {kBinary, "outbox", "retry", "--dead", "--sink", "hook", "--config", config.string()});
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(retry.out, "1 dead letter back in the outbox\n");
  auto pending = RunProcess({kBinary, "outbox", "list", "--json", "--config", config.string()});
  ASSERT_EQ(pending.exit_code, 0) << pending.err;
  auto queued = nlohmann::json::parse(pending.out.substr(0, pending.out.find('\n')));
  EXPECT_EQ(queued["delivery_id"], delivery_id);
  EXPECT_EQ(queued["attempts"], 0);
  auto none = RunProcess({kBinary, "outbox", "list", "--dead", "--config", config.string()});
  EXPECT_EQ(none.out, "0 dead letters\n");
  auto usage = RunProcess({kBinary, "outbox", "retry", "--config", config.string()});
  EXPECT_EQ(usage.exit_code, 2);

  auto test = RunProcess({kBinary, "sink", "test", "--config", config.string(), "hook"});
  EXPECT_EQ(test.exit_code, 1);
  EXPECT_TRUE(Contains(test.err, "sink hook: not delivered: ")) << test.err;
  EXPECT_TRUE(Contains(test.err, "HTTP 400")) << test.err;
  auto body = nlohmann::json::parse(hook.Requests().back().body);
  EXPECT_EQ(body["type"], "newsmon.test");
}

TEST(CliTest, RunFailsWithExitOneWhenTheStateDirIsUnusable) {
  TempDir dir;
  dir.Write("blocker", "a file where the state directory's parent should be");
  auto config = dir.Write("newsmon.yaml",
                          "state_dir: blocker/state\nrules: []\nsources:\n  - name: x\n"
                          "    url: https://example.org/\n");
  auto r = RunProcess({kBinary, "run", "--config", config.string()}, {}, 10s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      Contains(r.err, "cannot create state directory " + (dir.path() / "blocker/state").string()))
      << r.err;
}

}  // namespace
}  // namespace newsmon
