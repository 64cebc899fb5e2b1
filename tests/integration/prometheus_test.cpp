// The monitoring assets against the real thing: a `newsmon run` process polls two feeds
// (which publish a new matching story at every poll) and delivers to a webhook, a real
// Prometheus scrapes its /metrics every second under job "newsmon" and loads
// config/prometheus/newsmon-alerts.yml. Then:
//   - every query of every panel of config/grafana/newsmon.json, with Grafana's variables
//     substituted ($__rate_interval → 1m, $__range → 1h, $source and $rule → .*), returns a
//     non-empty result with at least one number that is not NaN (a histogram quantile of no
//     observations is NaN: the daemon has not recorded anything there yet);
//   - the dashboard's variables (label_values(METRIC, LABEL)) have values;
//   - /api/v1/rules lists every rule of the rule file with health "ok".
// A failure names the panel and the query (as sent) and shows Prometheus's last answer.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/alertmanager.h"
#include "tests/support/free_port.h"
#include "tests/support/http_server.h"
#include "tests/support/prometheus.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using test::Child;
using test::Reply;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;
const std::string kSourceDir = NEWSMON_SOURCE_DIR;
const std::string kDashboard = kSourceDir + "/config/grafana/newsmon.json";
const std::string kAlertRules = kSourceDir + "/config/prometheus/newsmon-alerts.yml";

// What the test puts for Grafana's variables. $__rate_interval is at least 4 scrape
// intervals in Grafana; 1m holds enough 1 s samples for every rate.
const std::vector<std::pair<std::string, std::string>> kVariables = {
    {"$__rate_interval", "1m"},
    {"${__rate_interval}", "1m"},
    {"$__interval", "15s"},
    {"${__interval}", "15s"},
    {"$__range_s", "3600"},
    {"$__range", "1h"},
    {"${__range}", "1h"},
    {"${source}", ".*"},
    {"$source", ".*"},
    {"${rule}", ".*"},
    {"$rule", ".*"},
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Substitute(std::string expr) {
  for (const auto& [name, value] : kVariables) {
    for (auto at = expr.find(name); at != std::string::npos; at = expr.find(name, at)) {
      expr.replace(at, name.size(), value);
      at += value.size();
    }
  }
  return expr;
}

// A feed that publishes one more story at every request, newest first, dated now: every
// poll brings a new item that the `corridor` rule matches, so there is always something
// being delivered while Prometheus watches.
class GrowingFeed {
 public:
  explicit GrowingFeed(std::string name) : name_(std::move(name)) {}

  Reply Serve() {
    std::lock_guard lock(mutex_);
    ++published_;
    const std::time_t now = std::time(nullptr);
    char date[64];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>" + name_ +
        "</title><link>https://news.example/" + name_ + "</link>";
    for (int n = published_; n >= 1; --n) {
      const std::string id = name_ + "-" + std::to_string(n);
      xml += "<item><title>Middle Corridor freight story " + std::to_string(n) + " from " + name_ +
             "</title><link>https://news.example/" + id + "</link><guid>" + id +
             "</guid><pubDate>" + date + "</pubDate></item>";
    }
    return Reply::Text(200, xml + "</channel></rss>", {{"Content-Type", "application/rss+xml"}});
  }

 private:
  std::mutex mutex_;
  std::string name_;
  int published_ = 0;
};

std::string WriteConfig(const TempDir& dir, std::uint16_t listen_port,
                        const test::TestHttpServer& feeds, const test::TestHttpServer& hook) {
  dir.Write("rules.yaml",
            "rules:\n"
            "  - name: corridor\n"
            "    keywords: [Middle Corridor]\n"
            "  - name: freight\n"
            "    keywords: [freight]\n");
  std::string yaml =
      "state_dir: state\n"
      "listen: 127.0.0.1:" +
      std::to_string(listen_port) +
      "\n"
      "rules: [rules.yaml]\n"
      "log:\n  level: info\n  format: json\n"
      "sinks:\n"
      "  - name: hook\n"
      "    kind: webhook\n"
      "    url: " +
      hook.Url("/hook") +
      "\n"
      "    timeout: 5s\n"
      "sources:\n";
  for (const std::string name : {"feed-a", "feed-b"}) {
    yaml += "  - name: " + name + "\n    url: " + feeds.Url("/" + name) +
            "\n"
            "    interval: 10s\n"
            "    timeout: 5s\n"
            "    backfill: true\n"
            "    allow_private_networks: true\n";
  }
  return dir.Write("newsmon.yaml", yaml).string();
}

// One query of one panel.
struct PanelQuery {
  std::string panel;
  std::string ref_id;
  std::string expr;  // variables substituted
};

std::vector<PanelQuery> DashboardQueries(const json& dashboard) {
  std::vector<PanelQuery> queries;
  std::function<void(const json&)> add = [&](const json& panels) {
    for (const auto& panel : panels) {
      if (panel.contains("panels")) add(panel["panels"]);  // a collapsed row's panels
      if (!panel.contains("targets")) continue;
      for (const auto& target : panel["targets"]) {
        queries.push_back({panel.value("title", "(untitled)"), target.value("refId", "?"),
                           Substitute(target.value("expr", ""))});
      }
    }
  };
  add(dashboard.value("panels", json::array()));
  return queries;
}

// Names of every alert and recording rule in the rule file ("- alert: X", "- record: X").
std::set<std::string> RuleNames(const std::string& yaml) {
  std::set<std::string> names;
  static const std::regex kRule(R"(^\s*-\s*(alert|record):\s*(\S+)\s*$)");
  std::istringstream lines(yaml);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kRule)) names.insert(m[2]);
  }
  return names;
}

// How a query answer looks: "" when it has data with a number, else what is missing.
std::string JudgeAnswer(const test::LoopbackAnswer& answer) {
  if (answer.status != 200) return "HTTP status " + std::to_string(answer.status);
  auto body = json::parse(answer.body, nullptr, false);
  if (!body.is_object() || body.value("status", "") != "success") return "not a success";
  const auto& data = body["data"];
  const std::string type = data.value("resultType", "");
  const auto& result = data["result"];
  auto is_number = [](const json& pair) {
    if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) return false;
    const std::string text = pair[1].get<std::string>();
    return text != "NaN" && !std::isnan(std::strtod(text.c_str(), nullptr));
  };
  if (type == "scalar") return is_number(result) ? "" : "a NaN scalar";
  if (type != "vector" && type != "matrix") return "result type " + type;
  if (!result.is_array() || result.empty()) return "an empty result";
  for (const auto& series : result) {
    if (series.contains("value") && is_number(series["value"])) return "";
    if (series.contains("values")) {
      for (const auto& pair : series["values"]) {
        if (is_number(pair)) return "";
      }
    }
  }
  return "only NaN values";
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    feed_a_ = std::make_unique<GrowingFeed>("feed-a");
    feed_b_ = std::make_unique<GrowingFeed>("feed-b");
    feeds_ = std::make_unique<test::TestHttpServer>();
    feeds_->Handle("/feed-a", [this](const test::ReceivedRequest&) { return feed_a_->Serve(); });
    feeds_->Handle("/feed-b", [this](const test::ReceivedRequest&) { return feed_b_->Serve(); });
    hook_ = std::make_unique<test::TestHttpServer>(test::HttpServerOptions{.address = "127.0.0.2"});
    hook_->Handle("/hook", [this](const test::ReceivedRequest&) {
      deliveries_.fetch_add(1);
      return Reply::Text(200, "ok\n");
    });
  }

  void TearDown() override {
    if (prometheus_) prometheus_->Stop();
    if (daemon_) {
      daemon_->Signal(SIGTERM);
      daemon_->Wait(20s);
    }
    hook_->Stop();
    feeds_->Stop();
  }

  // Starts `newsmon run` with its admin server on a free port: "" once GET /metrics answers
  // 200 there, else why not.
  std::string StartDaemon(std::uint16_t port) {
    config_ = WriteConfig(dir_, port, *feeds_, *hook_);
    daemon_ =
        std::make_unique<Child>(std::vector<std::string>{kBinary, "run", "--config", config_});
    if (daemon_->WaitUntil([&] { return test::LoopbackGet(port, "/metrics", 500ms).status == 200; },
                           20s)) {
      return "";
    }
    daemon_->Signal(SIGTERM);
    const int code = daemon_->Wait(10s);
    // The log names the reason, "address already in use" included (then another port is
    // tried).
    std::string failure = "GET /metrics did not answer 200 within 20 s (exit code " +
                          std::to_string(code) + "); log: " + daemon_->err();
    daemon_.reset();
    return failure;
  }

  TempDir dir_;
  std::unique_ptr<GrowingFeed> feed_a_, feed_b_;
  std::atomic<int> deliveries_{0};
  // Declared after what their handlers use; stopped in TearDown before those go.
  std::unique_ptr<test::TestHttpServer> feeds_, hook_;
  std::string config_;
  std::unique_ptr<Child> daemon_;
  std::unique_ptr<test::Prometheus> prometheus_;
};

TEST_F(PrometheusTest, EveryPanelQueryReturnsDataAndEveryRuleIsHealthy) {
  auto dashboard = json::parse(ReadFile(kDashboard), nullptr, false);
  ASSERT_TRUE(dashboard.is_object()) << kDashboard << " is not JSON";
  const auto queries = DashboardQueries(dashboard);
  ASSERT_GE(queries.size(), 10u) << "the dashboard has too few queries";
  const auto rule_names = RuleNames(ReadFile(kAlertRules));
  ASSERT_GE(rule_names.size(), 7u) << "too few rules read from " << kAlertRules;

  std::string error;
  const std::uint16_t port = test::StartOnFreePort(
      "newsmon", [&](std::uint16_t p) { return StartDaemon(p); }, error);
  ASSERT_NE(port, 0) << "newsmon run did not serve /metrics (is the admin server wired?): "
                     << error;

  auto prometheus_dir = dir_.path() / "prometheus";
  std::filesystem::create_directories(prometheus_dir);
  prometheus_ = std::make_unique<test::Prometheus>(
      prometheus_dir, test::PrometheusOptions{.targets = {"127.0.0.1:" + std::to_string(port)},
                                              .rule_files = {kAlertRules}});
  ASSERT_TRUE(prometheus_->ok()) << prometheus_->error();

  // Polls and deliveries keep coming (a new story every poll); wait for the first of them.
  ASSERT_TRUE(daemon_->WaitUntil([&] { return deliveries_.load() > 0; }, 30s))
      << "no delivery within 30 s\n"
      << daemon_->err();

  // Prometheus scrapes the daemon.
  std::string up_answer;
  ASSERT_TRUE(daemon_->WaitUntil(
      [&] {
        auto answer = prometheus_->Query("up{job=\"newsmon\"} == 1");
        up_answer = answer.body;
        return JudgeAnswer(answer).empty();
      },
      30s))
      << "Prometheus does not scrape newsmon: " << up_answer << "\n"
      << prometheus_->Log();

  // Every panel query, each until it has data or the shared deadline passes.
  const auto deadline = Clock::now() + 90s;
  for (const auto& query : queries) {
    ASSERT_EQ(query.expr.find('$'), std::string::npos)
        << "panel \"" << query.panel << "\" query " << query.ref_id
        << " uses a variable this test does not substitute: " << query.expr;
    std::string verdict = "not run";
    std::string body;
    daemon_->WaitUntil(
        [&] {
          auto answer = prometheus_->Query(query.expr);
          body = answer.body;
          verdict = JudgeAnswer(answer);
          return verdict.empty();
        },
        std::max<milliseconds>(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()),
                               1ms));
    EXPECT_EQ(verdict, "") << "panel \"" << query.panel << "\" query " << query.ref_id
                           << " returned " << verdict << ": " << query.expr
                           << "\nlast answer: " << body;
  }

  // The template variables: label_values(METRIC, LABEL) must find values.
  static const std::regex kLabelValues(R"(^label_values\(\s*([^,]+?)\s*,\s*(\w+)\s*\)$)");
  for (const auto& variable : dashboard["templating"]["list"]) {
    if (variable.value("type", "") != "query") continue;
    const std::string query = variable["query"].is_string() ? variable["query"].get<std::string>()
                                                            : variable["query"].value("query", "");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(query, m, kLabelValues))
        << "variable " << variable.value("name", "") << ": not label_values(M, L): " << query;
    auto answer = prometheus_->Get("/api/v1/label/" + m[2].str() +
                                   "/values?match[]=" + test::QueryEncode(m[1].str()));
    auto body = json::parse(answer.body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body["data"].is_array() && !body["data"].empty())
        << "variable " << variable.value("name", "") << " (" << query
        << ") has no values: " << answer.body;
  }

  // The alert rules: all loaded, all evaluated without error.
  std::map<std::string, std::string> health;  // rule → health (lastError when not ok)
  std::string rules_body;
  daemon_->WaitUntil(
      [&] {
        auto answer = prometheus_->Get("/api/v1/rules");
        rules_body = answer.body;
        auto body = json::parse(answer.body, nullptr, false);
        if (!body.is_object() || !body["data"].is_object()) return false;
        health.clear();
        for (const auto& group : body["data"].value("groups", json::array())) {
          for (const auto& rule : group.value("rules", json::array())) {
            std::string state = rule.value("health", "");
            if (state != "ok") state += " " + rule.value("lastError", "");
            health[rule.value("name", "")] = state;
          }
        }
        for (const auto& name : rule_names) {
          if (!health.contains(name) || health[name] != "ok") return false;
        }
        return true;
      },
      30s);
  for (const auto& name : rule_names) {
    auto it = health.find(name);
    if (it == health.end()) {
      ADD_FAILURE() << "rule " << name << " is not listed by /api/v1/rules: " << rules_body;
    } else {
      EXPECT_EQ(it->second, "ok") << "rule " << name;
    }
  }
}

}  // namespace
}  // namespace newsmon
