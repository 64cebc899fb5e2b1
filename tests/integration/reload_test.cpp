// SIGHUP on the real daemon: a broken rule file keeps the old rules matching; a fixed one
// loads with the sources added meanwhile; nothing already alerted is alerted again.
#include <gtest/gtest.h>
#include <signal.h>

#include <mutex>
#include <string>

#include "tests/support/admin_scrape.h"
#include "tests/support/http_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::Contains;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;

std::size_t Count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// A feed whose items the test sets.
class Feed {
 public:
  Feed(test::TestHttpServer& server, std::string path) {
    server.Handle(path, [this](const test::ReceivedRequest&) {
      std::lock_guard lock(mutex_);
      ++requests_;
      std::string xml = "<rss version=\"2.0\"><channel><title>T</title>";
      for (std::size_t i = 0; i < titles_.size(); ++i) {
        xml +=
            "<item><title>" + titles_[i] + "</title><guid>" + std::to_string(i) + "</guid></item>";
      }
      return test::Reply::Text(200, xml + "</channel></rss>");
    });
  }
  void Publish(std::string title) {
    std::lock_guard lock(mutex_);
    titles_.push_back(std::move(title));
  }
  int requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;  // guards titles_, requests_ (the server's thread reads them)
  std::vector<std::string> titles_;
  int requests_ = 0;
};

std::string SourceYaml(const std::string& name, const std::string& url) {
  return "  - name: " + name + "\n    url: " + url +
         "\n    interval: 10s\n    backfill: true\n    allow_private_networks: true\n";
}

TEST(ReloadTest, BrokenRulesKeepTheOldOnesAndFixedOnesLoadWithNewSources) {
  test::TestHttpServer server;
  Feed first(server, "/first.xml");
  Feed second(server, "/second.xml");
  first.Publish("Middle Corridor one");
  TempDir dir;
  auto rules =
      dir.Write("rules/main.yaml", "rules:\n  - name: corridor\n    keywords: [Middle Corridor]\n");
  std::string head = "state_dir: state\nlisten: 127.0.0.1:0\nrules: [rules/*.yaml]\nsources:\n";
  auto config = dir.Write("newsmon.yaml", head + SourceYaml("first", server.Url("/first.xml")));
  Child daemon({kBinary, "run", "--config", config.string()});
  auto logged = [&](const std::string& text, std::size_t times = 1) {
    return daemon.WaitForOutput(
        [&](const std::string&, const std::string& err) { return Count(err, text) >= times; }, 40s);
  };
  ASSERT_TRUE(logged("alert [corridor] (warning) source first: Middle Corridor one"))
      << daemon.err();
  std::uint16_t port = test::AdminPort(daemon.err());
  ASSERT_NE(port, 0) << daemon.err();
  const std::string kReloadOk = "newsmon_config_last_reload_successful";
  EXPECT_EQ(test::Sample(test::HttpGet(port, "/metrics"), kReloadOk), 1);

  // A broken rule file: the reload fails, the old rules keep matching.
  dir.Write("rules/main.yaml",
            "rules:\n  - name: corridor\n    keywords: [\"(unclosed\"]\n"
            "    patterns: [\"(unclosed\"]\n");
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(logged("reload failed")) << daemon.err();
  EXPECT_TRUE(Contains(daemon.err(), "main.yaml")) << daemon.err();
  EXPECT_EQ(test::Sample(test::HttpGet(port, "/metrics"), kReloadOk), 0);
  first.Publish("Middle Corridor two");
  ASSERT_TRUE(logged("alert [corridor] (warning) source first: Middle Corridor two"))
      << daemon.err();

  // Fixed, with a new rule and a new source: both take effect.
  dir.Write("rules/main.yaml",
            "rules:\n  - name: corridor\n    keywords: [Middle Corridor]\n"
            "  - name: silk\n    keywords: [Silk Road]\n");
  dir.Write("newsmon.yaml", head + SourceYaml("first", server.Url("/first.xml")) +
                                SourceYaml("second", server.Url("/second.xml")));
  second.Publish("Silk Road news");
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(logged("reloaded: 2 sources (1 added, 0 changed, 0 removed), 2 rules"))
      << daemon.err();
  std::string metrics = test::HttpGet(port, "/metrics");
  EXPECT_EQ(test::Sample(metrics, kReloadOk), 1);
  EXPECT_EQ(test::Sample(metrics, "newsmon_rules_loaded"), 2);
  EXPECT_EQ(test::Sample(metrics, "newsmon_sources_configured"), 2);
  ASSERT_TRUE(logged("alert [silk] (warning) source second: Silk Road news")) << daemon.err();
  first.Publish("Silk Road and Middle Corridor");
  ASSERT_TRUE(
      logged("alert [corridor, silk] (warning) source first: Silk Road and Middle "
             "Corridor"))
      << daemon.err();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(15s), 0);
  // Nothing was alerted twice.
  for (std::string line :
       {"source first: Middle Corridor one — ", "source first: Middle Corridor two — ",
        "source second: Silk Road news — "}) {
    EXPECT_EQ(Count(daemon.err(), "(warning) " + line), 1U) << line;
  }
}

}  // namespace
}  // namespace newsmon
