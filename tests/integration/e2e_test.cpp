// End to end with the real daemon: an RSS feed and an HTML "Latest news" page on 127.0.0.1,
// a webhook receiver on 127.0.0.2. A new matching item on each arrives at the receiver
// exactly once with its rule and fields, /metrics counts it, and a restart sends nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/admin_scrape.h"
#include "tests/support/http_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;

std::size_t Count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// An hour ago, as the page writes dates and as RFC 3339 (both UTC, to the minute).
std::pair<std::string, std::string> AnHourAgo() {
  std::time_t t = std::time(nullptr) - 3600;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char page[64], rfc3339[64];
  std::strftime(page, sizeof page, "%d %B %Y - %H:%M", &tm);
  std::strftime(rfc3339, sizeof rfc3339, "%Y-%m-%dT%H:%M:00Z", &tm);
  return {page, rfc3339};
}

// What the feeds serve, set by the test (read on the server's thread).
struct Site {
  std::mutex mutex;
  std::vector<std::string> rss;   // item titles
  std::vector<std::string> page;  // headline titles
};

TEST(EndToEndTest, NewItemsArriveOnceAndAreCountedAndARestartSendsNothing) {
  const auto [page_date, published] = AnHourAgo();
  Site site;
  site.rss = {"Weather in Almaty", "Middle Corridor cargo grows"};
  site.page = {"Local football results"};
  test::TestHttpServer feeds;
  feeds.Handle("/rss.xml", [&](const test::ReceivedRequest&) {
    std::lock_guard lock(site.mutex);
    std::string xml = "<rss version=\"2.0\"><channel><title>Wire</title>";
    for (std::size_t i = 0; i < site.rss.size(); ++i) {
      xml += "<item><title>" + site.rss[i] + "</title><link>https://wire.example/" +
             std::to_string(i) + "</link></item>";
    }
    return test::Reply::Text(200, xml + "</channel></rss>");
  });
  feeds.Handle("/news.html", [&](const test::ReceivedRequest&) {
    std::lock_guard lock(site.mutex);
    std::string html = "<html><head><title>News</title></head><body><h2>Latest news</h2><ul>";
    for (std::size_t i = 0; i < site.page.size(); ++i) {
      html += "<li class=\"news\"><a href=\"/story/" + std::to_string(i) + "\">" + site.page[i] +
              "</a><span class=\"date\">" + page_date + "</span></li>";
    }
    return test::Reply::Text(200, html + "</ul></body></html>",
                             {{"Content-Type", "text/html; charset=utf-8"}});
  });
  test::TestHttpServer hook({.address = "127.0.0.2"});
  hook.Handle("/hook", test::Reply::Text(200, "ok"));

  TempDir dir;
  dir.Write("rules/corridor.yaml",
            "rules:\n  - name: corridor\n    severity: critical\n    keywords: [Middle "
            "Corridor]\n");
  auto config = dir.Write(
      "newsmon.yaml",
      "state_dir: state\nlisten: 127.0.0.1:0\nrules: [rules/*.yaml]\n"
      "sinks:\n  - name: hook\n    kind: webhook\n    url: " +
          hook.Url("/hook") +
          "\n    retry_backoff: 50ms\n"
          "defaults:\n  interval: 10s\n  allow_private_networks: true\n"
          "sources:\n"
          "  - name: wire\n    url: " +
          feeds.Url("/rss.xml") +
          "\n"
          "  - name: site\n    url: " +
          feeds.Url("/news.html") +
          "\n    kind: html\n    html:\n      item: li.news\n      title: a\n"
          "      link: a@href\n      date: .date\n      date_format: \"%d %B %Y - %H:%M\"\n"
          "      timezone: UTC\n");

  auto polls_of = [](const std::string& err, const std::string& source) {
    return Count(err, "source " + source + ": ok in ");
  };
  Child daemon({kBinary, "run", "--config", config.string(), "--log-level", "debug"});
  // First sight: what is already there is recorded, not alerted.
  ASSERT_TRUE(daemon.WaitForOutput(
      [&](const std::string&, const std::string& err) {
        return polls_of(err, "wire") >= 1 && polls_of(err, "site") >= 1;
      },
      30s))
      << daemon.err();
  std::uint16_t port = test::AdminPort(daemon.err());
  ASSERT_NE(port, 0) << daemon.err();
  EXPECT_TRUE(hook.Requests().empty());

  {
    std::lock_guard lock(site.mutex);
    site.rss.push_back("Kazakhstan joins the Middle Corridor");
    site.page.push_back("Baku hosts Middle Corridor summit");
  }
  // Within two poll intervals of publication.
  ASSERT_TRUE(daemon.WaitForOutput(
      [&](const std::string&, const std::string&) { return hook.Requests().size() >= 2; }, 25s))
      << daemon.err();
  std::size_t wire_polls = polls_of(daemon.err(), "wire");
  std::size_t site_polls = polls_of(daemon.err(), "site");
  ASSERT_TRUE(daemon.WaitForOutput(
      [&](const std::string&, const std::string& e) {
        return polls_of(e, "wire") > wire_polls && polls_of(e, "site") > site_polls;
      },
      30s))
      << daemon.err();
  auto requests = hook.Requests();
  ASSERT_EQ(requests.size(), 2U) << "each new match is sent exactly once";
  std::map<std::string, nlohmann::json> by_source;
  for (const auto& request : requests) {
    auto body = nlohmann::json::parse(request.body);
    by_source[body["source"]["name"]] = body;
  }
  ASSERT_EQ(by_source.size(), 2U);
  const auto& wire = by_source["wire"];
  EXPECT_EQ(wire["item"]["title"], "Kazakhstan joins the Middle Corridor");
  EXPECT_EQ(wire["item"]["link"], "https://wire.example/2");
  EXPECT_EQ(wire["rules"][0]["name"], "corridor");
  EXPECT_EQ(wire["rules"][0]["severity"], "critical");
  EXPECT_EQ(wire["rules"][0]["text"], "Middle Corridor");
  const auto& page = by_source["site"];
  EXPECT_EQ(page["item"]["title"], "Baku hosts Middle Corridor summit");
  EXPECT_EQ(page["item"]["link"], feeds.Url("/story/1"));
  EXPECT_EQ(page["item"]["published"], published);
  EXPECT_EQ(page["rules"][0]["name"], "corridor");

  std::string metrics = test::HttpGet(port, "/metrics");
  EXPECT_EQ(test::Sample(metrics, "newsmon_deliveries_total{result=\"delivered\",sink=\"hook\"}"),
            2)
      << metrics;
  EXPECT_EQ(test::Sample(metrics, "newsmon_rule_matches_total{rule=\"corridor\"}"), 2);
  EXPECT_EQ(test::Sample(metrics, "newsmon_source_matches_total{source=\"wire\"}"), 1);
  EXPECT_EQ(test::Sample(metrics, "newsmon_source_matches_total{source=\"site\"}"), 1);
  EXPECT_EQ(test::Sample(metrics, "newsmon_alert_latency_seconds_count{sink=\"hook\"}"), 2);
  EXPECT_EQ(test::Sample(metrics, "newsmon_outbox_pending{sink=\"hook\"}"), 0);
  // promtool finds nothing to say about a live scrape.
  auto exposition = dir.Write("scrape.txt", metrics.substr(metrics.find("\r\n\r\n") + 4));
  auto lint = test::RunProcess({"promtool", "check", "metrics"}, {}, 30s, exposition.string());
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  EXPECT_EQ(lint.out + lint.err, "");
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(15s), 0);

  // A restart polls both sources again and sends nothing.
  Child again({kBinary, "run", "--config", config.string(), "--log-level", "debug"});
  ASSERT_TRUE(again.WaitForOutput(
      [&](const std::string&, const std::string& e) {
        return polls_of(e, "wire") >= 1 && polls_of(e, "site") >= 1;
      },
      30s))
      << again.err();
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(15s), 0);
  EXPECT_EQ(hook.Requests().size(), 2U) << again.err();
}

}  // namespace
}  // namespace newsmon
