// The poll loop against servers this test runs on 127.0.0.0/8: every broken-server scenario
// ends in its exact outcome, and a healthy source polled alongside keeps its schedule.
#include "daemon/pipeline/poll_loop.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <functional>
#include <memory>
#include <sstream>

#include "daemon/rules/rules.h"
#include "tests/support/dns_server.h"
#include "tests/support/http_server.h"
#include "tests/support/poll_harness.h"

namespace newsmon {
namespace {

using core::PollOutcome;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Reply;

std::string Rss(int items, std::string_view title_prefix = "Story") {
  std::string xml = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>";
  for (int i = 1; i <= items; ++i) {
    xml += "<item><title>" + std::string(title_prefix) + " " + std::to_string(i) +
           "</title><guid>id-" + std::to_string(i) + "</guid></item>";
  }
  return xml + "</channel></rss>";
}

// The DNS server exists before the harness's resolver, which asks it.
struct WithDnsServer {
  test::DnsServer dns_{test::DnsServer::Records{{"feed.test", {"127.0.0.1"}}},
                       test::DnsServer::Mode::kAnswer,
                       {"hang.test"}};
};

class PollLoopTest : public ::testing::Test, protected WithDnsServer, protected test::PollHarness {
 protected:
  PollLoopTest()
      : PollHarness({.servers = {dns_.address()}, .attempt_timeout = seconds(5), .tries = 1}),
        healthy_server_({.address = "127.0.0.3"}) {
    healthy_server_.Handle("/feed", Reply::Text(200, Rss(2)));
  }

  // A source that may reach loopback.
  static core::Source Source(std::string name, std::string url, milliseconds interval) {
    core::Source source;
    source.name = std::move(name);
    source.url = std::move(url);
    source.interval = interval;
    source.timeout = seconds(5);
    source.connect_timeout = seconds(2);
    source.allow_private_networks.cidrs = {"127.0.0.0/8"};
    return source;
  }

  void Add(const core::Source& source) { AddNow(source); }

  test::TestHttpServer healthy_server_;
};

struct Scenario {
  std::string name;
  std::function<Reply(const test::ReceivedRequest&)> reply;  // for /feed
  PollOutcome outcome;
  std::function<void(core::Source&, test::TestHttpServer&)> adjust = nullptr;
  bool tls = false;
  std::string address = "127.0.0.1";
};

void PrintTo(const Scenario& scenario, std::ostream* out) { *out << scenario.name; }

Reply Always(Reply reply, const test::ReceivedRequest&) { return reply; }

std::vector<Scenario> Scenarios() {
  using std::placeholders::_1;
  auto fixed = [](Reply r) { return std::bind(Always, std::move(r), _1); };
  std::vector<Scenario> s;
  s.push_back({"plain_200", fixed(Reply::Text(200, Rss(3))), PollOutcome::kOk});
  {
    Reply gzip = Reply::Text(200, Rss(3));
    gzip.encoding = Reply::Encoding::kGzip;
    s.push_back({"gzip_200", fixed(gzip), PollOutcome::kOk});
  }
  {
    Reply chunked = Reply::Text(200, Rss(40));
    chunked.framing = Reply::Framing::kChunked;
    chunked.chunk_size = 100;
    s.push_back({"chunked_200", fixed(chunked), PollOutcome::kOk});
  }
  s.push_back({"not_a_feed", fixed(Reply::Text(200, "hello, world")), PollOutcome::kParse});
  s.push_back({"status_404", fixed(Reply::Text(404, "gone")), PollOutcome::kHttp4xx});
  s.push_back({"status_429", fixed(Reply::Text(429, "slow down", {{"Retry-After", "120"}})),
               PollOutcome::kHttp429});
  s.push_back({"status_500", fixed(Reply::Text(500, "oops")), PollOutcome::kHttp5xx});
  s.push_back({"status_503", fixed(Reply::Text(503, "later")), PollOutcome::kHttp5xx});
  s.push_back({"redirect_chain", fixed(Reply::Redirect(301, "/a")), PollOutcome::kOk,
               [](core::Source&, test::TestHttpServer& server) {
                 server.Handle("/a", Reply::Redirect(302, "/b"));
                 server.Handle("/b", Reply::Text(200, Rss(2)));
               }});
  s.push_back({"redirect_loop", fixed(Reply::Redirect(302, "/feed")), PollOutcome::kRedirect});
  s.push_back({"headers_never_end", fixed(Reply::HeadersNeverEnd()), PollOutcome::kTimeout,
               [](core::Source& source, test::TestHttpServer&) { source.timeout = seconds(1); }});
  s.push_back(
      {"drip", fixed(Reply::Drip(Rss(1), milliseconds(500))), PollOutcome::kTimeout,
       [](core::Source& source, test::TestHttpServer&) { source.timeout = milliseconds(1500); }});
  s.push_back({"oversize", fixed(Reply::Text(200, std::string(200 * 1024, 'x'))),
               PollOutcome::kTooLarge,
               [](core::Source& source, test::TestHttpServer&) { source.max_body = 64 * 1024; }});
  s.push_back({"gzip_bomb", fixed(Reply::GzipBomb(1ULL << 30)), PollOutcome::kTooLarge,
               [](core::Source& source, test::TestHttpServer&) { source.max_body = 1024 * 1024; }});
  s.push_back({"reset_mid_body", fixed(Reply::ResetMidBody(Rss(20), 100)), PollOutcome::kConnect});
  s.push_back(
      {"wrong_content_length", fixed(Reply::WrongLength(Rss(2), 100000)), PollOutcome::kConnect});
  s.push_back(
      {"tls_self_signed", fixed(Reply::Text(200, Rss(2))), PollOutcome::kTls, nullptr, true});
  s.push_back({"tls_with_ca_file", fixed(Reply::Text(200, Rss(2))), PollOutcome::kOk,
               [](core::Source& source, test::TestHttpServer& server) {
                 source.ca_file = server.ca_file();
               },
               true});
  s.push_back({"redirect_to_refused_address", nullptr, PollOutcome::kBlocked,
               [](core::Source& source, test::TestHttpServer& server) {
                 source.allow_private_networks.cidrs = {"127.0.0.2/32"};
                 server.Handle("/feed",
                               Reply::Redirect(302, "http://127.0.0.1:" +
                                                        std::to_string(server.port()) + "/other"));
               },
               false, "127.0.0.2"});
  s.push_back({"dns_never_answers", fixed(Reply::Text(200, Rss(1))), PollOutcome::kDns,
               [](core::Source& source, test::TestHttpServer& server) {
                 source.url = "http://hang.test:" + std::to_string(server.port()) + "/feed";
                 source.connect_timeout = milliseconds(1500);
               }});
  s.push_back({"connection_refused", fixed(Reply::Text(200, "")), PollOutcome::kConnect,
               [](core::Source& source, test::TestHttpServer& server) {
                 server.Stop();  // nothing listens on its port any more
                 (void)source;
               }});
  return s;
}

class ScenarioTest : public PollLoopTest, public ::testing::WithParamInterface<Scenario> {};

TEST_P(ScenarioTest, EndsInItsOutcomeWhileAHealthySourceKeepsItsSchedule) {
  const Scenario& scenario = GetParam();
  test::TestHttpServer server({.address = scenario.address, .tls = scenario.tls});
  if (scenario.reply) server.Handle("/feed", scenario.reply);
  core::Source bad = Source("bad", server.Url("/feed"), std::chrono::hours(1));
  if (scenario.adjust) scenario.adjust(bad, server);
  constexpr milliseconds kHealthyInterval(100);
  core::Source healthy = Source("healthy", healthy_server_.Url("/feed"), kHealthyInterval);

  MakeLoop();
  Add(bad);
  Add(healthy);
  loop_->Start();
  ASSERT_TRUE(RunUntil([&] { return !EventsOf("bad").empty(); }));

  const pipeline::PollEvent event = EventsOf("bad").front();
  EXPECT_EQ(core::NameOf<PollOutcome>(core::kPollOutcomeNames, event.outcome),
            core::NameOf<PollOutcome>(core::kPollOutcomeNames, scenario.outcome))
      << event.error;
  if (scenario.outcome != PollOutcome::kOk) {
    EXPECT_NE(event.error.find(bad.url), std::string::npos) << event.error;
    EXPECT_EQ(loop_->State("bad")->consecutive_failures, 1);
  } else {
    EXPECT_GT(event.items, 0U);
  }

  // The healthy source went on being polled, every 100 ms, while the bad one was stuck.
  auto bad_busy = event.duration;
  int polls_during = 0;
  for (const auto& e : EventsOf("healthy")) {
    EXPECT_EQ(e.outcome, PollOutcome::kOk) << e.error;
    if (e.started >= event.started && e.started <= event.started + bad_busy) ++polls_during;
  }
  if (bad_busy >= seconds(1)) {
    EXPECT_GE(polls_during, static_cast<int>(bad_busy / kHealthyInterval) / 3)
        << "bad poll took " << bad_busy.count() << " ms";
  }
  // And keeps going after it.
  auto healthy_before = EventsOf("healthy").size();
  ASSERT_TRUE(RunUntil([&] { return EventsOf("healthy").size() >= healthy_before + 2; }));
}

INSTANTIATE_TEST_SUITE_P(Servers, ScenarioTest, ::testing::ValuesIn(Scenarios()),
                         [](const auto& info) { return info.param.name; });

TEST_F(PollLoopTest, RetryAfterPushesTheNextPollOut) {
  test::TestHttpServer server;
  server.Handle("/feed", Reply::Text(429, "", {{"Retry-After", "120"}}));
  MakeLoop();
  Add(Source("limited", server.Url("/feed"), seconds(10)));
  loop_->Start();
  ASSERT_TRUE(RunUntil([&] { return !events_.empty(); }));
  EXPECT_EQ(events_[0].outcome, PollOutcome::kHttp429);
  EXPECT_GE(events_[0].next_poll - events_[0].started, seconds(120));
}

TEST_F(PollLoopTest, SecondPollIsConditionalAndNotModified) {
  test::TestHttpServer server;
  const std::string etag = "\"v1\"";
  const std::string modified = "Tue, 26 Sep 2023 06:35:00 GMT";
  server.Handle("/etag", [&](const test::ReceivedRequest& request) {
    if (request.Header("If-None-Match") == etag) return Reply::Text(304, "");
    return Reply::Text(200, Rss(2), {{"ETag", etag}});
  });
  server.Handle("/modified", [&](const test::ReceivedRequest& request) {
    if (request.Header("If-Modified-Since") == modified) return Reply::Text(304, "");
    return Reply::Text(200, Rss(2), {{"Last-Modified", modified}});
  });
  MakeLoop();
  Add(Source("etag", server.Url("/etag"), milliseconds(100)));
  Add(Source("modified", server.Url("/modified"), milliseconds(100)));
  loop_->Start();
  ASSERT_TRUE(
      RunUntil([&] { return EventsOf("etag").size() >= 2 && EventsOf("modified").size() >= 2; }));
  for (const auto* name : {"etag", "modified"}) {
    auto events = EventsOf(name);
    EXPECT_EQ(events[0].outcome, PollOutcome::kOk) << name;
    EXPECT_EQ(events[0].items, 2U) << name;
    EXPECT_EQ(events[0].new_items, 2U) << name;
    EXPECT_EQ(events[1].outcome, PollOutcome::kNotModified) << name;
  }
  EXPECT_EQ(loop_->State("etag")->etag, etag);
  EXPECT_EQ(loop_->State("modified")->last_modified, modified);
}

TEST_F(PollLoopTest, NewItemsAreMatchedAndCountedOnce) {
  test::TestHttpServer server;
  int generation = 0;
  server.Handle("/feed", [&](const test::ReceivedRequest&) {
    ++generation;
    return Reply::Text(200, generation == 1 ? Rss(2) : Rss(3, "Story"));
  });
  core::RuleSpec rule;
  rule.name = "third";
  rule.keywords = {{"Story 3", 1}};
  auto built = rules::Build({rule});
  ASSERT_TRUE(built.rules) << (built.diagnostics.empty() ? "" : built.diagnostics[0].message);
  MakeLoop(built.rules);
  Add(Source("feed", server.Url("/feed"), milliseconds(100)));
  loop_->Start();
  ASSERT_TRUE(RunUntil([&] { return events_.size() >= 3; }));
  EXPECT_EQ(events_[0].new_items, 2U);
  EXPECT_TRUE(events_[0].matched.empty());
  EXPECT_EQ(events_[1].new_items, 1U);
  ASSERT_EQ(events_[1].matched.size(), 1U);
  EXPECT_EQ(events_[1].matched[0].item.title, "Story 3");
  EXPECT_EQ(events_[1].matched[0].matches[0].rule, "third");
  EXPECT_EQ(events_[2].new_items, 0U);
  EXPECT_TRUE(events_[2].matched.empty());
}

// A feed that moved for good is fetched from its new place, and the log says so once.
TEST_F(PollLoopTest, PermanentRedirectIsFollowedAndLoggedOnce) {
  test::TestHttpServer server;
  server.Handle("/old", Reply::Redirect(301, "/new"));
  server.Handle("/new", Reply::Text(200, Rss(1)));
  std::ostringstream logged;
  log_ = std::make_shared<spdlog::logger>("test",
                                          std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  MakeLoop();
  Add(Source("moved", server.Url("/old"), milliseconds(100)));
  loop_->Start();
  ASSERT_TRUE(RunUntil([&] { return events_.size() >= 3; }));
  for (const auto& e : events_) EXPECT_EQ(e.outcome, PollOutcome::kOk) << e.error;
  const std::string line = "source moved: " + server.Url("/old") + " moved permanently (301) to " +
                           server.Url("/new") + "; update its url in the config";
  auto first = logged.str().find(line);
  ASSERT_NE(first, std::string::npos) << logged.str();
  EXPECT_EQ(logged.str().find(line, first + 1), std::string::npos) << "logged twice";
}

TEST_F(PollLoopTest, PerHostLimitHoldsUnderLoad) {
  test::TestHttpServer server;
  server.Handle("/slow", Reply::Drip(Rss(1), milliseconds(1)));
  MakeLoop(nullptr, {.max_concurrent = 64, .max_per_host = 2});
  for (int i = 0; i < 8; ++i) {
    Add(Source("s" + std::to_string(i), server.Url("/slow"), milliseconds(100)));
  }
  std::size_t peak = 0;
  loop_->OnPoll([&](const pipeline::PollEvent& event) {
    events_.push_back(event);
    peak = std::max(peak, loop_->InFlight());
  });
  loop_->Start();
  ASSERT_TRUE(RunUntil([&] {
    peak = std::max(peak, loop_->InFlight());
    return events_.size() >= 24;
  }));
  EXPECT_LE(peak, 2U);
  for (const auto& e : events_) EXPECT_EQ(e.outcome, PollOutcome::kOk) << e.error;
  // Stopped with sources queued: the polls in flight end and every slot comes back.
  loop_->Stop();
  EXPECT_TRUE(RunUntil([&] { return loop_->InFlight() == 0; }, seconds(10)))
      << loop_->InFlight() << " slots still taken";
}

}  // namespace
}  // namespace newsmon
