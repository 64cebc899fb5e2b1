// The admin server on 127.0.0.1 with a fake Provider, driven from the test's own io_context:
// every endpoint's status, content type and JSON fields, authentication, errors, the SSE
// stream, and the limits every connection lives under.
#include "daemon/admin/server.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "daemon/net/http.h"
#include "daemon/net/resolver.h"

namespace newsmon::admin {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kToken[] = "s3cret-T0ken-for-the-admin-api";

core::WallTime At(std::int64_t unix_ms) {
  return core::WallTime(std::chrono::milliseconds(unix_ms));
}

// 2024-05-01T12:03:04.567Z
constexpr std::int64_t kFirstSeen = 1714564'984'567;

class FakeProvider : public Provider {
 public:
  bool Ready() const override { return ready; }
  std::string Metrics() override {
    if (fail) throw std::runtime_error("registry exploded at /secret/path");
    return metrics;
  }
  std::vector<SourceStatus> Sources() override {
    if (fail) throw std::runtime_error("scheduler exploded");
    return sources;
  }
  asio::awaitable<std::vector<store::HistoryEntry>> Matches(
      std::size_t limit, std::optional<std::string> rule,
      std::optional<std::string> source) override {
    ++matches_calls;
    last_limit = limit;
    last_rule = rule;
    last_source = source;
    if (fail)
      throw std::runtime_error("state database /var/lib/newsmon/newsmon.db: disk I/O error");
    co_return matches;
  }

  bool ready = true;
  bool fail = false;
  std::string metrics = "# TYPE newsmon_up gauge\nnewsmon_up 1\n";
  std::vector<SourceStatus> sources;
  std::vector<store::HistoryEntry> matches;
  int matches_calls = 0;
  std::size_t last_limit = 0;
  std::optional<std::string> last_rule;
  std::optional<std::string> last_source;
};

store::HistoryEntry SampleEntry() {
  store::HistoryEntry entry;
  entry.id = 42;
  entry.source = "caliber-az";
  entry.item.id = "https://caliber.az/en/post/123";
  entry.item.title = "Baku and Tbilisi sign corridor deal";
  entry.item.link = "https://caliber.az/en/post/123";
  entry.item.published = core::TimePoint(std::chrono::seconds(1714564680));  // 11:58:00Z
  entry.item.summary = "Ministers met in Baku.";
  entry.item.author = std::nullopt;
  entry.item.categories = {"Politics", "Economy"};
  entry.item.source = "caliber-az";
  entry.rules = {{.rule = "corridor", .severity = core::RuleSeverity::kCritical},
                 {.rule = "baku", .severity = core::RuleSeverity::kInfo}};
  entry.first_seen = At(kFirstSeen);
  entry.alerted = true;
  return entry;
}

// A client socket on the test's io_context that records what it receives. Its state is
// shared with the pending handlers, which may run after the client is gone.
class RawClient {
 public:
  // `receive_buffer` > 0 shrinks the socket's receive buffer (a slow reader fills sooner).
  RawClient(asio::io_context& io, std::uint16_t port, bool read = true, int receive_buffer = 0)
      : state_(std::make_shared<State>(io)) {
    state_->socket.open(tcp::v4());
    if (receive_buffer > 0) {
      state_->socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    }
    state_->socket.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                 [state = state_, read](const error_code& ec) {
                                   if (ec) {
                                     state->closed = true;
                                     state->error = ec;
                                     return;
                                   }
                                   state->connected = true;
                                   if (read) ReadMore(state);
                                 });
  }
  ~RawClient() { Close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void Send(std::string data) {
    auto shared = std::make_shared<std::string>(std::move(data));
    asio::async_write(state_->socket, asio::buffer(*shared),
                      [shared, state = state_](const error_code&, std::size_t) {});
  }
  void Close() {
    error_code ignored;
    state_->socket.close(ignored);
  }

  bool connected() const { return state_->connected; }
  bool closed() const { return state_->closed; }  // EOF, reset, or the connect failed
  const std::string& received() const { return state_->received; }

 private:
  struct State {
    explicit State(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, 16 * 1024> buffer;
    std::string received;
    bool connected = false;
    bool closed = false;
    error_code error;
  };

  static void ReadMore(const std::shared_ptr<State>& state) {
    state->socket.async_read_some(asio::buffer(state->buffer),
                                  [state](const error_code& ec, std::size_t n) {
                                    state->received.append(state->buffer.data(), n);
                                    if (ec) {
                                      state->closed = true;
                                      state->error = ec;
                                      return;
                                    }
                                    ReadMore(state);
                                  });
  }

  std::shared_ptr<State> state_;
};

constexpr char kStreamRequest[] = "GET /api/v1/stream HTTP/1.1\r\nHost: test\r\n\r\n";

// The data of each `event: match` in an SSE body, in order (several data: lines joined with
// '\n').
std::vector<std::string> MatchEvents(std::string_view text) {
  std::vector<std::string> out;
  std::size_t body = text.find("\r\n\r\n");
  if (body == std::string_view::npos) return out;
  text.remove_prefix(body + 4);
  std::size_t at = 0;
  while (true) {
    std::size_t end = text.find("\n\n", at);
    if (end == std::string_view::npos) break;
    std::string_view block = text.substr(at, end - at);
    at = end + 2;
    if (!block.starts_with("event: match\n")) continue;
    block.remove_prefix(std::string_view("event: match\n").size());
    std::string data;
    while (!block.empty()) {
      std::size_t nl = block.find('\n');
      std::string_view line = block.substr(0, nl);
      if (line.starts_with("data: ")) {
        if (!data.empty()) data += '\n';
        data += line.substr(6);
      }
      if (nl == std::string_view::npos) break;
      block.remove_prefix(nl + 1);
    }
    out.push_back(std::move(data));
  }
  return out;
}

class AdminServerTest : public ::testing::Test {
 protected:
  AdminServerTest()
      : log_(std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_))) {
    log_->set_level(spdlog::level::trace);
    log_->set_pattern("%l %v");
  }

  ~AdminServerTest() override {
    if (server_) {
      server_->Stop();
      EXPECT_TRUE(RunUntil([&] { return server_->Stopped(); }, 10s))
          << "connections still open: " << server_->connections();
    }
  }

  void Start(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(io_.get_executor(), options, provider_, *log_);
    server_->Start();
    ASSERT_NE(server_->port(), 0);
  }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    auto until = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= until) return false;
      // An io_context that ran out of work stops; work posted since needs a restart.
      if (io_.stopped()) io_.restart();
      io_.run_one_for(20ms);
    }
    return true;
  }

  net::HttpResult Request(std::string method, std::string_view path,
                          std::vector<core::Header> headers = {},
                          net::HttpClient* client = nullptr) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.url = Url(path);
    request.headers = std::move(headers);
    request.timeout = 10s;
    request.connect_timeout = 5s;
    request.decompress = false;
    request.policy = net::AddressPolicy::AllowAll();
    std::optional<net::HttpResult> result;
    std::exception_ptr thrown;
    net::HttpClient& c = client ? *client : client_;
    asio::co_spawn(io_, c.Fetch(std::move(request)), [&](std::exception_ptr e, net::HttpResult r) {
      thrown = e;
      result = std::move(r);
    });
    if (!RunUntil([&] { return result.has_value(); }, 30s)) {
      ADD_FAILURE() << "request did not complete";
      return {.error = net::HttpError::kTimeout, .message = "test deadline"};
    }
    if (thrown) std::rethrow_exception(thrown);
    EXPECT_TRUE(result->ok()) << result->message;
    return std::move(*result);
  }

  net::HttpResult Get(std::string_view path, std::vector<core::Header> headers = {}) {
    return Request("GET", path, std::move(headers));
  }

  static Json Body(const net::HttpResult& result) {
    return Json::parse(result.response.body);  // throws (fails the test) when not JSON
  }

  std::vector<core::Header> Bearer(std::string token = kToken) {
    return {{"Authorization", "Bearer " + token}};
  }

  asio::io_context io_;
  std::unique_ptr<net::Resolver> resolver_ = net::MakeResolver(io_.get_executor());
  // No pooling: every request on a connection of its own, closed after it.
  net::HttpClient client_{io_.get_executor(), *resolver_, {.max_idle_per_key = 0}};
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::logger> log_;
  FakeProvider provider_;
  std::unique_ptr<Server> server_;
};

// ---- Endpoints ----------------------------------------------------------------------------

TEST_F(AdminServerTest, HealthzAnswersOkFromTheLoop) {
  Start();
  auto result = Get("/healthz");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(result.response.Header("Cache-Control"), "no-store");
  EXPECT_EQ(result.response.body, "ok\n");
}

TEST_F(AdminServerTest, ReadyzFollowsTheProvider) {
  Start();
  provider_.ready = false;
  auto result = Get("/readyz");
  EXPECT_EQ(result.response.status, 503);
  EXPECT_EQ(result.response.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(result.response.body, "not ready\n");

  provider_.ready = true;
  result = Get("/readyz");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.body, "ready\n");
}

TEST_F(AdminServerTest, MetricsAreThePrometheusText) {
  Start();
  auto result = Get("/metrics");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(result.response.body, provider_.metrics);
}

TEST_F(AdminServerTest, SourcesListEveryFieldWithNullsWhereUnknown) {
  SourceStatus polled{.name = "caliber-az",
                      .url = "https://user:pw@caliber.az:8443/en/rss?api_key=SECRET#top",
                      .kind = core::SourceKind::kRss,
                      .enabled = true};
  polled.state.etag = "\"abc\"";
  polled.state.last_poll = At(kFirstSeen);
  polled.state.last_success = At(kFirstSeen - 60'000);
  polled.state.last_failure = At(kFirstSeen);
  polled.state.last_outcome = core::PollOutcome::kHttp5xx;
  polled.state.last_error = "https://caliber.az/en/rss: HTTP 503";
  polled.state.consecutive_failures = 2;
  polled.state.next_poll = At(kFirstSeen + 300'000);
  polled.state.interval = 300s;
  SourceStatus fresh{.name = "eurasianet",
                     .url = "https://eurasianet.org/rss",
                     .kind = core::SourceKind::kHtml,
                     .enabled = false};
  fresh.state.interval = 12'500ms;
  SourceStatus unscheduled{.name = "new", .url = "http://example.test/feed"};
  provider_.sources = {polled, fresh, unscheduled};
  Start();

  auto result = Get("/api/v1/sources");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.Header("Content-Type"), "application/json");
  Json body = Body(result);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 3u);
  EXPECT_EQ(body[0], Json::parse(R"({
    "name": "caliber-az",
    "url": "https://caliber.az:8443/en/rss",
    "kind": "rss",
    "enabled": true,
    "last_poll": "2024-05-01T12:03:04.567Z",
    "last_success": "2024-05-01T12:02:04.567Z",
    "last_failure": "2024-05-01T12:03:04.567Z",
    "last_outcome": "http_5xx",
    "last_error": "https://caliber.az/en/rss: HTTP 503",
    "consecutive_failures": 2,
    "next_poll": "2024-05-01T12:08:04.567Z",
    "interval_seconds": 300
  })"));
  EXPECT_EQ(body[1], Json::parse(R"({
    "name": "eurasianet",
    "url": "https://eurasianet.org/rss",
    "kind": "html",
    "enabled": false,
    "last_poll": null,
    "last_success": null,
    "last_failure": null,
    "last_outcome": null,
    "last_error": null,
    "consecutive_failures": 0,
    "next_poll": null,
    "interval_seconds": 12.5
  })"));
  EXPECT_EQ(body[2]["kind"], "auto");
  EXPECT_EQ(body[2]["interval_seconds"], nullptr);
  // The field order is part of the output (people read it with curl).
  EXPECT_EQ(result.response.body.find("{\"name\":\"caliber-az\",\"url\":"), 1u)
      << result.response.body;
  EXPECT_EQ(result.response.body.find("SECRET"), std::string::npos);
  EXPECT_EQ(result.response.body.find("etag"), std::string::npos);
}

TEST_F(AdminServerTest, MatchesListNewestFirstWithEveryField) {
  store::HistoryEntry older = SampleEntry();
  older.id = 41;
  older.item.title = "Bad \xff byte";
  older.item.link = std::nullopt;
  older.item.published = std::nullopt;
  older.item.summary = std::nullopt;
  older.item.categories = {};
  older.rules = {{.rule = "corridor", .severity = core::RuleSeverity::kWarning}};
  older.alerted = false;
  provider_.matches = {SampleEntry(), older};
  Start();

  auto result = Get("/api/v1/matches");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.Header("Content-Type"), "application/json");
  EXPECT_EQ(provider_.last_limit, 50u);
  EXPECT_EQ(provider_.last_rule, std::nullopt);
  EXPECT_EQ(provider_.last_source, std::nullopt);
  Json body = Body(result);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0], Json::parse(R"({
    "id": 42,
    "source": "caliber-az",
    "rules": [{"name": "corridor", "severity": "critical"}, {"name": "baku", "severity": "info"}],
    "item": {
      "id": "https://caliber.az/en/post/123",
      "title": "Baku and Tbilisi sign corridor deal",
      "link": "https://caliber.az/en/post/123",
      "published": "2024-05-01T11:58:00Z",
      "summary": "Ministers met in Baku.",
      "author": null,
      "categories": ["Politics", "Economy"]
    },
    "first_seen": "2024-05-01T12:03:04.567Z",
    "alerted": true
  })"));
  EXPECT_EQ(body[1]["id"], 41);
  EXPECT_EQ(body[1]["item"]["title"], "Bad \xEF\xBF\xBD byte");  // U+FFFD
  EXPECT_EQ(body[1]["item"]["link"], nullptr);
  EXPECT_EQ(body[1]["item"]["published"], nullptr);
  EXPECT_EQ(body[1]["item"]["categories"], Json::array());
  EXPECT_EQ(body[1]["alerted"], false);
}

TEST_F(AdminServerTest, MatchesPassLimitRuleAndSource) {
  Start();
  auto result = Get("/api/v1/matches?limit=1000&rule=middle+corridor&source=caliber%2Daz");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.body, "[]");
  EXPECT_EQ(provider_.last_limit, 1000u);
  EXPECT_EQ(provider_.last_rule, "middle corridor");
  EXPECT_EQ(provider_.last_source, "caliber-az");

  result = Get("/api/v1/matches?limit=1");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(provider_.last_limit, 1u);
}

TEST_F(AdminServerTest, BadMatchesParametersAre400WithAMessage) {
  Start();
  const std::string kLimit = "limit must be a whole number from 1 to 1000";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"?limit=0", kLimit},
      {"?limit=1001", kLimit},
      {"?limit=-1", kLimit},
      {"?limit=ten", kLimit},
      {"?limit=5x", kLimit},
      {"?limit=", kLimit},
      {"?limit", kLimit},
      {"?limit=99999999999999999999999", kLimit},
      {"?limt=5", "unknown parameter 'limt' (known: limit, rule, source)"},
      {"?limit=5&limit=6", "parameter 'limit' given more than once"},
      {"?rule=", "rule must not be empty"},
      {"?source=", "source must not be empty"},
  };
  for (const auto& [query, message] : cases) {
    auto result = Get("/api/v1/matches" + query);
    EXPECT_EQ(result.response.status, 400) << query;
    EXPECT_EQ(result.response.Header("Content-Type"), "application/json") << query;
    EXPECT_EQ(Body(result), (Json{{"status", 400}, {"error", message}})) << query;
  }
  EXPECT_EQ(provider_.matches_calls, 0);
}

TEST_F(AdminServerTest, UnknownPathIs404WithJson) {
  Start();
  for (std::string path : {"/", "/nope", "/metrics/", "/api/v1/sources/x", "/healthz.json"}) {
    auto result = Get(path);
    EXPECT_EQ(result.response.status, 404) << path;
    EXPECT_EQ(result.response.Header("Content-Type"), "application/json") << path;
    EXPECT_EQ(Body(result), (Json{{"status", 404}, {"error", "not found"}})) << path;
  }
}

TEST_F(AdminServerTest, OtherMethodsAre405WithAllow) {
  Start();
  for (std::string method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    for (std::string path : {"/healthz", "/metrics", "/api/v1/matches"}) {
      auto result = Request(method, path);
      EXPECT_EQ(result.response.status, 405) << method << " " << path;
      EXPECT_EQ(result.response.Header("Allow"), "GET, HEAD") << method << " " << path;
      EXPECT_EQ(Body(result)["status"], 405);
    }
  }
  EXPECT_EQ(provider_.matches_calls, 0);
}

TEST_F(AdminServerTest, HeadSendsTheHeadersOnly) {
  Start();
  auto result = Request("HEAD", "/healthz");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.Header("Content-Length"), "3");
  EXPECT_EQ(result.response.body, "");

  result = Request("HEAD", "/metrics");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(result.response.Header("Content-Length"), std::to_string(provider_.metrics.size()));

  result = Request("HEAD", "/api/v1/stream");
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.Header("Content-Type"), "text/event-stream");
  EXPECT_EQ(server_->stream_clients(), 0u);
}

TEST_F(AdminServerTest, ProviderFailureIs500WithoutItsMessage) {
  provider_.fail = true;
  Start();
  for (std::string path : {"/metrics", "/api/v1/sources", "/api/v1/matches"}) {
    auto result = Get(path);
    EXPECT_EQ(result.response.status, 500) << path;
    EXPECT_EQ(Body(result), (Json{{"status", 500}, {"error", "internal error"}})) << path;
  }
  // Logged once each, with the reason, for the operator.
  EXPECT_NE(log_text_.str().find("disk I/O error"), std::string::npos) << log_text_.str();
  // The server lives on.
  EXPECT_EQ(Get("/healthz").response.status, 200);
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  net::HttpClient pooled(io_.get_executor(), *resolver_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Request("GET", "/healthz", {}, &pooled).response.status, 200);
  }
  EXPECT_EQ(pooled.IdleConnections(), 1u);
  EXPECT_EQ(server_->connections(), 1u);
}

// ---- Authentication -----------------------------------------------------------------------

TEST_F(AdminServerTest, TokenGuardsMetricsAndApiButNotHealth) {
  Start({.token = kToken});
  for (std::string path :
       {"/metrics", "/api/v1/sources", "/api/v1/matches", "/api/v1/stream", "/api/v1/nope"}) {
    auto none = Get(path);
    EXPECT_EQ(none.response.status, 401) << path;
    EXPECT_EQ(none.response.Header("WWW-Authenticate").value_or("").substr(0, 6), "Bearer") << path;
    EXPECT_EQ(Body(none)["status"], 401) << path;

    auto wrong = Get(path, Bearer("s3cret-T0ken-for-the-admin-apX"));
    EXPECT_EQ(wrong.response.status, 401) << path;
    EXPECT_EQ(Get(path, Bearer("s3cret")).response.status, 401) << path;
    EXPECT_EQ(Get(path, Bearer(std::string(kToken) + "x")).response.status, 401) << path;
    EXPECT_EQ(Get(path, {{"Authorization", std::string("Basic ") + kToken}}).response.status, 401)
        << path;
    EXPECT_EQ(Get(path, {{"Authorization", kToken}}).response.status, 401) << path;
  }
  EXPECT_EQ(Get("/metrics", Bearer()).response.status, 200);
  EXPECT_EQ(Get("/metrics", {{"Authorization", std::string("bearer ") + kToken}}).response.status,
            200);
  EXPECT_EQ(Get("/api/v1/sources", Bearer()).response.status, 200);
  EXPECT_EQ(Get("/api/v1/matches?limit=3", Bearer()).response.status, 200);
  EXPECT_EQ(provider_.last_limit, 3u);
  EXPECT_EQ(Get("/api/v1/nope", Bearer()).response.status, 404);
  // Method checks come after the token: without it, nothing is revealed.
  EXPECT_EQ(Request("POST", "/metrics").response.status, 401);
  EXPECT_EQ(Request("POST", "/metrics", Bearer()).response.status, 405);

  EXPECT_EQ(Get("/healthz").response.status, 200);
  EXPECT_EQ(Get("/readyz").response.status, 200);
  EXPECT_EQ(Get("/healthz", Bearer("wrong")).response.status, 200);
  EXPECT_EQ(Get("/nope").response.status, 404);

  // Refusals are logged, the token never.
  EXPECT_NE(log_text_.str().find("wrong token"), std::string::npos);
  EXPECT_EQ(log_text_.str().find("s3cret"), std::string::npos) << log_text_.str();
}

TEST_F(AdminServerTest, WithoutATokenEverythingIsOpen) {
  Start();
  EXPECT_EQ(Get("/metrics").response.status, 200);
  EXPECT_EQ(Get("/api/v1/sources", Bearer("anything")).response.status, 200);
}

// ---- Malformed requests -------------------------------------------------------------------

TEST_F(AdminServerTest, OversizedHeadersAre431AndBodiesAre413) {
  Start({.max_header_bytes = 1024});
  RawClient big(io_, server_->port());
  big.Send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  ASSERT_TRUE(RunUntil([&] { return big.closed(); }, 10s));
  EXPECT_TRUE(big.received().starts_with("HTTP/1.1 431 ")) << big.received();

  RawClient body(io_, server_->port());
  body.Send("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(RunUntil([&] { return body.closed(); }, 10s));
  EXPECT_TRUE(body.received().starts_with("HTTP/1.1 413 ")) << body.received();
  EXPECT_EQ(log_text_.str().find("hello"), std::string::npos);

  RawClient junk(io_, server_->port());
  junk.Send("HELLO\x01 there\r\n\r\n");
  ASSERT_TRUE(RunUntil([&] { return junk.closed(); }, 10s));
  EXPECT_TRUE(junk.received().starts_with("HTTP/1.1 400 ")) << junk.received();

  RawClient absolute(io_, server_->port());
  absolute.Send("GET http://evil.test/healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(RunUntil([&] { return absolute.closed(); }, 10s));
  EXPECT_TRUE(absolute.received().starts_with("HTTP/1.1 400 ")) << absolute.received();

  EXPECT_EQ(Get("/healthz").response.status, 200);
}

// ---- Deadlines and limits -----------------------------------------------------------------

TEST_F(AdminServerTest, SilentConnectionIsClosedAfterTheReadTimeout) {
  Start({.read_timeout = 300ms});
  auto start = Clock::now();
  RawClient silent(io_, server_->port());
  RawClient slow(io_, server_->port());
  slow.Send("GET /healthz HTTP/1.1\r\n");  // and never the rest
  ASSERT_TRUE(RunUntil([&] { return silent.closed() && slow.closed(); }, 10s));
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(silent.received(), "");
  EXPECT_EQ(slow.received(), "");
  EXPECT_TRUE(RunUntil([&] { return server_->connections() == 0; }, 5s));
}

TEST_F(AdminServerTest, ConnectionsOverTheLimitAreRefusedWith503) {
  Start({.max_connections = 4, .read_timeout = 20s});
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<RawClient>(io_, server_->port()));
  ASSERT_TRUE(RunUntil([&] { return server_->connections() == 4; }, 10s));

  std::vector<std::unique_ptr<RawClient>> extra;
  for (int i = 0; i < 3; ++i) {
    extra.push_back(std::make_unique<RawClient>(io_, server_->port()));
    extra.back()->Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  ASSERT_TRUE(RunUntil(
      [&] {
        for (const auto& c : extra) {
          if (!c->closed()) return false;
        }
        return true;
      },
      10s));
  for (const auto& c : extra) {
    EXPECT_TRUE(c->received().starts_with("HTTP/1.1 503 ")) << c->received();
    EXPECT_NE(c->received().find("too many connections"), std::string::npos);
  }
  EXPECT_EQ(server_->connections(), 4u);
  EXPECT_NE(log_text_.str().find("refused"), std::string::npos);

  for (auto& c : idle) c->Close();
  ASSERT_TRUE(RunUntil([&] { return server_->connections() == 0; }, 10s));
  EXPECT_EQ(Get("/healthz").response.status, 200);
}

TEST_F(AdminServerTest, ManyConcurrentConnectionsNeverCrashOrExceedTheLimit) {
  Start({.max_connections = 8, .read_timeout = 5s});
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<RawClient>(io_, server_->port()));
    clients.back()->Send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  }
  std::size_t peak = 0;
  ASSERT_TRUE(RunUntil(
      [&] {
        peak = std::max(peak, server_->connections());
        for (const auto& c : clients) {
          if (!c->closed()) return false;
        }
        return true;
      },
      30s));
  EXPECT_LE(peak, 8u);
  int ok = 0;
  int refused = 0;
  for (const auto& c : clients) {
    if (c->received().starts_with("HTTP/1.1 200 ")) {
      ++ok;
      EXPECT_TRUE(c->received().ends_with("\r\n\r\nok\n")) << c->received();
    } else if (c->received().starts_with("HTTP/1.1 503 ")) {
      ++refused;
    } else {
      // Beyond max_connections refusals in flight a connection is closed without an answer.
      EXPECT_EQ(c->received(), "");
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_EQ(ok + refused > 0, true);
  clients.clear();
  ASSERT_TRUE(RunUntil([&] { return server_->connections() == 0; }, 10s));
  EXPECT_EQ(Get("/healthz").response.status, 200);
}

// ---- Server-Sent Events -------------------------------------------------------------------

TEST_F(AdminServerTest, StreamDeliversEachPublishInOrder) {
  Start({.token = kToken});
  RawClient client(io_, server_->port());
  client.Send(std::string("GET /api/v1/stream HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ") +
              kToken + "\r\n\r\n");
  ASSERT_TRUE(RunUntil([&] { return server_->stream_clients() == 1; }, 10s));
  ASSERT_TRUE(RunUntil([&] { return client.received().find("\r\n\r\n") != std::string::npos; }));
  const std::string& text = client.received();
  EXPECT_TRUE(text.starts_with("HTTP/1.1 200 OK\r\n")) << text;
  EXPECT_NE(text.find("\r\nContent-Type: text/event-stream\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nCache-Control: no-store\r\n"), std::string::npos) << text;

  const std::string first = MatchJson(SampleEntry());
  server_->Publish(first);
  server_->Publish("{\"n\":2}");
  ASSERT_TRUE(RunUntil([&] { return MatchEvents(client.received()).size() == 2; }, 10s))
      << client.received();
  auto events = MatchEvents(client.received());
  EXPECT_EQ(events[0], first);
  EXPECT_EQ(events[1], "{\"n\":2}");
  Json parsed = Json::parse(events[0]);
  EXPECT_EQ(parsed["id"], 42);
  EXPECT_EQ(parsed["rules"][0]["name"], "corridor");
  // Exactly the SSE framing, nothing between the events.
  std::string body = client.received().substr(client.received().find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "event: match\ndata: " + first + "\n\nevent: match\ndata: {\"n\":2}\n\n");

  // A line break in the payload cannot break the framing.
  server_->Publish("a\nb\r\nc");
  ASSERT_TRUE(RunUntil([&] { return MatchEvents(client.received()).size() == 3; }, 10s));
  EXPECT_TRUE(client.received().ends_with("event: match\ndata: a\ndata: b\ndata: c\n\n"));

  // The client goes away: the server notices without a write.
  client.Close();
  EXPECT_TRUE(RunUntil([&] { return server_->stream_clients() == 0; }, 5s));
  EXPECT_TRUE(RunUntil([&] { return server_->connections() == 0; }, 5s));
}

TEST_F(AdminServerTest, StreamSendsPingsWhenIdle) {
  Start({.ping_interval = 100ms});
  RawClient client(io_, server_->port());
  client.Send(kStreamRequest);
  ASSERT_TRUE(RunUntil(
      [&] { return client.received().find("\n: ping\n\n: ping\n\n") != std::string::npos; }, 5s))
      << client.received();
  EXPECT_EQ(server_->stream_clients(), 1u);
}

TEST_F(AdminServerTest, StreamClientsOverTheLimitAre503) {
  Start({.max_stream_clients = 1});
  RawClient first(io_, server_->port());
  first.Send(kStreamRequest);
  ASSERT_TRUE(RunUntil([&] { return server_->stream_clients() == 1; }, 10s));
  auto second = Get("/api/v1/stream");
  EXPECT_EQ(second.response.status, 503);
  EXPECT_EQ(second.response.Header("Retry-After"), "5");
  EXPECT_EQ(Body(second)["error"], "too many stream clients (max 1)");
  EXPECT_EQ(server_->stream_clients(), 1u);
}

TEST_F(AdminServerTest, ClientThatNeverReadsIsDroppedWithoutBlockingOthers) {
  Start({.write_timeout = 60s, .max_stream_buffer = 64 * 1024});
  RawClient reader(io_, server_->port());
  reader.Send(kStreamRequest);
  RawClient stalled(io_, server_->port(), /*read=*/false, /*receive_buffer=*/4096);
  stalled.Send(kStreamRequest);
  ASSERT_TRUE(RunUntil([&] { return server_->stream_clients() == 2; }, 10s));

  const std::string pad(8 * 1024, 'x');
  int dropped_at = -1;
  int sent = 0;
  std::size_t seen = 0;  // events the reader got, counted incrementally
  std::size_t scanned = 0;
  auto count_events = [&] {
    const std::string& text = reader.received();
    for (;;) {
      std::size_t at = text.find("event: match\n", scanned);
      if (at == std::string::npos) break;
      ++seen;
      scanned = at + 1;
    }
    return seen;
  };
  for (int i = 0; i < 2000; ++i) {
    server_->Publish("{\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}");
    ++sent;
    // The reader keeps up: each event arrives before the next is published.
    ASSERT_TRUE(RunUntil([&] { return count_events() == static_cast<std::size_t>(sent); }, 10s))
        << "event " << i << " did not reach the reading client";
    if (dropped_at < 0 && server_->stream_clients() == 1) dropped_at = i;
    if (dropped_at >= 0 && i >= dropped_at + 5) break;
  }
  ASSERT_GE(dropped_at, 0) << "the stalled client was never dropped";
  EXPECT_EQ(server_->stream_clients(), 1u);
  EXPECT_NE(log_text_.str().find("max_stream_buffer"), std::string::npos);

  auto events = MatchEvents(reader.received());
  ASSERT_EQ(events.size(), static_cast<std::size_t>(sent));
  for (int i = 0; i < sent; ++i) {
    EXPECT_TRUE(events[i].starts_with("{\"n\":" + std::to_string(i) + ",")) << i;
  }
  EXPECT_EQ(Get("/healthz").response.status, 200);
}

TEST_F(AdminServerTest, StopClosesStreamClientsAndIdleConnections) {
  Start();
  RawClient stream(io_, server_->port());
  stream.Send(kStreamRequest);
  RawClient idle(io_, server_->port());
  ASSERT_TRUE(
      RunUntil([&] { return server_->stream_clients() == 1 && server_->connections() == 2; }, 10s));
  EXPECT_FALSE(server_->Stopped());
  server_->Stop();
  ASSERT_TRUE(RunUntil([&] { return server_->Stopped(); }, 5s));
  ASSERT_TRUE(RunUntil([&] { return stream.closed() && idle.closed(); }, 5s));
  server_->Publish("{}");  // harmless after Stop
  EXPECT_THROW(server_->Start(), std::logic_error);
  RawClient late(io_, server_->port());
  ASSERT_TRUE(RunUntil([&] { return late.closed(); }, 5s));
  EXPECT_FALSE(late.connected());
}

// ---- Start-up -----------------------------------------------------------------------------

TEST_F(AdminServerTest, BindFailureNamesTheAddress) {
  Start();
  Server second(io_.get_executor(), {.host = "127.0.0.1", .port = server_->port()}, provider_,
                *log_);
  try {
    second.Start();
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("admin server cannot listen on 127.0.0.1:" +
                                         std::to_string(server_->port())),
              std::string::npos)
        << e.what();
  }
  Server named(io_.get_executor(), {.host = "localhost", .port = 0}, provider_, *log_);
  try {
    named.Start();
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on localhost:0"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(second.Stopped());
  EXPECT_EQ(Get("/healthz").response.status, 200);
}

TEST_F(AdminServerTest, Ipv6LoopbackWhenAvailable) {
  Server v6(io_.get_executor(), {.host = "::1", .port = 0}, provider_, *log_);
  try {
    v6.Start();
  } catch (const std::system_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  net::HttpRequest request;
  request.url = "http://[::1]:" + std::to_string(v6.port()) + "/healthz";
  request.policy = net::AddressPolicy::AllowAll();
  std::optional<net::HttpResult> result;
  asio::co_spawn(io_, client_.Fetch(std::move(request)),
                 [&](std::exception_ptr, net::HttpResult r) { result = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }, 10s));
  ASSERT_TRUE(result->ok()) << result->message;
  EXPECT_EQ(result->response.status, 200);
  v6.Stop();
  EXPECT_TRUE(RunUntil([&] { return v6.Stopped(); }, 5s));
}

}  // namespace
}  // namespace newsmon::admin
