// A scripted HTTP/1.1 (and HTTPS) server for network tests, on a loopback address.
//
// It runs on its own thread with its own io_context. Tests register a handler per path;
// each handler gets the parsed request and returns a `Reply` that says what to send,
// including the broken behaviours a client must survive (a header block that never ends, a
// dripping body, a reset mid-body, a wrong Content-Length, an endless body, a gzip bomb, no
// answer at all). Every request is recorded and every accepted connection counted.
// Connections are kept alive across requests unless the request or the reply says close.
//
// Thread-safety: Handle, Requests and ConnectionsAccepted may be called from any thread;
// Stop and the destructor from the thread that owns the server. Handlers run on the server's
// thread, one at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.h"

namespace newsmon::test {

using HttpHeader = std::pair<std::string, std::string>;

// One request as the server parsed it.
struct ReceivedRequest {
  std::string method;
  std::string target;  // as sent, e.g. "/feed?x=1"
  std::vector<HttpHeader> headers;
  std::string body;
  std::size_t connection = 0;  // 1-based number of the connection it came on

  // The path part of the target (before '?').
  std::string_view Path() const;
  // The first header named `name` (case-insensitive).
  std::optional<std::string> Header(std::string_view name) const;
};

// What the server does with a request.
struct Reply {
  enum class Kind {
    kNormal,           // status, headers, body with the chosen framing and encoding
    kWrongLength,      // Content-Length: announced_length, then `body` (either size)
    kHeadersNeverEnd,  // `body` as a partial header block, then silence
    kDrip,             // headers with Content-Length, then `body` one byte per drip_interval
    kResetMidBody,     // headers with Content-Length, reset_after bytes of `body`, then RST
    kEndless,          // 'x' bytes without end (or `size` of them with Content-Length)
    kGzipBomb,         // gzip of `size` zero bytes, streamed chunked as it is compressed
    kHang,             // read the request and never answer
  };
  enum class Encoding { kIdentity, kGzip, kDeflate };  // deflate = zlib format (RFC 9110)
  enum class Framing { kContentLength, kChunked };

  Kind kind = Kind::kNormal;
  int status = 200;
  std::vector<HttpHeader> headers;          // sent as given, before the server's framing headers
  std::string body;                         // the uncompressed body
  Encoding encoding = Encoding::kIdentity;  // the server compresses and adds Content-Encoding
  Framing framing = Framing::kContentLength;
  std::size_t chunk_size = 1000;       // bytes per chunk when chunked
  bool close = false;                  // send Connection: close and close after the reply
  std::uint64_t announced_length = 0;  // kWrongLength
  std::chrono::milliseconds drip_interval{1000};  // kDrip
  std::size_t reset_after = 0;                    // kResetMidBody: body bytes sent first
  std::uint64_t size = 0;  // kEndless: 0 = forever (chunked); kGzipBomb: inflated bytes

  static Reply Text(int status, std::string body, std::vector<HttpHeader> headers = {});
  static Reply Redirect(int status, std::string location);
  // The announced length may be longer (then the server closes) or shorter than the body.
  static Reply WrongLength(std::string body, std::uint64_t announced_length);
  static Reply HeadersNeverEnd();
  static Reply Drip(std::string body, std::chrono::milliseconds interval);
  static Reply ResetMidBody(std::string body, std::size_t reset_after);
  static Reply Endless(std::uint64_t size = 0);
  static Reply GzipBomb(std::uint64_t inflated_size);
  static Reply Hang();
};

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // any loopback address: 127.0.0.2, ...
  // HTTPS with a self-signed certificate made at start for "localhost", 127.0.0.1 and
  // 127.0.0.2; its PEM is in ca_file().
  bool tls = false;
};

class TestHttpServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  // Listens (on an ephemeral port) before returning. Throws when it cannot.
  explicit TestHttpServer(HttpServerOptions options = {});
  ~TestHttpServer();  // Stop()
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // Answers requests whose path (without query) is `path`; unknown paths get 404.
  void Handle(std::string path, Handler handler);
  // Shorthand for a handler that always returns `reply`.
  void Handle(std::string path, Reply reply);

  // Closes the listener and every connection, hanging or dripping ones included, and joins
  // the thread. Idempotent.
  void Stop();

  const std::string& address() const { return options_.address; }
  std::uint16_t port() const { return port_; }
  // "http[s]://<address>:<port><path>".
  std::string Url(std::string_view path) const;
  // The PEM certificate file to trust; empty without TLS.
  std::string ca_file() const;

  std::vector<ReceivedRequest> Requests() const;
  std::size_t ConnectionsAccepted() const;

 private:
  struct Impl;

  std::optional<Handler> FindHandler(std::string_view path) const;
  void Record(const ReceivedRequest& request);

  HttpServerOptions options_;
  std::uint16_t port_ = 0;
  std::unique_ptr<TempDir> cert_dir_;
  std::string ca_file_;

  mutable std::mutex mutex_;  // guards handlers_, requests_, connections_
  std::map<std::string, Handler, std::less<>> handlers_;
  std::vector<ReceivedRequest> requests_;
  std::size_t connections_ = 0;

  std::unique_ptr<Impl> impl_;  // the io_context, listener and connections
  std::thread thread_;
};

}  // namespace newsmon::test
