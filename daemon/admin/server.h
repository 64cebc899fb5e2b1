// The admin HTTP server: Prometheus metrics, liveness and readiness, and a read-only JSON API
// over the daemon's sources and matches, with a Server-Sent Events stream of new matches.
//
//   GET /metrics               text/plain; version=0.0.4   (token, when set)
//   GET /healthz               200 "ok" while the event loop answers (never needs a token)
//   GET /readyz                200 when Provider::Ready(), else 503 (never needs a token)
//   GET /api/v1/sources        JSON array of SourcesJson                (token, when set)
//   GET /api/v1/matches        ?limit=1..1000 (50) &rule= &source=      (token, when set)
//   GET /api/v1/stream         text/event-stream: `event: match` per Publish() (token)
//
// GET and HEAD only (others 405 with Allow); unknown paths 404; errors are JSON
// {"status": N, "error": "..."}. The token is compared in constant time and never logged;
// request bodies are refused (413), never read or logged. Every connection has a read deadline
// for each request (which is also its keep-alive idle limit), a write deadline for each
// response, a header size cap, and counts toward max_connections: over it a new connection
// gets 503 and is closed. README text: build/notes/admin.md.
//
// Thread-safety: none. The Server and the Provider are used only on the thread that runs
// the executor's io_context (the daemon's single network thread); every method, Publish
// included, must be called there.
//
// This header does not include Beast; only server.cpp does.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/poll.h"
#include "daemon/core/source.h"
#include "daemon/store/store.h"

namespace spdlog {
class logger;
}

namespace newsmon::admin {

// One configured source and what the scheduler knows of it.
struct SourceStatus {
  std::string name;
  // The configured URL. Shown as scheme://host[:port]/path: the query and fragment (which may
  // hold API keys) and any userinfo are dropped by the server. Headers are never shown.
  std::string url;
  core::SourceKind kind = core::SourceKind::kAuto;
  bool enabled = true;
  core::SourceState state;
};

// What the daemon shows through the server. Every call comes on the server's thread, and
// may throw: the request then gets a 500 and the exception is logged (never sent).
class Provider {
 public:
  virtual ~Provider() = default;
  // Config loaded, store open, first schedule set: the daemon does its job.
  virtual bool Ready() const = 0;
  // The Prometheus text exposition format 0.0.4.
  virtual std::string Metrics() = 0;
  // Every configured source, in config order.
  virtual std::vector<SourceStatus> Sources() = 0;
  // The most recent matched items, newest first, at most `limit` (1..1000), only those of
  // `rule` and/or `source` when given (exact names). Must resume on the server's executor.
  virtual boost::asio::awaitable<std::vector<store::HistoryEntry>> Matches(
      std::size_t limit, std::optional<std::string> rule, std::optional<std::string> source) = 0;
};

struct ServerOptions {
  // An IP literal ("127.0.0.1", "::1", "0.0.0.0"); no host names.
  std::string host = "127.0.0.1";
  std::uint16_t port = 9787;  // 0 = any free port (tests); see Server::port()
  // Bearer token for /metrics and /api/*; empty = no authentication (default). /healthz and
  // /readyz never need it.
  std::string token;
  // Open connections (SSE clients included); a connection over it gets 503 and is closed.
  std::size_t max_connections = 64;
  std::size_t max_header_bytes = 8 * 1024;  // request line and headers; over it 431
  // A whole request (line and headers) must arrive within this, the first one counted from
  // the accept and each later one from the previous response: it is also the keep-alive
  // idle limit. Default 10 s.
  std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  // Each response (and each write to an SSE client) must be taken by the client within this,
  // else the connection is closed. Default 10 s.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  std::size_t max_stream_clients = 16;  // /api/v1/stream clients at once; over it 503
  // Bytes of events queued for one SSE client (not yet taken by its socket); a client whose
  // queue would grow past it is dropped. Default 1 MiB.
  std::size_t max_stream_buffer = 1024 * 1024;
  // An SSE `: ping` comment after this long without an event. Default 15 s.
  std::chrono::milliseconds ping_interval = std::chrono::seconds(15);
};

class Server {
 public:
  // `provider` and `log` must outlive the server's coroutines: until Stopped() holds, or the
  // io_context is destroyed. Nothing happens before Start().
  Server(boost::asio::any_io_executor executor, ServerOptions options, Provider& provider,
         spdlog::logger& log);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then accepts in the background. Throws std::system_error whose
  // what() names the address, e.g. "admin server cannot listen on 127.0.0.1:9787: Address
  // already in use" (also for a host that is not an IP literal); then the server stays
  // stopped. Throws std::logic_error when called after Start() or Stop().
  void Start();
  // Stops accepting and closes every connection (SSE clients included). Requests waiting on
  // the Provider finish without an answer. Idempotent.
  void Stop();
  // Stop() was called (or Start() never was) and every connection's coroutine has returned:
  // the Provider may go.
  bool Stopped() const;

  // The port listened on (the chosen one when options.port was 0); 0 before Start().
  std::uint16_t port() const;

  // Sends `json` (one match, as MatchJson makes it) to every /api/v1/stream client as
  // `event: match` + `data: <json>` (a line break in `json` starts another data: line).
  // Never blocks: each client has its own queue, and a client whose queue would exceed
  // max_stream_buffer is dropped.
  void Publish(std::string json);

  // Open connections and SSE clients (for tests and logs).
  std::size_t connections() const;
  std::size_t stream_clients() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the coroutines, which may outlive the Server
};

// One matched item as /api/v1/matches lists it and /api/v1/stream sends it (valid UTF-8,
// invalid bytes replaced):
//   {"id": 42, "source": "caliber-az",
//    "rules": [{"name": "corridor", "severity": "critical"}],
//    "item": {"id", "title", "link", "published", "summary", "author", "categories"},
//    "first_seen": "2024-05-01T12:03:04.567Z", "alerted": true}
// `id` is null when entry.id is 0 (an entry not read from the store).
std::string MatchJson(const store::HistoryEntry& entry);

}  // namespace newsmon::admin
