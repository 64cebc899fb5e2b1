// The alertmanager sink against the real Alertmanager on 127.0.0.1: alerts sent with
// alert::Send come back from its API with the labels and annotations we documented, one
// alert per (story, rule), and a repeated delivery does not add one.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/alert/alert.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "tests/support/alertmanager.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

namespace asio = boost::asio;
using alert::DeliveryResult;
using alert::DeliveryStatus;
using nlohmann::json;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

core::Alert StoryAlert(std::string delivery_id, std::string id, std::string title) {
  core::Alert alert;
  alert.delivery_id = std::move(delivery_id);
  alert.sink = "am";
  alert.source = "caliber-az";
  alert.source_url = "https://caliber.az/en/rss";
  alert.item.id = std::move(id);
  alert.item.title = std::move(title);
  alert.item.link = alert.item.id;
  alert.item.summary = "Ministers met in Baku.";
  alert.first_seen = core::SystemClock().Now();
  return alert;
}

class AlertmanagerTest : public ::testing::Test {
 protected:
  // Runs `task` on the test's io_context until it completes; fails the test after `limit`.
  template <typename T>
  std::optional<T> Run(asio::awaitable<T> task, milliseconds limit = 30s) {
    std::optional<T> result;
    std::exception_ptr thrown;
    asio::co_spawn(ioc_, std::move(task), [&](std::exception_ptr e, T value) {
      thrown = e;
      if (!e) result = std::move(value);
    });
    ioc_.restart();
    const auto deadline = SteadyClock::now() + limit;
    // Idle pooled connections keep the io_context busy: run until the result, not empty.
    while (!result && !thrown && ioc_.run_one_until(deadline) > 0) {
    }
    if (thrown) std::rethrow_exception(thrown);
    if (!result) ADD_FAILURE() << "did not complete within " << limit.count() << " ms";
    return result;
  }

  // GET /api/v2/alerts until it lists `count` alerts or `limit` passes; the last list.
  asio::awaitable<json> AlertsWhenThere(std::string url, std::size_t count, milliseconds limit) {
    const auto deadline = SteadyClock::now() + limit;
    json alerts = json::array();
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (true) {
      net::HttpRequest request;
      request.url = url;
      request.timeout = 5s;
      request.policy = net::AddressPolicy::AllowAll();
      net::HttpResult result = co_await client_.Fetch(std::move(request));
      if (result.ok() && result.response.status == 200) {
        alerts = json::parse(result.response.body, nullptr, false);
        if (alerts.is_array() && alerts.size() >= count) co_return alerts;
      }
      if (SteadyClock::now() >= deadline) co_return alerts;
      timer.expires_after(50ms);  // the poll interval, bounded by the deadline above
      co_await timer.async_wait(asio::use_awaitable);
    }
  }

  asio::io_context ioc_;
  std::unique_ptr<net::Resolver> resolver_ = net::MakeResolver(ioc_.get_executor());
  net::HttpClient client_{ioc_.get_executor(), *resolver_};
  core::SystemClock clock_;
};

TEST_F(AlertmanagerTest, AlertsArriveWithLabelsAndAnnotations) {
  test::TempDir dir;
  test::Alertmanager alertmanager(dir.path());
  ASSERT_TRUE(alertmanager.ok()) << alertmanager.error();

  core::SinkSpec sink;
  sink.name = "am";
  sink.kind = core::SinkKind::kAlertmanager;
  sink.url = alertmanager.Url("/");  // the trailing slash must not double up
  sink.labels = {{"env", "test"}, {"team", "ops"}};
  sink.timeout = 10s;

  core::Alert corridor =
      StoryAlert("nm_aaaaaaaaaaaaaaaaaaaaaaaaaa", "https://caliber.az/en/post/1", "Corridor deal");
  corridor.rules = {
      core::RuleHit{.rule = "corridor",
                    .severity = core::RuleSeverity::kCritical,
                    .labels = {{"team", "desk"}, {"region", "caucasus"}}},
      core::RuleHit{.rule = "baku", .severity = core::RuleSeverity::kInfo},
  };
  core::Alert gas =
      StoryAlert("nm_bbbbbbbbbbbbbbbbbbbbbbbbbb", "https://caliber.az/en/post/2", "Gas prices");
  gas.rules = {core::RuleHit{
      .rule = "energy", .severity = core::RuleSeverity::kWarning, .labels = {{"topic", "gas"}}}};

  for (const core::Alert* alert : {&corridor, &gas, &corridor}) {  // the last one a retry
    auto result = Run(alert::Send(client_, sink, *alert, clock_));
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, DeliveryStatus::kDelivered) << result->message;
    EXPECT_EQ(result->http_status, 200);
  }

  auto alerts = Run(AlertsWhenThere(alertmanager.Url("/api/v2/alerts"), 3, 10s));
  ASSERT_TRUE(alerts);
  ASSERT_EQ(alerts->size(), 3u) << alerts->dump(2) << "\n" << alertmanager.Log();

  std::map<std::string, json> by_rule;
  for (const auto& entry : *alerts) by_rule[entry["labels"].value("rule", "")] = entry;
  ASSERT_EQ(by_rule.size(), 3u) << alerts->dump(2);

  const std::string story1 = by_rule["corridor"]["labels"].value("item", "");
  const std::string story2 = by_rule["energy"]["labels"].value("item", "");
  EXPECT_EQ(story1.size(), 12u);
  EXPECT_EQ(story2.size(), 12u);
  EXPECT_NE(story1, story2);

  EXPECT_EQ(by_rule["corridor"]["labels"], json({{"alertname", "NewsmonMatch"},
                                                 {"rule", "corridor"},
                                                 {"source", "caliber-az"},
                                                 {"severity", "critical"},
                                                 {"item", story1},
                                                 {"team", "ops"},
                                                 {"region", "caucasus"},
                                                 {"env", "test"}}));
  EXPECT_EQ(by_rule["baku"]["labels"], json({{"alertname", "NewsmonMatch"},
                                             {"rule", "baku"},
                                             {"source", "caliber-az"},
                                             {"severity", "info"},
                                             {"item", story1},
                                             {"team", "ops"},
                                             {"env", "test"}}));
  EXPECT_EQ(by_rule["energy"]["labels"], json({{"alertname", "NewsmonMatch"},
                                               {"rule", "energy"},
                                               {"source", "caliber-az"},
                                               {"severity", "warning"},
                                               {"item", story2},
                                               {"topic", "gas"},
                                               {"team", "ops"},
                                               {"env", "test"}}));

  for (const auto& [rule, entry] : by_rule) {
    SCOPED_TRACE(rule);
    const core::Alert& sent = rule == "energy" ? gas : corridor;
    const json& annotations = entry["annotations"];
    EXPECT_EQ(annotations.value("title", ""), sent.item.title);
    EXPECT_EQ(annotations.value("link", ""), *sent.item.link);
    EXPECT_EQ(annotations.value("summary", ""), *sent.item.summary);
    EXPECT_EQ(annotations.value("delivery_id", ""), sent.delivery_id);
    EXPECT_EQ(entry.value("generatorURL", ""), *sent.item.link);
    EXPECT_EQ(entry["status"].value("state", ""), "active");
    ASSERT_EQ(entry["receivers"].size(), 1u);
    EXPECT_EQ(entry["receivers"][0].value("name", ""), "blackhole");
  }
}

}  // namespace
}  // namespace newsmon
