// Crash test: the real `newsmon run` process is killed with SIGKILL at random moments while
// its feeds publish a burst of new items and its webhook deliveries are in flight, then
// restarted on the same state directory. Afterwards every match must have been delivered,
// each item under one delivery id only (a second id would be a second alert: either a lost
// outbox row re-created from an item the store forgot it had seen, or an item alerted twice),
// and nothing may arrive that no feed ever served.
//
// The feeds are cumulative, as real ones are: an item served to a process that died before
// committing the poll is still in the feed at the next poll. The webhook answers by dripping
// its body, so a delivery takes a few hundred milliseconds and a kill often lands between
// the request and the end of the answer (the case where the daemon must send it again, under
// the same id). The kill moments come from a seeded generator: NEWSMON_CRASH_SEED=N replays
// a run's schedule (the daemon's own timing still varies).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/http_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using test::Child;
using test::Reply;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;

constexpr int kSources = 12;
constexpr int kGrowth = 4;     // new items a feed publishes with every response
constexpr int kMaxItems = 40;  // then it stops growing
constexpr int kKills = 24;
constexpr int kMinInFlightKills = 5;  // kills that must land while a delivery is unanswered
constexpr std::uint32_t kDefaultSeed = 20240917;
// The webhook's answer, one byte per interval: a delivery takes about 280 ms.
const std::string kAnswer = "accepted";
constexpr milliseconds kDripInterval{35};

std::uint32_t Seed() {
  const char* value = std::getenv("NEWSMON_CRASH_SEED");
  return value != nullptr ? static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10))
                          : kDefaultSeed;
}

// Requests to either server, so a run can wait until the daemon has done something.
class Activity {
 public:
  void Note() { count_.fetch_add(1); }
  std::uint64_t count() const { return count_.load(); }

 private:
  std::atomic<std::uint64_t> count_{0};
};

std::string ItemId(int source, int n) {
  return "s" + std::to_string(source) + "-item-" + std::to_string(n);
}

std::string ItemTitle(int source, int n) {
  return "Kazakhstan story " + std::to_string(n) + " from feed " + std::to_string(source);
}

// kSources RSS 2.0 feeds at /feed/0 .. /feed/N-1, each publishing kGrowth new items with
// every response (newest first) until it holds kMaxItems, and keeping every item it served.
class GrowingFeeds {
 public:
  explicit GrowingFeeds(Activity& activity) : activity_(activity), published_(kSources, 0) {}

  // Registers the feeds; `server` must stop before this object is destroyed.
  void ServeOn(test::TestHttpServer& server) {
    for (int source = 0; source < kSources; ++source) {
      server.Handle("/feed/" + std::to_string(source),
                    [this, source](const test::ReceivedRequest&) { return Serve(source); });
    }
  }

  // From now on every response is the same as the previous one.
  void StopGrowing() {
    std::lock_guard lock(mutex_);
    growing_ = false;
  }
  // Every item ever served: id → title.
  std::map<std::string, std::string> Served() const {
    std::lock_guard lock(mutex_);
    return served_;
  }
  std::size_t requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  Reply Serve(int source) {
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>"
        "<title>Feed " +
        std::to_string(source) + "</title><link>https://feeds.example.kz/" +
        std::to_string(source) + "</link>";
    {
      std::lock_guard lock(mutex_);
      int& count = published_[static_cast<std::size_t>(source)];
      if (growing_) count = std::min(kMaxItems, count + kGrowth);
      for (int n = count; n >= 1; --n) {
        const std::string id = ItemId(source, n);
        const std::string title = ItemTitle(source, n);
        served_.emplace(id, title);
        xml += "<item><title>" + title + "</title><guid isPermaLink=\"false\">" + id +
               "</guid></item>";
      }
      ++requests_;
    }
    activity_.Note();
    return Reply::Text(200, xml + "</channel></rss>", {{"Content-Type", "application/rss+xml"}});
  }

  Activity& activity_;
  mutable std::mutex mutex_;  // guards the members below (the server's thread writes them)
  std::vector<int> published_;
  std::map<std::string, std::string> served_;
  std::size_t requests_ = 0;
  bool growing_ = true;
};

// What the webhook receiver saw of one request and what it answered.
struct Receipt {
  std::string delivery_id;  // the body's
  std::string header_id;    // the webhook-id header
  std::string item_id;
  std::string title;
  int status = 0;              // what the receiver answered
  Clock::time_point at;        // the request was read
  Clock::time_point answered;  // the answer cannot have been complete before this
};

// A webhook endpoint at /hook that answers slowly (a dripped 200) and now and then 503.
class WebhookReceiver {
 public:
  WebhookReceiver(Activity& activity, std::uint32_t seed) : activity_(activity), random_(seed) {}

  // Registers /hook; `server` must stop before this object is destroyed.
  void ServeOn(test::TestHttpServer& server) {
    server.Handle("/hook",
                  [this](const test::ReceivedRequest& request) { return Answer(request); });
  }

  std::vector<Receipt> Receipts() const {
    std::lock_guard lock(mutex_);
    return receipts_;
  }

 private:
  Reply Answer(const test::ReceivedRequest& request) {
    Receipt receipt{.at = Clock::now()};
    receipt.header_id = request.Header("webhook-id").value_or("");
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_object()) {
      receipt.delivery_id = body.value("delivery_id", "");
      if (body.contains("item") && body["item"].is_object()) {
        receipt.item_id = body["item"].value("id", "");
        receipt.title = body["item"].value("title", "");
      }
    }
    Reply reply;
    {
      std::lock_guard lock(mutex_);
      // One in ten is refused, so retries (same id, after a backoff) meet kills too.
      if (std::uniform_int_distribution<int>(0, 9)(random_) == 0) {
        reply = Reply::Text(503, "busy\n");
        receipt.answered = receipt.at;
      } else {
        reply = Reply::Drip(kAnswer, kDripInterval);
        receipt.answered = receipt.at + kDripInterval * static_cast<int>(kAnswer.size());
      }
      receipt.status = reply.status;
      receipts_.push_back(std::move(receipt));
    }
    activity_.Note();
    return reply;
  }

  Activity& activity_;
  mutable std::mutex mutex_;  // guards receipts_ and random_ (the server's thread uses them)
  std::vector<Receipt> receipts_;
  std::mt19937 random_;
};

std::string WriteConfig(const TempDir& dir, const test::TestHttpServer& feeds,
                        const test::TestHttpServer& hook) {
  dir.Write("rules.yaml", "rules:\n  - name: kazakhstan\n    keywords: [Kazakhstan]\n");
  std::string yaml =
      "state_dir: state\nlisten: 127.0.0.1:0\n"
      "rules: [rules.yaml]\n"
      "log:\n  level: info\n  format: json\n"
      "polling:\n  max_per_host: " +
      std::to_string(kSources) +
      "\n"
      "sinks:\n"
      "  - name: hook\n"
      "    kind: webhook\n"
      "    url: " +
      hook.Url("/hook") +
      "\n"
      "    concurrency: 4\n"
      "    timeout: 2s\n"
      "    retry_backoff: 50ms\n"
      "    max_backoff: 500ms\n"
      "sources:\n";
  for (int source = 0; source < kSources; ++source) {
    yaml += "  - name: feed-" + std::to_string(source) +
            "\n    url: " + feeds.Url("/feed/" + std::to_string(source)) +
            "\n"
            "    interval: 10s\n"
            "    timeout: 5s\n"
            "    backfill: true\n"
            "    allow_private_networks: true\n";
  }
  return dir.Write("newsmon.yaml", yaml).string();
}

// The alerts `newsmon outbox list` shows, pending or (with `dead`) dead-lettered.
std::vector<nlohmann::json> Outbox(const std::string& config, bool dead) {
  std::vector<std::string> argv = {kBinary, "outbox", "list", "--json", "--config", config};
  if (dead) argv.push_back("--dead");
  auto r = test::RunProcess(argv, {}, 30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> alerts;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    alerts.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return alerts;
}

// The error and critical lines of a run's JSON log (a killed run's last line may be cut).
std::vector<std::string> ErrorLines(const std::string& log) {
  std::vector<std::string> errors;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    auto entry = nlohmann::json::parse(line, nullptr, false);
    if (!entry.is_object()) continue;
    const std::string level = entry.value("level", "");
    if (level == "error" || level == "critical") errors.push_back(line);
  }
  return errors;
}

TEST(CrashTest, SigkillsDuringABurstLoseAndRepeatNoAlert) {
  const std::uint32_t seed = Seed();
  std::mt19937 random(seed);
  Activity activity;
  GrowingFeeds feeds(activity);
  WebhookReceiver receiver(activity, seed);
  // Declared after what their handlers use, so they stop (joining their threads) first.
  test::TestHttpServer feed_server;
  test::TestHttpServer hook_server({.address = "127.0.0.2"});
  feeds.ServeOn(feed_server);
  receiver.ServeOn(hook_server);
  TempDir dir;
  const std::string config = WriteConfig(dir, feed_server, hook_server);
  const auto test_started = Clock::now();
  std::vector<std::string> error_lines;

  int in_flight_kills = 0;
  std::string kill_log;
  for (int run = 1; run <= kKills; ++run) {
    const std::uint64_t before = activity.count();
    const auto started = Clock::now();
    Child daemon({kBinary, "run", "--config", config});
    // A kill before the daemon's first request would only test its start-up.
    ASSERT_TRUE(daemon.WaitUntil([&] { return activity.count() > before; }, 20s))
        << "run " << run << ": no poll or delivery within 20 s\n"
        << daemon.err();
    // The random moment of the kill is the point of the test: waiting is not synchronisation
    // here (the daemon's output is read meanwhile).
    const milliseconds extra{std::uniform_int_distribution<int>(400, 2500)(random)};
    daemon.WaitUntil([] { return false; }, extra);  // an early exit shows in Wait's code
    const auto killed_at = Clock::now();
    daemon.Signal(SIGKILL);
    const int code = daemon.Wait(10s);
    ASSERT_EQ(code, 128 + SIGKILL) << "run " << run << " ended by itself\n" << daemon.err();
    for (auto& line : ErrorLines(daemon.err())) error_lines.push_back(std::move(line));

    int unanswered = 0;
    for (const auto& receipt : receiver.Receipts()) {
      if (receipt.at >= started && receipt.at <= killed_at && receipt.answered > killed_at) {
        ++unanswered;
      }
    }
    if (unanswered > 0) ++in_flight_kills;
    kill_log += " " + std::to_string(extra.count()) + "ms/" + std::to_string(unanswered);
  }
  const auto kills_done = Clock::now();

  // The last run: no more news; it must deliver everything that is owed, then stop cleanly.
  feeds.StopGrowing();
  Child daemon({kBinary, "run", "--config", config});
  int outbox_checks = 0;
  auto everything_delivered = [&] {
    // Until it says it started, a SIGTERM would find no handler installed yet.
    if (daemon.err().find(" started: ") == std::string::npos) return false;
    std::set<std::string> answered_ok;
    const auto now = Clock::now();
    for (const auto& receipt : receiver.Receipts()) {
      if (receipt.answered > now) return false;  // a delivery is still in flight
      if (receipt.status == 200) answered_ok.insert(receipt.item_id);
    }
    for (const auto& [id, title] : feeds.Served()) {
      if (!answered_ok.contains(id)) return false;
    }
    // Every item has been answered 200 at least once; the daemon must also have recorded
    // those answers (an answer cut by a kill leaves the alert owed until it is sent again).
    ++outbox_checks;
    return Outbox(config, /*dead=*/false).empty();
  };
  const bool delivered = daemon.WaitUntil(everything_delivered, 60s);
  const auto final_done = Clock::now();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0) << daemon.err();
  for (auto& line : ErrorLines(daemon.err())) error_lines.push_back(std::move(line));
  ASSERT_TRUE(delivered) << "not everything was delivered within 60 s of the last start\n"
                         << daemon.err();

  const auto served = feeds.Served();
  const auto receipts = receiver.Receipts();
  std::map<std::string, std::set<std::string>> ids_by_item;
  std::map<std::string, std::set<std::string>> items_by_id;
  std::set<std::string> answered_ok;
  std::size_t refused = 0;
  for (const auto& receipt : receipts) {
    EXPECT_FALSE(receipt.delivery_id.empty()) << "a webhook request without a delivery id";
    EXPECT_EQ(receipt.header_id, receipt.delivery_id)
        << "webhook-id header and body disagree for item " << receipt.item_id;
    auto it = served.find(receipt.item_id);
    if (it == served.end()) {
      ADD_FAILURE() << "alert for an item no feed served: '" << receipt.item_id << "'";
    } else {
      EXPECT_EQ(receipt.title, it->second) << receipt.item_id;
    }
    ids_by_item[receipt.item_id].insert(receipt.delivery_id);
    items_by_id[receipt.delivery_id].insert(receipt.item_id);
    if (receipt.status == 200) answered_ok.insert(receipt.item_id);
    if (receipt.status != 200) ++refused;
  }
  // One sink: one alert, so one delivery id, per item, however often it was sent.
  for (const auto& [item, ids] : ids_by_item) {
    std::string list;
    for (const auto& id : ids) list += " " + id;
    EXPECT_EQ(ids.size(), 1u) << "item " << item << " alerted under " << ids.size()
                              << " delivery ids:" << list;
  }
  for (const auto& [id, items] : items_by_id) {
    EXPECT_EQ(items.size(), 1u) << "delivery id " << id << " used for " << items.size() << " items";
  }
  for (const auto& [item, title] : served) {
    EXPECT_TRUE(answered_ok.contains(item)) << "served but never delivered: " << item;
  }
  EXPECT_TRUE(Outbox(config, /*dead=*/false).empty());
  auto dead = Outbox(config, /*dead=*/true);
  EXPECT_TRUE(dead.empty()) << dead.size() << " dead letters, first: "
                            << (dead.empty() ? "" : dead.front().dump());
  for (const auto& line : error_lines) ADD_FAILURE() << "the daemon logged: " << line;

  // Kills while the webhook had not finished answering: the redelivery case.
  EXPECT_GE(in_flight_kills, kMinInFlightKills)
      << "too few kills landed during a delivery; the test did not test much";

  auto seconds = [](Clock::duration d) {
    return std::chrono::duration_cast<milliseconds>(d).count() / 1000.0;
  };
  std::printf(
      "crash test (seed %u): %d SIGKILLs, %d with a delivery in flight (extra wait/unanswered:%s)\n"
      "  %zu items served by %zu feed requests, %zu webhook requests (%zu answered 503), %zu "
      "repeats; %d outbox checks\n"
      "  kills took %.1f s, final delivery %.1f s\n",
      seed, kKills, in_flight_kills, kill_log.c_str(), served.size(), feeds.requests(),
      receipts.size(), refused, receipts.size() - ids_by_item.size(), outbox_checks,
      seconds(kills_done - test_started), seconds(final_done - kills_done));
}

}  // namespace
}  // namespace newsmon
