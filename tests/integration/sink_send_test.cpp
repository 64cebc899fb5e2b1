// alert::Send through the real net::HttpClient to the scripted server on 127.0.0.1: what
// each sink puts on the wire, and what each kind of answer becomes (delivered, retried,
// dead-lettered, gone), with messages that never show a token.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/alert/alert.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "tests/support/http_server.h"
#include "tests/support/webhook_verifier.h"

namespace newsmon {
namespace {

namespace asio = boost::asio;
using alert::DeliveryResult;
using alert::DeliveryStatus;
using nlohmann::json;
using std::chrono::milliseconds;
using test::ReceivedRequest;
using test::Reply;
using test::TestHttpServer;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

core::Alert SampleAlert(std::string delivery_id = "nm_01hzx3k9v7q2m4t8b6n1c5d0ef") {
  core::Alert alert;
  alert.delivery_id = std::move(delivery_id);
  alert.sink = "test";
  alert.source = "caliber-az";
  alert.source_url = "https://caliber.az/en/rss";
  alert.item.id = "https://caliber.az/en/post/123";
  alert.item.title = "Новости: 新闻 \U0001F680 corridor deal";
  alert.item.link = "https://caliber.az/en/post/123";
  alert.item.summary = "Ministers met in Baku.";
  alert.rules = {core::RuleHit{.rule = "corridor",
                               .severity = core::RuleSeverity::kCritical,
                               .field = core::Field::kTitle,
                               .begin = 0,
                               .end = 8,
                               .text = "corridor"}};
  alert.first_seen = core::SystemClock().Now();
  return alert;
}

core::SinkSpec Sink(core::SinkKind kind, std::string url, std::string secret = "") {
  core::SinkSpec sink;
  sink.name = "test-sink";
  sink.kind = kind;
  sink.url = std::move(url);
  sink.secret = std::move(secret);
  sink.timeout = 5s;
  return sink;
}

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SinkSendTest : public ::testing::Test {
 protected:
  // One Send on the test's io_context; fails the test if it has not completed by `limit`.
  DeliveryResult Send(const core::SinkSpec& sink, const core::Alert& alert,
                      milliseconds limit = 30s) {
    std::optional<DeliveryResult> result;
    std::exception_ptr thrown;
    asio::co_spawn(ioc_, alert::Send(client_, sink, alert, clock_),
                   [&](std::exception_ptr e, DeliveryResult r) {
                     thrown = e;
                     result = std::move(r);
                   });
    ioc_.restart();
    const auto deadline = SteadyClock::now() + limit;
    // Idle pooled connections keep the io_context busy: run until the result, not empty.
    while (!result && !thrown && ioc_.run_one_until(deadline) > 0) {
    }
    if (thrown) std::rethrow_exception(thrown);
    if (!result) {
      ADD_FAILURE() << "Send did not complete within " << limit.count() << " ms";
      return DeliveryResult{.status = DeliveryStatus::kRetry, .message = "test deadline"};
    }
    return std::move(*result);
  }

  asio::io_context ioc_;
  std::unique_ptr<net::Resolver> resolver_ = net::MakeResolver(ioc_.get_executor());
  net::HttpClient client_{ioc_.get_executor(), *resolver_};
  core::SystemClock clock_;
};

std::size_t RequestsTo(const TestHttpServer& server, std::string_view path) {
  std::size_t n = 0;
  for (const auto& request : server.Requests()) n += request.Path() == path ? 1 : 0;
  return n;
}

// A port nothing listens on: bound, then closed.
std::uint16_t ClosedPort() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST_F(SinkSendTest, SignedWebhookVerifiedByTheReceiver) {
  TestHttpServer server;
  std::mutex mutex;  // guards failures, written by the server's thread
  std::vector<std::string> failures;
  server.Handle("/hook", [&](const ReceivedRequest& request) {
    auto check =
        test::VerifyWebhook(kSecret, request.Header("webhook-id").value_or(""),
                            request.Header("webhook-timestamp").value_or(""), request.body,
                            request.Header("webhook-signature").value_or(""), NowSeconds());
    if (!check.ok) {
      std::lock_guard lock(mutex);
      failures.push_back(check.why);
      return Reply::Text(401, "bad signature: " + check.why);
    }
    return Reply::Text(204, "");
  });
  const core::SinkSpec sink =
      Sink(core::SinkKind::kWebhook, server.Url("/hook"), std::string(kSecret));

  for (const auto& id : {"nm_aaaaaaaaaaaaaaaaaaaaaaaaaa", "nm_bbbbbbbbbbbbbbbbbbbbbbbbbb"}) {
    DeliveryResult result = Send(sink, SampleAlert(id));
    EXPECT_EQ(result.status, DeliveryStatus::kDelivered) << result.message;
    EXPECT_EQ(result.http_status, 204);
    EXPECT_EQ(result.message, "");
  }
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(failures.empty()) << failures.front();
  for (const auto& request : requests) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.Header("Content-Type"), "application/json");
    json body = json::parse(request.body);
    EXPECT_EQ(body["version"], 1);
    EXPECT_EQ(body["delivery_id"], request.Header("webhook-id"));
    EXPECT_EQ(body["item"]["title"], "Новости: 新闻 \U0001F680 corridor deal");
  }

  // A receiver with another key refuses, and that is not worth retrying.
  const core::SinkSpec wrong =
      Sink(core::SinkKind::kWebhook, server.Url("/hook"), "whsec_dGhpcyBpcyBhbm90aGVyIGtleSE=");
  DeliveryResult refused = Send(wrong, SampleAlert());
  EXPECT_EQ(refused.status, DeliveryStatus::kDeadLetter);
  EXPECT_EQ(refused.http_status, 401);
  EXPECT_NE(refused.message.find("bad signature"), std::string::npos) << refused.message;
}

TEST_F(SinkSendTest, RedirectIsNotFollowedAndDeadLetters) {
  TestHttpServer server;
  server.Handle("/hook", Reply::Redirect(301, server.Url("/moved")));
  server.Handle("/moved", Reply::Text(200, "ok"));

  DeliveryResult result = Send(Sink(core::SinkKind::kWebhook, server.Url("/hook")), SampleAlert());

  EXPECT_EQ(result.status, DeliveryStatus::kDeadLetter);
  EXPECT_EQ(result.http_status, 301);
  EXPECT_NE(result.message.find("301"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("not followed"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("to http://127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << result.message;
  EXPECT_EQ(result.message.find("/moved"), std::string::npos) << result.message;
  EXPECT_EQ(RequestsTo(server, "/hook"), 1u);
  EXPECT_EQ(RequestsTo(server, "/moved"), 0u);
}

TEST_F(SinkSendTest, GoneDisablesTheSink) {
  TestHttpServer server;
  server.Handle("/hook", Reply::Text(410, "channel_is_archived"));
  DeliveryResult result = Send(Sink(core::SinkKind::kSlack, server.Url("/hook")), SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kGone);
  EXPECT_EQ(result.http_status, 410);
  EXPECT_NE(result.message.find("channel_is_archived"), std::string::npos) << result.message;
}

TEST_F(SinkSendTest, TooManyRequestsRetriesAfterTheServersWait) {
  TestHttpServer server;
  server.Handle("/hook", Reply::Text(429, "slow down", {{"Retry-After", "7"}}));
  DeliveryResult result = Send(Sink(core::SinkKind::kDiscord, server.Url("/hook")), SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kRetry);
  EXPECT_EQ(result.http_status, 429);
  EXPECT_EQ(result.retry_after, milliseconds(7000));
}

TEST_F(SinkSendTest, ServiceUnavailableRetries) {
  TestHttpServer server;
  server.Handle("/hook", Reply::Text(503, "maintenance"));
  DeliveryResult result = Send(Sink(core::SinkKind::kTeams, server.Url("/hook")), SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kRetry);
  EXPECT_EQ(result.http_status, 503);
  EXPECT_EQ(result.retry_after, std::nullopt);
  EXPECT_NE(result.message.find("HTTP 503: maintenance"), std::string::npos) << result.message;
}

TEST_F(SinkSendTest, HangingServerRetriesAfterTheSinkTimeout) {
  TestHttpServer server;
  server.Handle("/hook", Reply::Hang());
  core::SinkSpec sink = Sink(core::SinkKind::kWebhook, server.Url("/hook"));
  sink.timeout = 300ms;

  const auto start = SteadyClock::now();
  DeliveryResult result = Send(sink, SampleAlert(), 10s);
  const auto took = SteadyClock::now() - start;

  EXPECT_EQ(result.status, DeliveryStatus::kRetry);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_NE(result.message.find("timeout"), std::string::npos) << result.message;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
  EXPECT_GE(result.duration, 290ms);
  EXPECT_LT(result.duration, 3s);
  server.Stop();
}

TEST_F(SinkSendTest, ConnectionRefusedRetries) {
  const std::uint16_t port = ClosedPort();
  DeliveryResult result = Send(
      Sink(core::SinkKind::kWebhook, "http://127.0.0.1:" + std::to_string(port) + "/hook/s3cr3t"),
      SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kRetry);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_NE(result.message.find("connection failed"), std::string::npos) << result.message;
  EXPECT_EQ(result.message.find("s3cr3t"), std::string::npos) << result.message;
}

TEST_F(SinkSendTest, TelegramTokenInPathButNotInMessages) {
  TestHttpServer server;
  const std::string path = "/bot" + std::string(kToken) + "/sendMessage";
  server.Handle(path, Reply::Text(200, R"({"ok":true,"result":{"message_id":1}})"));
  core::SinkSpec sink = Sink(core::SinkKind::kTelegram, server.Url(""), std::string(kToken));
  sink.chat_id = "-1001234567890";

  DeliveryResult result = Send(sink, SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kDelivered) << result.message;
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, path);
  EXPECT_EQ(json::parse(requests[0].body),
            json({{"chat_id", "-1001234567890"},
                  {"text",
                   "corridor: Новости: 新闻 \U0001F680 corridor deal \u2014 "
                   "https://caliber.az/en/post/123"},
                  {"disable_web_page_preview", false}}));

  auto no_token = [&](const DeliveryResult& r) {
    return r.message.find("123456789") == std::string::npos &&
           r.message.find("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") == std::string::npos;
  };
  // An error page that echoes the path.
  server.Handle(path, [&](const ReceivedRequest& request) {
    return Reply::Text(400, "Bad Request: chat not found (" + request.target + ")");
  });
  result = Send(sink, SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kDeadLetter);
  EXPECT_NE(result.message.find("chat not found"), std::string::npos) << result.message;
  EXPECT_TRUE(no_token(result)) << result.message;

  // A timeout, whose net message names the whole URL.
  server.Handle(path, Reply::Hang());
  sink.timeout = 300ms;
  result = Send(sink, SampleAlert(), 10s);
  EXPECT_EQ(result.status, DeliveryStatus::kRetry);
  EXPECT_NE(result.message.find("timeout"), std::string::npos) << result.message;
  EXPECT_TRUE(no_token(result)) << result.message;
  server.Stop();

  // Nobody listening.
  sink.url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  result = Send(sink, SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kRetry);
  EXPECT_TRUE(no_token(result)) << result.message;
}

TEST_F(SinkSendTest, NtfyJsonReachesTheRoot) {
  TestHttpServer server;
  server.Handle("/", Reply::Text(200, R"({"id":"abc","event":"message"})"));
  DeliveryResult result =
      Send(Sink(core::SinkKind::kNtfy, server.Url("/newsmon-alerts"), "tk_secret"), SampleAlert());
  EXPECT_EQ(result.status, DeliveryStatus::kDelivered) << result.message;
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer tk_secret");
  json body = json::parse(requests[0].body);
  EXPECT_EQ(body["topic"], "newsmon-alerts");
  EXPECT_EQ(body["title"], "Новости: 新闻 \U0001F680 corridor deal");
  EXPECT_EQ(body["priority"], 5);
  EXPECT_EQ(body["tags"], json::array({"corridor"}));
  EXPECT_EQ(body["click"], "https://caliber.az/en/post/123");
}

}  // namespace
}  // namespace newsmon
