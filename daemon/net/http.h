// An asynchronous HTTP/1.1 client for sources and sinks (Boost.Beast on Asio coroutines).
//
// One request at a time per connection, idle connections kept per (scheme, host, port,
// proxy, TLS settings) for reuse. TLS through OpenSSL with certificate and host name
// verification against the system store (plus an optional CA file), SNI. Redirects are
// followed for GET up to a limit with loop detection and no https→http downgrade, each hop
// checked against the address policy on the address actually connected to. gzip and
// deflate bodies are inflated as they stream in and the limit applies to the inflated size.
// One deadline covers the whole request (all hops); a shorter one covers each connect.
//
// This header does not include Beast; only net's own sources do.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/source.h"
#include "daemon/net/address_policy.h"

namespace newsmon::net {

class Resolver;

// Why a request produced no HTTP response. An HTTP error status is not an error here.
enum class HttpError {
  kNone,
  kTimeout,   // the total or the connect deadline passed
  kTls,       // handshake or certificate verification failed
  kDns,       // the host did not resolve (or not in time: then kTimeout is not used)
  kConnect,   // refused, reset, closed early, malformed response
  kTooLarge,  // header block or (decompressed) body over its limit
  kRedirect,  // too many hops, a loop, a missing/bad Location, https→http
  kBlocked,   // the address policy refused the address, or a scheme other than http(s)
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;                    // absolute http:// or https://
  std::vector<core::Header> headers;  // sent as given after the client's own
  std::string body;                   // sent with Content-Length when not empty
  std::string user_agent;             // empty = DefaultUserAgent()
  std::chrono::milliseconds timeout = std::chrono::seconds(30);          // the whole request
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);  // each DNS+TCP+TLS
  std::uint64_t max_body = 10 * 1024 * 1024;                             // after decompression
  std::size_t max_header = 64 * 1024;  // the whole response header block
  int max_redirects = 5;               // 0 = return the 3xx itself
  bool decompress = true;              // send Accept-Encoding: gzip, deflate
  bool tls_verify = true;
  std::string ca_file;  // PEM bundle trusted in addition to the system store
  std::string proxy;    // "http://host:port" or "" = direct (exempt from the policy)
  AddressPolicy policy;
};

struct Redirect {
  int status = 0;  // 301, 302, 303, 307, 308
  std::string from;
  std::string to;
  bool permanent() const { return status == 301 || status == 308; }
};

struct HttpResponse {
  int status = 0;
  std::vector<core::Header> headers;  // as received, in order
  std::string body;                   // decoded (inflated) when it was compressed
  std::string url;                    // where the response came from, after redirects
  std::vector<Redirect> redirects;    // the hops followed, in order
  std::uint64_t wire_bytes = 0;       // body bytes as received, before inflating

  // The first header named `name` (case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpResult {
  HttpError error = HttpError::kNone;
  std::string message;    // on error: what failed, naming the URL (and address, if any)
  HttpResponse response;  // complete when error is kNone
  bool ok() const { return error == HttpError::kNone; }
};

struct ClientOptions {
  std::size_t max_idle_per_key = 4;  // idle connections kept per origin
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);  // then closed
};

// "newsmon/<version> (+<project URL>)".
const std::string& DefaultUserAgent();

class HttpClient {
 public:
  // `executor`'s io_context must run on one thread; `resolver` must outlive the client.
  HttpClient(boost::asio::any_io_executor executor, Resolver& resolver, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Never throws for network or protocol problems: they come back as HttpResult errors.
  boost::asio::awaitable<HttpResult> Fetch(HttpRequest request);

  // Idle connections currently kept (for tests and metrics).
  std::size_t IdleConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace newsmon::net
