#include "daemon/admin/server.h"

#include <spdlog/logger.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <exception>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include "daemon/admin/api.h"

namespace newsmon::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kEventStreamType = "text/event-stream";
constexpr std::string_view kAllowed = "GET, HEAD";

// A connection being closed gets this long to take its last response (and to stop sending).
constexpr auto kLinger = 1s;
// After accept fails (out of file descriptors), before trying again.
constexpr auto kAcceptRetry = 100ms;
// Refused connections are logged at most once per this.
constexpr auto kRefuseLogInterval = 60s;

std::string HostPort(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string PeerOf(const tcp::socket& socket) {
  error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "?";
  return HostPort(endpoint.address().to_string(), endpoint.port());
}

// Removes an entry from a set when the coroutine frame holding it goes.
template <typename Set>
class Registration {
 public:
  Registration(Set& set, typename Set::value_type value) : set_(set), value_(std::move(value)) {
    set_.insert(value_);
  }
  ~Registration() { set_.erase(value_); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  Set& set_;
  typename Set::value_type value_;
};

// One /api/v1/stream client: the events waiting for its socket.
struct StreamClient {
  StreamClient(asio::any_io_executor executor, beast::tcp_stream& s, std::string p)
      : wake(std::move(executor)), stream(&s), peer(std::move(p)) {}

  asio::steady_timer wake;  // the writer waits on it; cancelled when there is work
  std::deque<std::shared_ptr<const std::string>> queue;
  std::size_t pending = 0;    // bytes queued or being written
  bool closed = false;        // no more writes: dropped, stopped, or the peer went away
  beast::tcp_stream* stream;  // null once the session has ended
  std::string peer;
  std::array<char, 256> read_scratch;  // for the read that notices the peer closing

  void Close() {
    if (closed) return;
    closed = true;
    if (stream) stream->close();
    wake.cancel();
  }
};

// Reads (and ignores) whatever the client sends, so that its closing is noticed without
// waiting for the next write. Touches only the client, which the handler keeps alive.
void WatchForClose(const std::shared_ptr<StreamClient>& client) {
  if (client->closed || !client->stream) return;
  client->stream->socket().async_read_some(asio::buffer(client->read_scratch),
                                           [client](const error_code& ec, std::size_t) {
                                             if (client->closed || !client->stream) return;
                                             if (ec) {
                                               client->closed = true;
                                               client->wake.cancel();
                                               return;
                                             }
                                             WatchForClose(client);
                                           });
}

// Closing with unread request bytes would reset the connection, and the reset can destroy
// the last response before the client reads it: half-close, then read until the client
// closes too, for kLinger at most.
awaitable<void> LingeringClose(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(kLinger);
  std::array<char, 1024> sink;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kUseTuple);
    if (ec) break;
  }
}

// What a request is answered with (the stream switches to Server-Sent Events instead).
struct Reply {
  http::status status = http::status::ok;
  std::string_view content_type = kJsonType;
  std::string body;
  std::vector<std::pair<http::field, std::string>> headers;
  bool close = false;   // close the connection after it
  bool stream = false;  // GET /api/v1/stream, accepted
};

Reply Error(http::status status, std::string_view message) {
  Reply reply;
  reply.status = status;
  reply.body = ErrorJson(static_cast<int>(status), message);
  return reply;
}

Reply Text(http::status status, std::string body, std::string_view type = kTextType) {
  Reply reply;
  reply.status = status;
  reply.content_type = type;
  reply.body = std::move(body);
  return reply;
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  asio::any_io_executor executor;
  ServerOptions options;
  Provider& provider;
  spdlog::logger& log;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  bool started = false;
  bool stopping = false;
  bool accepting = false;                // the accept loop has not returned
  std::size_t connections = 0;           // sessions whose coroutine has not returned
  std::size_t refusing = 0;              // refusals in progress
  std::set<beast::tcp_stream*> streams;  // every open connection, to close on Stop
  std::set<std::shared_ptr<StreamClient>> stream_clients;
  steady_clock::time_point last_refuse_log{};
  std::size_t refused_unlogged = 0;

  Impl(asio::any_io_executor e, ServerOptions o, Provider& p, spdlog::logger& l)
      : executor(e), options(std::move(o)), provider(p), log(l), acceptor(e) {}

  void Start();
  void Stop();
  void Publish(std::string json);
  awaitable<void> Accept();
  awaitable<void> Session(tcp::socket socket);
  awaitable<void> Refuse(tcp::socket socket);
  awaitable<Reply> Handle(const http::request<http::empty_body>& request, const Target& target);
  awaitable<void> Stream(beast::tcp_stream& stream, const std::string& peer);
  void Spawned(std::exception_ptr error, std::string_view what);
};

void Server::Impl::Start() {
  if (started || stopping) throw std::logic_error("admin server: Start() after Start() or Stop()");
  const std::string where = HostPort(options.host, options.port);
  auto fail = [&](const error_code& ec) {
    error_code ignored;
    acceptor.close(ignored);
    throw std::system_error(ec, "admin server cannot listen on " + where);
  };
  error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) fail(ec);
  tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (ec) fail(ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) fail(ec);
  acceptor.bind(endpoint, ec);
  if (ec) fail(ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail(ec);
  port = acceptor.local_endpoint(ec).port();
  started = true;
  accepting = true;
  asio::co_spawn(executor, Accept(), [self = shared_from_this()](std::exception_ptr e) {
    self->accepting = false;
    self->Spawned(e, "accept loop");
  });
  log.info("admin server listening on {}{}", HostPort(options.host, port),
           options.token.empty() ? "" : " (token required for /metrics and /api)");
}

void Server::Impl::Stop() {
  if (stopping) return;
  stopping = true;
  error_code ignored;
  acceptor.close(ignored);
  for (const auto& client : stream_clients) client->Close();
  for (auto* stream : streams) stream->close();
}

void Server::Impl::Spawned(std::exception_ptr error, std::string_view what) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log.error("admin server: {} failed: {}", what, e.what());
  } catch (...) {
    log.error("admin server: {} failed", what);
  }
}

awaitable<void> Server::Impl::Accept() {
  while (!stopping) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (stopping) break;
    if (ec) {
      log.warn("admin server: accept failed: {}", ec.message());
      asio::steady_timer pause(executor, kAcceptRetry);
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    if (connections >= options.max_connections) {
      auto now = steady_clock::now();
      ++refused_unlogged;
      if (now - last_refuse_log >= kRefuseLogInterval) {
        log.warn("admin server: {} connection(s) refused: {} open (max_connections)",
                 refused_unlogged, connections);
        last_refuse_log = now;
        refused_unlogged = 0;
      }
      if (refusing >= options.max_connections) continue;  // the socket closes here
      // Counted here, not in the coroutine: it starts later, after more accepts.
      ++refusing;
      asio::co_spawn(executor, Refuse(std::move(socket)),
                     [self = shared_from_this()](std::exception_ptr e) {
                       --self->refusing;
                       self->Spawned(e, "refusing a connection");
                     });
      continue;
    }
    ++connections;
    asio::co_spawn(executor, Session(std::move(socket)),
                   [self = shared_from_this()](std::exception_ptr e) {
                     --self->connections;
                     self->Spawned(e, "connection");
                   });
  }
}

awaitable<void> Server::Impl::Refuse(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  Registration registration(streams, &stream);
  static const std::string kBusy = [] {
    std::string body = ErrorJson(503, "too many connections");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
  }();
  stream.expires_after(kLinger);
  auto [ec, written] = co_await asio::async_write(stream, asio::buffer(kBusy), kUseTuple);
  if (ec) co_return;
  auto op = LingeringClose(stream);
  co_await std::move(op);
}

awaitable<void> Server::Impl::Session(tcp::socket socket) {
  const std::string peer = PeerOf(socket);
  beast::tcp_stream stream(std::move(socket));
  Registration registration(streams, &stream);
  // Room for one header block at its limit plus what a client may pipeline behind it.
  beast::flat_buffer buffer(options.max_header_bytes * 2);

  while (!stopping) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(0);
    stream.expires_after(options.read_timeout);
    auto [ec, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (stopping) co_return;
    std::optional<Reply> refusal;
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) {
      co_return;
    } else if (ec == beast::error::timeout) {
      log.debug("admin server: {}: no request within {} ms, closing", peer,
                options.read_timeout.count());
      co_return;
    } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow ||
               (!ec && read > options.max_header_bytes)) {
      // (Beast 1.81 misses its header_limit when one read ends just under it.)
      refusal =
          Error(http::status::request_header_fields_too_large,
                "request headers over " + std::to_string(options.max_header_bytes) + " bytes");
    } else if (ec == http::error::body_limit || ec == http::error::unexpected_body) {
      refusal = Error(http::status::payload_too_large, "request bodies are not accepted");
    } else if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      refusal = Error(http::status::bad_request, "malformed request");
    } else if (ec) {
      log.debug("admin server: {}: {}", peer, ec.message());
      co_return;
    }

    const auto& request = parser.get();
    const bool head = !refusal && request.method() == http::verb::head;
    const unsigned version = refusal ? 11 : request.version();
    std::string path = "-";
    Reply reply;
    if (refusal) {
      reply = std::move(*refusal);
      reply.close = true;
    } else if (auto target = ParseTarget(request.target())) {
      path = target->path;
      auto op = Handle(request, *target);
      reply = co_await std::move(op);
      if (stopping) co_return;
    } else {
      reply = Error(http::status::bad_request, "the request target must be a path");
    }
    log.debug("admin server: {} {} {} -> {}", peer,
              refusal ? std::string_view("-") : std::string_view(request.method_string()), path,
              static_cast<int>(reply.status));

    if (reply.stream && !head) {
      auto op = Stream(stream, peer);
      co_await std::move(op);
      co_return;
    }
    const bool keep_alive = !reply.close && !refusal && request.keep_alive();
    http::response<http::string_body> response{reply.status, version};
    response.set(http::field::content_type, reply.content_type);
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    for (auto& [field, value] : reply.headers) response.set(field, value);
    response.keep_alive(keep_alive);
    if (reply.stream) {
      // HEAD of the stream: its headers, with no length (the stream has none).
      http::response<http::empty_body> header{std::move(response.base())};
      stream.expires_after(options.write_timeout);
      auto [wec, n] = co_await http::async_write(stream, header, kUseTuple);
      if (wec) co_return;
    } else {
      response.body() = std::move(reply.body);
      response.prepare_payload();
      stream.expires_after(options.write_timeout);
      error_code wec;
      if (head) {
        http::response<http::empty_body> header{std::move(response.base())};
        std::tie(wec, std::ignore) = co_await http::async_write(stream, header, kUseTuple);
      } else {
        std::tie(wec, std::ignore) = co_await http::async_write(stream, response, kUseTuple);
      }
      if (wec) {
        log.debug("admin server: {}: cannot send the response: {}", peer, wec.message());
        co_return;
      }
    }
    if (!keep_alive) break;
  }
  auto op = LingeringClose(stream);
  co_await std::move(op);
}

awaitable<Reply> Server::Impl::Handle(const http::request<http::empty_body>& request,
                                      const Target& target) {
  const std::string& path = target.path;
  enum class Route { kMetrics, kHealthz, kReadyz, kSources, kMatches, kStream, kNone };
  Route route = Route::kNone;
  if (path == "/metrics") route = Route::kMetrics;
  if (path == "/healthz") route = Route::kHealthz;
  if (path == "/readyz") route = Route::kReadyz;
  if (path == "/api/v1/sources") route = Route::kSources;
  if (path == "/api/v1/matches") route = Route::kMatches;
  if (path == "/api/v1/stream") route = Route::kStream;

  // Unknown /api/ paths need the token too: without it, nothing tells which exist.
  const bool guarded = route == Route::kMetrics || path.starts_with("/api/");
  if (guarded && !options.token.empty()) {
    auto it = request.find(http::field::authorization);
    std::string_view given;
    if (it != request.end()) given = std::string_view(it->value());
    if (!BearerMatches(given, options.token)) {
      log.info("admin server: {} {} refused: {}", std::string_view(request.method_string()), path,
               given.empty() ? "no Authorization header" : "wrong token");
      Reply reply = Error(http::status::unauthorized, "a bearer token is required");
      reply.headers.emplace_back(http::field::www_authenticate, "Bearer realm=\"newsmon\"");
      co_return reply;
    }
  }
  if (route == Route::kNone) co_return Error(http::status::not_found, "not found");
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    Reply reply = Error(http::status::method_not_allowed, "only GET and HEAD are allowed");
    reply.headers.emplace_back(http::field::allow, kAllowed);
    co_return reply;
  }

  try {
    switch (route) {
      case Route::kHealthz:
        co_return Text(http::status::ok, "ok\n");
      case Route::kReadyz:
        if (provider.Ready()) co_return Text(http::status::ok, "ready\n");
        co_return Text(http::status::service_unavailable, "not ready\n");
      case Route::kMetrics:
        co_return Text(http::status::ok, provider.Metrics(), kMetricsType);
      case Route::kSources:
        co_return Text(http::status::ok, SourcesJson(provider.Sources()), kJsonType);
      case Route::kMatches: {
        auto parsed = ParseMatchesQuery(target.params);
        if (!parsed.error.empty()) co_return Error(http::status::bad_request, parsed.error);
        auto op = provider.Matches(parsed.query.limit, parsed.query.rule, parsed.query.source);
        std::vector<store::HistoryEntry> entries = co_await std::move(op);
        co_return Text(http::status::ok, MatchesJson(entries), kJsonType);
      }
      case Route::kStream: {
        if (stream_clients.size() >= options.max_stream_clients) {
          Reply reply = Error(
              http::status::service_unavailable,
              "too many stream clients (max " + std::to_string(options.max_stream_clients) + ")");
          reply.headers.emplace_back(http::field::retry_after, "5");
          co_return reply;
        }
        Reply reply = Text(http::status::ok, "", kEventStreamType);
        reply.stream = true;
        co_return reply;
      }
      case Route::kNone:
        break;
    }
  } catch (const std::exception& e) {
    log.error("admin server: {} failed: {}", path, e.what());
  }
  co_return Error(http::status::internal_server_error, "internal error");
}

awaitable<void> Server::Impl::Stream(beast::tcp_stream& stream, const std::string& peer) {
  auto client = std::make_shared<StreamClient>(executor, stream, peer);
  Registration registration(stream_clients, client);
  struct Detach {
    StreamClient& client;
    ~Detach() {
      client.closed = true;
      client.stream = nullptr;
    }
  } detach{*client};
  log.info("admin server: stream client {} connected ({} now)", peer, stream_clients.size());

  // Close-delimited: the body ends when the connection does.
  static const std::string kHeader =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
  static const auto kPing = std::make_shared<const std::string>(": ping\n\n");
  client->queue.push_back(std::make_shared<const std::string>(kHeader));
  client->pending += kHeader.size();
  WatchForClose(client);

  auto next_ping = steady_clock::now() + options.ping_interval;
  std::vector<std::shared_ptr<const std::string>> batch;
  std::vector<asio::const_buffer> buffers;
  while (!client->closed && !stopping) {
    if (client->queue.empty()) {
      client->wake.expires_at(next_ping);
      co_await client->wake.async_wait(kUseTuple);
      if (client->closed || stopping) break;
      if (client->queue.empty()) {
        if (steady_clock::now() < next_ping) continue;
        client->queue.push_back(kPing);
        client->pending += kPing->size();
      }
    }
    batch.assign(client->queue.begin(), client->queue.end());
    client->queue.clear();
    buffers.clear();
    std::size_t bytes = 0;
    for (const auto& part : batch) {
      buffers.push_back(asio::buffer(*part));
      bytes += part->size();
    }
    stream.expires_after(options.write_timeout);
    auto [ec, written] = co_await asio::async_write(stream, buffers, kUseTuple);
    client->pending -= bytes;
    batch.clear();
    if (ec == beast::error::timeout) {
      log.warn("admin server: stream client {} dropped: it took nothing for {} ms", peer,
               options.write_timeout.count());
      break;
    }
    if (ec) break;
    next_ping = steady_clock::now() + options.ping_interval;
  }
  log.info("admin server: stream client {} disconnected", peer);
}

void Server::Impl::Publish(std::string json) {
  if (stopping || stream_clients.empty()) return;
  std::string event = "event: match\n";
  std::string_view rest = json;
  for (;;) {
    std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    event += "data: ";
    event += line;
    event += '\n';
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  event += '\n';
  auto shared = std::make_shared<const std::string>(std::move(event));
  for (const auto& client : stream_clients) {
    if (client->closed) continue;
    if (client->pending + shared->size() > options.max_stream_buffer) {
      log.warn("admin server: stream client {} dropped: {} bytes waiting (max_stream_buffer {})",
               client->peer, client->pending, options.max_stream_buffer);
      client->Close();
      continue;
    }
    client->queue.push_back(shared);
    client->pending += shared->size();
    client->wake.cancel();
  }
}

Server::Server(asio::any_io_executor executor, ServerOptions options, Provider& provider,
               spdlog::logger& log)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), provider, log)) {}

Server::~Server() { Stop(); }

void Server::Start() { impl_->Start(); }

void Server::Stop() { impl_->Stop(); }

bool Server::Stopped() const {
  const Impl& i = *impl_;
  return (!i.started || i.stopping) && !i.accepting && i.connections == 0 && i.refusing == 0;
}

std::uint16_t Server::port() const { return impl_->port; }

void Server::Publish(std::string json) { impl_->Publish(std::move(json)); }

std::size_t Server::connections() const { return impl_->connections; }

std::size_t Server::stream_clients() const {
  std::size_t open = 0;
  for (const auto& client : impl_->stream_clients) open += client->closed ? 0 : 1;
  return open;
}

}  // namespace newsmon::admin
