// The whole pipeline in one process against servers on 127.0.0.1: a feed, the poll loop,
// the store (a real SQLite file), the delivery loop and a webhook receiver that fails in the
// ways real ones do. Checks that every match arrives, once per delivery id, and that
// first sight, restarts, 410, 4xx, 429 and max_age do what the README says.
#include "daemon/pipeline/delivery_loop.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "daemon/pipeline/poll_loop.h"
#include "daemon/pipeline/store_worker.h"
#include "daemon/rules/rules.h"
#include "daemon/store/store.h"
#include "tests/support/http_server.h"
#include "tests/support/poll_harness.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Reply;
using Result = pipeline::DeliveryEvent::Result;

std::string Rss(int first, int last) {
  std::string xml = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>";
  for (int i = first; i <= last; ++i) {
    xml += "<item><title>Kazakhstan story " + std::to_string(i) + "</title><guid>id-" +
           std::to_string(i) + "</guid></item>";
  }
  return xml + "</channel></rss>";
}

// What the webhook receiver saw of one request.
struct Receipt {
  std::string delivery_id;
  std::string item_id;
  std::vector<std::string> rules;  // the names, in payload order
  std::chrono::steady_clock::time_point at;
};

// A webhook receiver on the test server's thread; `decide` picks each reply. Stops the
// server when it goes, so no request reaches it (or what `decide` refers to) afterwards.
class Receiver {
 public:
  using Decide = std::function<Reply(const Receipt&)>;
  Receiver(test::TestHttpServer& server, Decide decide)
      : server_(server), decide_(std::move(decide)) {
    server.Handle("/hook", [this](const test::ReceivedRequest& request) {
      Receipt receipt{.at = std::chrono::steady_clock::now()};
      auto body = nlohmann::json::parse(request.body, nullptr, false);
      if (body.is_object()) {
        receipt.delivery_id = body.value("delivery_id", "");
        if (body.contains("item")) receipt.item_id = body["item"].value("id", "");
        for (const auto& rule : body.value("rules", nlohmann::json::array())) {
          receipt.rules.push_back(rule.value("name", ""));
        }
      }
      std::lock_guard lock(mutex_);
      receipts_.push_back(receipt);
      return decide_(receipt);
    });
  }
  std::vector<Receipt> receipts() const {
    std::lock_guard lock(mutex_);
    return receipts_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return receipts_.size();
  }
  ~Receiver() { server_.Stop(); }

 private:
  test::TestHttpServer& server_;
  mutable std::mutex mutex_;  // guards receipts_ (the server's thread appends)
  std::vector<Receipt> receipts_;
  Decide decide_;
};

class DeliveryTest : public ::testing::Test, protected test::PollHarness {
 protected:
  DeliveryTest() {
    feed_.Handle("/feed", [this](const test::ReceivedRequest&) {
      std::lock_guard lock(feed_mutex_);
      return Reply::Text(200, Rss(1, feed_items_));
    });
    core::RuleSpec rule;
    rule.name = "kz";
    rule.keywords = {{"Kazakhstan", 1}};
    rule.severity = core::RuleSeverity::kCritical;
    rule.labels = {{"team", "asia"}};
    rules_ = rules::Build({rule}).rules;
    OpenStore();
  }

  ~DeliveryTest() override { StopAll(); }

  void OpenStore() {
    store_ =
        std::make_unique<pipeline::StoreWorker>(store::Store::Open(dir_.path() / "newsmon.db"));
  }

  void SetFeedItems(int n) {
    std::lock_guard lock(feed_mutex_);
    feed_items_ = n;
  }

  core::SinkSpec Hook(std::string name = "hook") const {
    core::SinkSpec sink;
    sink.name = std::move(name);
    sink.kind = core::SinkKind::kWebhook;
    sink.url = hook_.Url("/hook");
    sink.concurrency = 4;
    sink.timeout = milliseconds(500);
    sink.retry_backoff = milliseconds(20);
    sink.max_backoff = milliseconds(200);
    return sink;
  }

  core::Source Feed(bool backfill, milliseconds interval = milliseconds(200)) const {
    core::Source source;
    source.name = "feed";
    source.url = feed_.Url("/feed");
    source.interval = interval;
    source.timeout = seconds(5);
    source.allow_private_networks.all_private = true;
    source.backfill = backfill;
    return source;
  }

  void Start(const core::Source& source, std::vector<core::SinkSpec> sinks) {
    std::vector<std::string> names;
    for (const auto& sink : sinks) names.push_back(sink.name);
    delivery_ = std::make_unique<pipeline::DeliveryLoop>(
        io_.get_executor(), client_, *store_, clock_, *log_, std::move(sinks),
        pipeline::DeliveryLoopOptions{.idle_scan = milliseconds(100), .seed = 7});
    delivery_->OnDelivery([this](const pipeline::DeliveryEvent& e) { deliveries_.push_back(e); });
    loop_ = std::make_unique<pipeline::PollLoop>(
        io_.get_executor(), client_, clock_, rules_, *log_,
        pipeline::PollLoopOptions{.seed = 7, .store = store_.get(), .sinks = names});
    loop_->OnPoll([this](const pipeline::PollEvent& e) {
      events_.push_back(e);
      if (e.alerts_queued > 0) delivery_->Wake(e.alert_sinks);
    });
    AddNow(source);
    loop_->Start();
    delivery_->Start();
  }

  // Stops both loops and lets what is in flight finish and be recorded.
  void StopAll() {
    if (loop_) loop_->Stop();
    if (delivery_) delivery_->Stop();
    RunUntil([&] { return (!loop_ || loop_->Stopped()) && (!delivery_ || delivery_->Stopped()); });
    loop_.reset();
    delivery_.reset();
  }

  std::size_t OkPolls() const {
    std::size_t n = 0;
    for (const auto& e : events_) n += e.outcome == core::PollOutcome::kOk;
    return n;
  }

  template <typename Fn>
  auto Query(Fn fn) {
    using R = std::invoke_result_t<Fn, store::Store&>;
    std::optional<R> result;
    boost::asio::co_spawn(io_, store_->Run(std::move(fn)), [&](std::exception_ptr e, R r) {
      if (e) std::rethrow_exception(e);
      result = std::move(r);
    });
    EXPECT_TRUE(RunUntil([&] { return result.has_value(); }));
    return std::move(*result);
  }

  std::size_t CountOf(Result result) const {
    std::size_t n = 0;
    for (const auto& d : deliveries_) n += d.result == result;
    return n;
  }

  test::TempDir dir_;
  std::mutex feed_mutex_;  // guards feed_items_ (read on the feed server's thread)
  int feed_items_ = 0;
  test::TestHttpServer feed_;
  test::TestHttpServer hook_{{.address = "127.0.0.2"}};
  std::shared_ptr<const rules::RuleSet> rules_;
  std::unique_ptr<pipeline::StoreWorker> store_;
  std::unique_ptr<pipeline::DeliveryLoop> delivery_;
  std::vector<pipeline::DeliveryEvent> deliveries_;
};

// 1,000 matches through a receiver that fails 30% of requests, loses the response of some
// requests it did accept, and stops answering for a stretch: every match arrives, each under
// one delivery id, and an accepted request is repeated only when its response was lost.
TEST_F(DeliveryTest, FlakyReceiverGetsEveryMatchOnce) {
  constexpr int kItems = 1000;
  SetFeedItems(kItems);
  std::mutex mutex;  // guards the receiver's bookkeeping below (server thread + test)
  std::mt19937 random(42);
  std::map<std::string, int> accepted;  // delivery id -> 200s whose response arrived whole
  std::map<std::string, int> lost;      // delivery id -> accepted, then the response was cut
  std::set<std::string> items_accepted;
  int accepted_total = 0;
  std::optional<std::chrono::steady_clock::time_point> down_until;
  Receiver receiver(hook_, [&](const Receipt& r) {
    std::lock_guard lock(mutex);
    auto now = std::chrono::steady_clock::now();
    if (accepted_total >= 300 && !down_until) down_until = now + seconds(1);
    if (down_until && now < *down_until) return Reply::Hang();  // down: no answer
    double roll = std::uniform_real_distribution<double>(0, 1)(random);
    if (roll < 0.30) return Reply::Text(500, "internal error");
    ++accepted_total;
    items_accepted.insert(r.item_id);
    if (roll < 0.35) {
      ++lost[r.delivery_id];
      return Reply::ResetMidBody("{\"ok\":true}", 0);
    }
    ++accepted[r.delivery_id];
    return Reply::Text(200, "{\"ok\":true}");
  });
  Start(Feed(/*backfill=*/true, seconds(30)), {Hook()});
  ASSERT_TRUE(RunUntil(
      [&] {
        std::lock_guard lock(mutex);
        return accepted.size() >= kItems;
      },
      seconds(240)))
      << accepted.size() << " delivered";
  StopAll();

  std::map<std::string, std::set<std::string>> ids_of_item;
  for (const auto& r : receiver.receipts()) ids_of_item[r.item_id].insert(r.delivery_id);
  ASSERT_EQ(ids_of_item.size(), static_cast<std::size_t>(kItems));
  for (const auto& [item, ids] : ids_of_item) {
    EXPECT_EQ(ids.size(), 1U) << item << " arrived under " << ids.size() << " delivery ids";
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(accepted.size(), static_cast<std::size_t>(kItems));
  for (const auto& [id, n] : accepted) {
    EXPECT_EQ(n, 1) << id << " was accepted " << n << " times with its response intact";
  }
  EXPECT_GT(lost.size(), 0U);
  EXPECT_TRUE(down_until.has_value());
  EXPECT_TRUE(Query([](store::Store& s) { return s.PendingCounts(); }).empty());
  EXPECT_TRUE(Query([](store::Store& s) { return s.DeadLetterCounts(); }).empty());
  EXPECT_GT(CountOf(Result::kRetry), 0U);
  EXPECT_EQ(CountOf(Result::kDelivered), static_cast<std::size_t>(kItems));
}

// First sight without backfill: 50 existing matching items send nothing; the next new one
// is alerted alone.
TEST_F(DeliveryTest, NewSourceWithoutBackfillAlertsOnlyLaterItems) {
  SetFeedItems(50);
  Receiver receiver(hook_, [](const Receipt&) { return Reply::Text(200, "ok"); });
  Start(Feed(/*backfill=*/false), {Hook()});
  ASSERT_TRUE(RunUntil([&] { return OkPolls() >= 1; }));
  EXPECT_EQ(events_[0].suppressed, 50U);
  EXPECT_EQ(events_[0].alerts_queued, 0U);
  EXPECT_TRUE(events_[0].matched.empty());
  SetFeedItems(51);
  ASSERT_TRUE(RunUntil([&] { return receiver.count() >= 1 && delivery_->InFlight() == 0; }));
  std::size_t polls = OkPolls();
  ASSERT_TRUE(RunUntil([&] { return OkPolls() >= polls + 2; }));  // nothing else comes
  auto receipts = receiver.receipts();
  ASSERT_EQ(receipts.size(), 1U);
  EXPECT_EQ(receipts[0].item_id, "id-51");
  auto history = Query([](store::Store& s) { return s.RecentMatches(100); });
  ASSERT_EQ(history.size(), 51U);
  EXPECT_TRUE(history[0].alerted);  // newest first
  EXPECT_FALSE(history[1].alerted);
}

TEST_F(DeliveryTest, NewSourceWithBackfillAlertsEveryItem) {
  SetFeedItems(50);
  Receiver receiver(hook_, [](const Receipt&) { return Reply::Text(200, "ok"); });
  Start(Feed(/*backfill=*/true), {Hook()});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDelivered) >= 50; }));
  std::size_t polls = OkPolls();
  ASSERT_TRUE(RunUntil([&] { return OkPolls() >= polls + 2; }));
  std::set<std::string> items;
  for (const auto& r : receiver.receipts()) items.insert(r.item_id);
  EXPECT_EQ(receiver.count(), 50U);
  EXPECT_EQ(items.size(), 50U);
  EXPECT_EQ(events_[0].alerts_queued, 50U);
}

// A restart (store reopened, the loop's memory gone) does not alert again.
TEST_F(DeliveryTest, RestartDoesNotRealert) {
  SetFeedItems(5);
  Receiver receiver(hook_, [](const Receipt&) { return Reply::Text(200, "ok"); });
  Start(Feed(/*backfill=*/true), {Hook()});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDelivered) >= 5; }));
  StopAll();
  store_.reset();
  events_.clear();
  OpenStore();
  Start(Feed(/*backfill=*/true), {Hook()});
  ASSERT_TRUE(RunUntil([&] { return OkPolls() >= 3; }));
  EXPECT_EQ(events_[0].new_items, 0U);
  EXPECT_EQ(events_[0].alerts_queued, 0U);
  EXPECT_EQ(receiver.count(), 5U);
}

// 410: the alert is dead-lettered and the sink disabled; nothing more is sent until the
// dead letters are retried, which re-enables it; the retried alert keeps its delivery id.
TEST_F(DeliveryTest, GoneDisablesTheSinkUntilRetried) {
  SetFeedItems(1);
  std::atomic<bool> gone{true};
  Receiver receiver(hook_, [&](const Receipt&) {
    return gone ? Reply::Text(410, "gone") : Reply::Text(200, "ok");
  });
  Start(Feed(/*backfill=*/true), {Hook()});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kGone) == 1; }));
  SetFeedItems(3);
  ASSERT_TRUE(RunUntil([&] {
    auto pending = Query([](store::Store& s) { return s.PendingCounts(); });
    return pending["hook"] == 2;
  }));
  std::size_t polls = OkPolls();
  ASSERT_TRUE(RunUntil([&] { return OkPolls() >= polls + 2; }));
  EXPECT_EQ(receiver.count(), 1U);
  auto disabled = Query([](store::Store& s) { return s.DisabledSinks(); });
  ASSERT_EQ(disabled.size(), 1U);
  EXPECT_EQ(disabled[0].sink, "hook");

  gone = false;
  std::string first_id = receiver.receipts()[0].delivery_id;
  EXPECT_EQ(Query([this](store::Store& s) { return s.RetryAllDeadLetters("hook", clock_.Now()); }),
            1U);
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDelivered) == 3; }));
  auto receipts = receiver.receipts();
  ASSERT_EQ(receipts.size(), 4U);
  std::size_t with_first_id = 0;
  for (const auto& r : receipts) with_first_id += r.delivery_id == first_id;
  EXPECT_EQ(with_first_id, 2U);
}

// A 4xx other than 408/410/429 is dead-lettered at once, with the answer's first bytes.
TEST_F(DeliveryTest, ClientErrorIsDeadLetteredAtOnce) {
  SetFeedItems(1);
  Receiver receiver(hook_, [](const Receipt&) { return Reply::Text(400, "missing field 'x'"); });
  Start(Feed(/*backfill=*/true), {Hook()});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDeadLetter) == 1; }));
  auto dead = Query([](store::Store& s) { return s.ListDeadLetters(); });
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].status, 400);
  EXPECT_NE(dead[0].reason.find("missing field 'x'"), std::string::npos) << dead[0].reason;
  EXPECT_EQ(dead[0].alert.item.id, "id-1");
  EXPECT_EQ(receiver.count(), 1U);
}

// An alert that keeps failing is given up once older than the sink's max_age.
TEST_F(DeliveryTest, AlertOlderThanMaxAgeIsDeadLettered) {
  SetFeedItems(1);
  Receiver receiver(hook_, [](const Receipt&) { return Reply::Text(503, "busy"); });
  core::SinkSpec hook = Hook();
  hook.max_age = milliseconds(300);
  Start(Feed(/*backfill=*/true), {hook});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDeadLetter) == 1; }));
  EXPECT_GE(receiver.count(), 2U);
  auto dead = Query([](store::Store& s) { return s.ListDeadLetters(); });
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].status, 503);
  EXPECT_NE(dead[0].reason.find("gave up after"), std::string::npos) << dead[0].reason;
}

// A 429's Retry-After holds the whole sink back for that long.
TEST_F(DeliveryTest, RetryAfterPausesTheSink) {
  SetFeedItems(3);
  std::atomic<int> calls{0};
  Receiver receiver(hook_, [&](const Receipt&) {
    return ++calls == 1 ? Reply::Text(429, "slow down", {{"Retry-After", "1"}})
                        : Reply::Text(200, "ok");
  });
  core::SinkSpec hook = Hook();
  hook.concurrency = 1;
  Start(Feed(/*backfill=*/true), {hook});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDelivered) == 3; }));
  auto receipts = receiver.receipts();
  ASSERT_EQ(receipts.size(), 4U);
  EXPECT_GE(receipts[1].at - receipts[0].at, milliseconds(990));
}

// The rate limit spaces requests (lower bound only: a slow machine only spaces them more).
TEST_F(DeliveryTest, RateLimitSpacesRequests) {
  SetFeedItems(6);
  Receiver receiver(hook_, [](const Receipt&) { return Reply::Text(200, "ok"); });
  core::SinkSpec hook = Hook();
  hook.rate = 10;
  hook.burst = 1;
  Start(Feed(/*backfill=*/true), {hook});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDelivered) == 6; }));
  auto receipts = receiver.receipts();
  ASSERT_EQ(receipts.size(), 6U);
  EXPECT_GE(receipts.back().at - receipts.front().at, milliseconds(450));
}

// Rules pick their sinks with `notify`; an alert lists only the rules that notify its sink.
TEST_F(DeliveryTest, NotifyRoutesAlertsToSinks) {
  core::RuleSpec everywhere;
  everywhere.name = "kz";
  everywhere.keywords = {{"Kazakhstan", 1}};
  core::RuleSpec only_b;
  only_b.name = "story";
  only_b.keywords = {{"story", 1}};
  only_b.notify = {"b"};
  rules_ = rules::Build({everywhere, only_b}).rules;
  SetFeedItems(2);
  Receiver receiver(hook_, [](const Receipt&) { return Reply::Text(200, "ok"); });
  Start(Feed(/*backfill=*/true), {Hook("a"), Hook("b")});
  ASSERT_TRUE(RunUntil([&] { return CountOf(Result::kDelivered) == 4; }));
  EXPECT_EQ(events_[0].alerts_queued, 4U);
  std::map<std::vector<std::string>, std::size_t> alerts_by_rules;
  for (const auto& r : receiver.receipts()) ++alerts_by_rules[r.rules];
  using Rules = std::vector<std::string>;
  EXPECT_EQ(alerts_by_rules,
            (std::map<Rules, std::size_t>{{Rules{"kz"}, 2}, {Rules{"kz", "story"}, 2}}));
  auto history = Query([](store::Store& s) { return s.RecentMatches(10); });
  ASSERT_EQ(history.size(), 2U);
  EXPECT_EQ(history[0].rules.size(), 2U);
}

}  // namespace
}  // namespace newsmon
