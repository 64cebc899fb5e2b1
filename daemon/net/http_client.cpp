#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "daemon/core/url.h"
#include "daemon/core/version.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"

namespace newsmon::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using boost::system::error_code;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Idle connections kept over all origins; a new one beyond it is closed instead.
constexpr std::size_t kMaxIdleTotal = 1024;
// Compressed bytes may exceed max_body by this factor before the inflated size does.
constexpr std::uint64_t kWireSlack = 2;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string Seconds(milliseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%gs", static_cast<double>(d.count()) / 1000.0);
  return text;
}

// Where a request goes, from its URL.
struct Target {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  bool host_is_ip = false;
  std::string host_header;  // host[:port] as the Host header wants it
  std::string path;         // origin-form target: path and query
};

std::optional<Target> ParseTarget(const std::string& url, std::string* error) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    *error = "not an absolute URL";
    return std::nullopt;
  }
  Target t;
  auto scheme = parsed->scheme();
  if (EqualsIgnoreCase(scheme, "https")) {
    t.tls = true;
  } else if (!EqualsIgnoreCase(scheme, "http")) {
    *error = "scheme '" + std::string(scheme) + "' is not http or https";
    return std::nullopt;
  }
  switch (parsed->host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      t.host = parsed->host_address();
      t.host_is_ip = true;
      break;
    case boost::urls::host_type::name:
      t.host = parsed->host_name();
      break;
    default:
      *error = "no usable host";
      return std::nullopt;
  }
  if (t.host.empty()) {
    *error = "no host";
    return std::nullopt;
  }
  std::transform(t.host.begin(), t.host.end(), t.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  t.port = t.tls ? 443 : 80;
  if (parsed->has_port()) {
    if (parsed->port().empty() || parsed->port_number() == 0) {
      *error = "bad port";
      return std::nullopt;
    }
    t.port = parsed->port_number();
  }
  t.host_header = std::string(parsed->encoded_host_and_port());
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  return t;
}

struct ProxyTarget {
  std::string host;
  std::uint16_t port = 0;
};

std::optional<ProxyTarget> ParseProxy(const std::string& proxy) {
  std::string ignored;
  auto t = ParseTarget(proxy, &ignored);
  if (!t || t->tls) return std::nullopt;
  return ProxyTarget{t->host, t->port};
}

// Streaming gzip/deflate decoder with a cap on the inflated size.
class Inflater {
 public:
  enum class Status { kOk, kTooLarge, kBad };

  Inflater(std::string_view encoding, std::uint64_t limit, std::string& out)
      : limit_(limit), out_(out) {
    gzip_ = EqualsIgnoreCase(encoding, "gzip") || EqualsIgnoreCase(encoding, "x-gzip");
  }
  ~Inflater() {
    if (started_) inflateEnd(&z_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  Status Feed(const char* data, std::size_t size) {
    if (size == 0) return Status::kOk;
    if (!started_) {
      // "deflate" is meant to be zlib-wrapped, but many servers send raw deflate.
      int bits = 15 + 32;  // gzip or zlib header, detected
      if (!gzip_) {
        auto b0 = static_cast<unsigned char>(data[0]);
        bool zlib_header = (b0 & 0x0f) == 8;
        if (size >= 2) {
          auto b1 = static_cast<unsigned char>(data[1]);
          zlib_header = zlib_header && (b0 * 256 + b1) % 31 == 0;
        }
        bits = zlib_header ? 15 : -15;
      }
      if (inflateInit2(&z_, bits) != Z_OK) return Status::kBad;
      started_ = true;
    }
    if (ended_) return Status::kOk;  // trailing bytes after the stream: ignored
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z_.avail_in = static_cast<uInt>(size);
    std::array<char, 32 * 1024> chunk;
    while (z_.avail_in > 0) {
      z_.next_out = reinterpret_cast<Bytef*>(chunk.data());
      z_.avail_out = static_cast<uInt>(chunk.size());
      int rc = inflate(&z_, Z_NO_FLUSH);
      std::size_t produced = chunk.size() - z_.avail_out;
      if (out_.size() + produced > limit_) return Status::kTooLarge;
      out_.append(chunk.data(), produced);
      if (rc == Z_STREAM_END) {
        ended_ = true;
        break;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) return Status::kBad;
      if (rc == Z_BUF_ERROR && produced == 0) break;
    }
    return Status::kOk;
  }
  // False when the stream stopped before its end.
  bool Complete() const { return !started_ || ended_; }

 private:
  z_stream z_{};
  bool gzip_ = false;
  bool started_ = false;
  bool ended_ = false;
  std::uint64_t limit_;
  std::string& out_;
};

struct Connection {
  std::string key;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::optional<asio::ip::address> peer;  // the address connected to; unset through a proxy
  std::string peer_text;                  // "127.0.0.1:8080", for messages
  steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void Close() {
    error_code ignored;
    lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }
};

// A failed step, classified.
struct Failure {
  HttpError error = HttpError::kNone;
  std::string message;
};

std::string SslErrorText(const error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr) return reason;
  }
  return ec.message();
}

std::string PeerSuffix(const Connection* conn) {
  return conn && !conn->peer_text.empty() ? " (" + conn->peer_text + ")" : "";
}

}  // namespace

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

const std::string& DefaultUserAgent() {
  // Built once: every request without its own User-Agent sends it.
  static const std::string agent =
      std::string("newsmon/") + core::kVersion + " (+" + core::kProjectUrl + ")";
  return agent;
}

struct HttpClient::Impl {
  asio::any_io_executor executor;
  Resolver& resolver;
  ClientOptions options;
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle;
  std::size_t idle_count = 0;
  std::map<std::pair<bool, std::string>, std::shared_ptr<ssl::context>> tls_contexts;

  Impl(asio::any_io_executor e, Resolver& r, ClientOptions o)
      : executor(std::move(e)), resolver(r), options(o) {}

  // One request: every hop, within the total deadline.
  awaitable<HttpResult> Fetch(HttpRequest request);

  // One request/response on one connection (taken from the pool or made).
  awaitable<HttpResult> Exchange(const HttpRequest& request, const std::string& url,
                                 const Target& target, steady_clock::time_point deadline);

  awaitable<std::unique_ptr<Connection>> Connect(const HttpRequest& request, const std::string& url,
                                                 const Target& target, const std::string& key,
                                                 steady_clock::time_point deadline,
                                                 Failure& failure);

  template <typename Stream>
  awaitable<HttpResult> RoundTrip(Stream& stream, Connection& conn, const HttpRequest& request,
                                  const std::string& url, const Target& target, bool via_proxy,
                                  steady_clock::time_point deadline, bool& retryable);

  std::shared_ptr<ssl::context> TlsContext(bool verify, const std::string& ca_file,
                                           std::string* error);

  std::unique_ptr<Connection> TakeIdle(const std::string& key, const AddressPolicy& policy,
                                       bool check_policy) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto now = steady_clock::now();
    while (!it->second.empty()) {
      auto conn = std::move(it->second.back());
      it->second.pop_back();
      --idle_count;
      bool fresh =
          now - conn->idle_since < options.idle_timeout && conn->lowest().socket().is_open();
      bool allowed = !check_policy || !conn->peer || !policy.Check(*conn->peer);
      if (fresh && allowed) {
        if (it->second.empty()) idle.erase(it);
        return conn;
      }
      conn->Close();
    }
    idle.erase(it);
    return nullptr;
  }

  void PutIdle(std::unique_ptr<Connection> conn) {
    auto& list = idle[conn->key];
    if (list.size() >= options.max_idle_per_key || idle_count >= kMaxIdleTotal) {
      conn->Close();
      if (list.empty()) idle.erase(conn->key);
      return;
    }
    conn->idle_since = steady_clock::now();
    list.push_back(std::move(conn));
    ++idle_count;
  }
};

std::shared_ptr<ssl::context> HttpClient::Impl::TlsContext(bool verify, const std::string& ca_file,
                                                           std::string* error) {
  auto key = std::make_pair(verify, ca_file);
  if (auto it = tls_contexts.find(key); it != tls_contexts.end()) return it->second;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       ec);
  if (verify) {
    context->set_default_verify_paths(ec);
    if (ec) {
      *error = "cannot load the system CA store: " + ec.message();
      return nullptr;
    }
    if (!ca_file.empty()) {
      context->load_verify_file(ca_file, ec);
      if (ec) {
        *error = "cannot load CA file " + ca_file + ": " + SslErrorText(ec);
        return nullptr;
      }
    }
    context->set_verify_mode(ssl::verify_peer);
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  tls_contexts.emplace(key, context);
  return context;
}

awaitable<std::unique_ptr<Connection>> HttpClient::Impl::Connect(
    const HttpRequest& request, const std::string& url, const Target& target,
    const std::string& key, steady_clock::time_point deadline, Failure& failure) {
  auto conn = std::make_unique<Connection>();
  conn->key = key;
  auto proxy = request.proxy.empty() ? std::nullopt : ParseProxy(request.proxy);
  if (!request.proxy.empty() && !proxy) {
    failure = {HttpError::kConnect, url + ": bad proxy URL " + request.proxy};
    co_return nullptr;
  }
  const std::string& connect_host = proxy ? proxy->host : target.host;
  std::uint16_t connect_port = proxy ? proxy->port : target.port;
  auto connect_deadline = std::min(deadline, steady_clock::now() + request.connect_timeout);
  auto remaining = [&](steady_clock::time_point until) {
    return std::max(milliseconds(0),
                    std::chrono::duration_cast<milliseconds>(until - steady_clock::now()));
  };
  // A deadline that passed: the total one (timeout) or the connect one (connect_timeout).
  auto timed_out = [&](std::string_view what) {
    bool total = steady_clock::now() >= deadline;
    failure = {HttpError::kTimeout, url + ": " + std::string(what) + " timed out after " +
                                        Seconds(total ? request.timeout : request.connect_timeout) +
                                        (total ? " (timeout)" : " (connect_timeout)")};
  };

  auto resolved = co_await resolver.Resolve(connect_host, remaining(connect_deadline));
  if (resolved.addresses.empty()) {
    if (resolved.timed_out && steady_clock::now() >= deadline) {
      timed_out("DNS lookup of " + connect_host);
    } else {
      failure = {HttpError::kDns,
                 url + ": " +
                     (resolved.timed_out ? "DNS lookup of " + connect_host + " timed out after " +
                                               Seconds(request.connect_timeout)
                                         : resolved.error)};
    }
    co_return nullptr;
  }

  std::string blocked;
  std::string last_error;
  bool connected = false;
  conn->plain.emplace(executor);
  for (const auto& address : resolved.addresses) {
    if (!proxy) {
      if (auto refused = request.policy.Check(address)) {
        if (blocked.empty()) blocked = *refused;
        continue;
      }
    }
    asio::ip::tcp::endpoint endpoint(address, connect_port);
    conn->plain->expires_at(connect_deadline);
    auto [ec] = co_await conn->plain->async_connect(endpoint, kUseTuple);
    if (!ec) {
      conn->peer = proxy ? std::nullopt : std::optional(address);
      conn->peer_text = (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) +
                        ":" + std::to_string(connect_port);
      connected = true;
      break;
    }
    if (ec == beast::error::timeout) {
      timed_out("connecting to " + endpoint.address().to_string());
      co_return nullptr;
    }
    last_error = "cannot connect to " + address.to_string() + ":" + std::to_string(connect_port) +
                 ": " + ec.message();
    conn->plain.emplace(executor);
  }
  if (!connected) {
    if (last_error.empty() && !blocked.empty()) {
      failure = {HttpError::kBlocked, url + ": " + blocked};
    } else {
      failure = {HttpError::kConnect, url + ": " + last_error};
    }
    co_return nullptr;
  }
  conn->plain->socket().set_option(asio::ip::tcp::no_delay(true));

  if (proxy && target.tls) {
    // A tunnel through the proxy: CONNECT host:port, then TLS end to end.
    std::string authority =
        (target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host) + ":" +
        std::to_string(target.port);
    http::request<http::empty_body> connect{http::verb::connect, authority, 11};
    connect.set(http::field::host, authority);
    conn->plain->expires_at(connect_deadline);
    auto [wec, written] = co_await http::async_write(*conn->plain, connect, kUseTuple);
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    error_code rec = wec;
    if (!rec)
      std::tie(rec, std::ignore) =
          co_await http::async_read(*conn->plain, conn->buffer, parser, kUseTuple);
    if (rec == beast::error::timeout) {
      timed_out("CONNECT through proxy " + request.proxy);
      co_return nullptr;
    }
    if (rec || parser.get().result_int() / 100 != 2) {
      failure = {HttpError::kConnect,
                 url + ": proxy " + request.proxy + " refused CONNECT: " +
                     (rec ? rec.message() : std::to_string(parser.get().result_int()))};
      co_return nullptr;
    }
  }

  if (target.tls) {
    std::string error;
    auto context = TlsContext(request.tls_verify, request.ca_file, &error);
    if (!context) {
      failure = {HttpError::kTls, url + ": " + error};
      co_return nullptr;
    }
    conn->tls.emplace(std::move(*conn->plain), *context);
    conn->plain.reset();
    SSL* native = conn->tls->native_handle();
    if (!target.host_is_ip) SSL_set_tlsext_host_name(native, target.host.c_str());
    if (request.tls_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(native);
      if (target.host_is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), 0);
      }
    }
    beast::get_lowest_layer(*conn->tls).expires_at(connect_deadline);
    auto [ec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kUseTuple);
    if (ec == beast::error::timeout) {
      timed_out("TLS handshake with " + conn->peer_text);
      co_return nullptr;
    }
    if (ec) {
      long verify = SSL_get_verify_result(native);
      std::string reason = verify != X509_V_OK ? std::string("certificate verification failed: ") +
                                                     X509_verify_cert_error_string(verify)
                                               : "TLS handshake failed: " + SslErrorText(ec);
      failure = {HttpError::kTls, url + PeerSuffix(conn.get()) + ": " + reason};
      co_return nullptr;
    }
  }
  co_return conn;
}

template <typename Stream>
awaitable<HttpResult> HttpClient::Impl::RoundTrip(Stream& stream, Connection& conn,
                                                  const HttpRequest& request,
                                                  const std::string& url, const Target& target,
                                                  bool via_proxy, steady_clock::time_point deadline,
                                                  bool& retryable) {
  HttpResult result;
  auto fail = [&](HttpError error, const std::string& reason) {
    result.error = error;
    result.message = url + PeerSuffix(&conn) + ": " + reason;
    return result;
  };
  auto timeout_text = [&] { return "timed out after " + Seconds(request.timeout) + " (timeout)"; };

  http::request<http::string_body> req;
  req.method_string(request.method);
  req.target(via_proxy && !target.tls ? url : target.path);
  req.version(11);
  req.set(http::field::host, target.host_header);
  req.set(http::field::user_agent,
          request.user_agent.empty() ? DefaultUserAgent() : request.user_agent);
  if (request.decompress) req.set(http::field::accept_encoding, "gzip, deflate");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty()) {
    req.body() = request.body;
    req.prepare_payload();
  }

  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [wec, written] = co_await http::async_write(stream, req, kUseTuple);
  if (wec == beast::error::timeout) co_return fail(HttpError::kTimeout, timeout_text());
  if (wec) {
    retryable = true;
    co_return fail(HttpError::kConnect, "cannot send the request: " + wec.message());
  }

  http::response_parser<http::buffer_body> parser;
  parser.header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(request.max_header, UINT32_MAX)));
  parser.body_limit(boost::none);
  if (req.method() == http::verb::head) parser.skip(true);
  auto [hec, header_bytes] =
      co_await http::async_read_header(stream, conn.buffer, parser, kUseTuple);
  if (hec == beast::error::timeout) co_return fail(HttpError::kTimeout, timeout_text());
  // Beast 1.81 misses its header_limit when one read ends just under it: check the size too.
  if (hec == http::error::header_limit || (!hec && header_bytes > request.max_header)) {
    co_return fail(HttpError::kTooLarge,
                   "response headers over " + std::to_string(request.max_header) + " bytes");
  }
  if (hec) {
    retryable = header_bytes == 0 && conn.buffer.size() == 0 &&
                (hec == http::error::end_of_stream || hec == asio::error::connection_reset ||
                 hec == asio::error::eof);
    co_return fail(HttpError::kConnect, "no valid response: " + hec.message());
  }

  auto& message = parser.get();
  HttpResponse& response = result.response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  std::string encoding;
  if (auto it = message.find(http::field::content_encoding); it != message.end()) {
    encoding = std::string(it->value());
  }
  bool inflate = request.decompress && !encoding.empty() && !EqualsIgnoreCase(encoding, "identity");
  if (inflate && !EqualsIgnoreCase(encoding, "gzip") && !EqualsIgnoreCase(encoding, "x-gzip") &&
      !EqualsIgnoreCase(encoding, "deflate")) {
    co_return fail(HttpError::kConnect, "unsupported Content-Encoding '" + encoding + "'");
  }
  Inflater inflater(encoding, request.max_body, response.body);
  std::uint64_t wire_limit = inflate ? request.max_body * kWireSlack : request.max_body;
  if (auto length = parser.content_length(); length && *length > wire_limit) {
    co_return fail(HttpError::kTooLarge, "body of " + std::to_string(*length) +
                                             " bytes is over max_body " +
                                             std::to_string(request.max_body));
  }
  std::array<char, 16 * 1024> chunk;
  while (!parser.is_done()) {
    message.body().data = chunk.data();
    message.body().size = chunk.size();
    auto [ec, n] = co_await http::async_read(stream, conn.buffer, parser, kUseTuple);
    if (ec == http::error::need_buffer) ec = {};
    std::size_t got = chunk.size() - message.body().size;
    response.wire_bytes += got;
    if (ec == beast::error::timeout) co_return fail(HttpError::kTimeout, timeout_text());
    if (response.wire_bytes > wire_limit) {
      co_return fail(HttpError::kTooLarge,
                     "body over max_body " + std::to_string(request.max_body) + " bytes");
    }
    if (inflate) {
      auto status = inflater.Feed(chunk.data(), got);
      if (status == Inflater::Status::kTooLarge) {
        co_return fail(HttpError::kTooLarge, "decompressed body over max_body " +
                                                 std::to_string(request.max_body) + " bytes");
      }
      if (status == Inflater::Status::kBad) {
        co_return fail(HttpError::kConnect, "corrupt " + encoding + " body");
      }
    } else {
      response.body.append(chunk.data(), got);
    }
    if (ec == http::error::partial_message || ec == http::error::end_of_stream) {
      co_return fail(HttpError::kConnect,
                     "connection closed after " + std::to_string(response.wire_bytes) +
                         " body bytes" +
                         (parser.content_length()
                              ? " of " + std::to_string(*parser.content_length()) + " announced"
                              : ""));
    }
    if (ec) co_return fail(HttpError::kConnect, "reading the body: " + ec.message());
  }
  if (inflate && !inflater.Complete()) {
    co_return fail(HttpError::kConnect, "truncated " + encoding + " body");
  }
  response.url = url;
  // Reusable only when the server allows it and sent nothing past the response.
  if (!parser.keep_alive() || conn.buffer.size() != 0) conn.key.clear();
  co_return result;
}

awaitable<HttpResult> HttpClient::Impl::Exchange(const HttpRequest& request, const std::string& url,
                                                 const Target& target,
                                                 steady_clock::time_point deadline) {
  bool via_proxy = !request.proxy.empty();
  std::string key = (target.tls ? "https://" : "http://") + target.host + ":" +
                    std::to_string(target.port) + "|" + request.proxy + "|" +
                    (request.tls_verify ? "v" : "n") + "|" + request.ca_file;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto conn = attempt == 0 ? TakeIdle(key, request.policy, !via_proxy) : nullptr;
    bool reused = conn != nullptr;
    if (!conn) {
      Failure failure;
      conn = co_await Connect(request, url, target, key, deadline, failure);
      if (!conn) co_return HttpResult{failure.error, failure.message, {}};
    }
    bool retryable = false;
    // if/else, not ?: — g++ 12 miscompiles co_await inside a conditional expression.
    HttpResult result;
    if (conn->tls) {
      result = co_await RoundTrip(*conn->tls, *conn, request, url, target, via_proxy, deadline,
                                  retryable);
    } else {
      result = co_await RoundTrip(*conn->plain, *conn, request, url, target, via_proxy, deadline,
                                  retryable);
    }
    if (result.ok() && !conn->key.empty()) {
      PutIdle(std::move(conn));
    } else {
      conn->Close();
    }
    // A kept-alive connection the server had already closed: once more on a new one.
    if (!result.ok() && reused && retryable && steady_clock::now() < deadline) continue;
    co_return result;
  }
  co_return HttpResult{HttpError::kConnect, url + ": connection failed", {}};
}

awaitable<HttpResult> HttpClient::Impl::Fetch(HttpRequest request) {
  auto deadline = steady_clock::now() + request.timeout;
  std::string url = request.url;
  std::vector<Redirect> redirects;
  std::set<std::string> visited{core::CanonicalUrl(url)};
  bool started_https = false;
  for (int hop = 0;; ++hop) {
    std::string error;
    auto target = ParseTarget(url, &error);
    if (!target) {
      co_return HttpResult{
          hop == 0 ? HttpError::kBlocked : HttpError::kRedirect, url + ": " + error, {}};
    }
    if (hop == 0) started_https = target->tls;
    HttpResult result = co_await Exchange(request, url, *target, deadline);
    if (!result.ok()) {
      if (hop > 0) result.message = request.url + ": redirected to " + result.message;
      co_return result;
    }
    int status = result.response.status;
    bool is_redirect =
        status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!is_redirect || request.max_redirects == 0 || request.method != "GET") {
      result.response.redirects = std::move(redirects);
      co_return result;
    }
    auto location = result.response.Header("Location");
    auto fail = [&](const std::string& reason) {
      return HttpResult{HttpError::kRedirect, request.url + ": " + reason, {}};
    };
    if (!location || location->empty())
      co_return fail(std::to_string(status) + " without a Location");
    auto next = core::ResolveUrl(url, *location);
    if (!next) co_return fail("bad redirect Location '" + std::string(*location) + "'");
    if (hop >= request.max_redirects) {
      co_return fail("more than " + std::to_string(request.max_redirects) + " redirects (last to " +
                     *next + ")");
    }
    std::string next_error;
    auto next_target = ParseTarget(*next, &next_error);
    if (!next_target) co_return fail("redirect to " + *next + ": " + next_error);
    if (started_https && !next_target->tls)
      co_return fail("redirect from https to http (" + *next + ") refused");
    if (!visited.insert(core::CanonicalUrl(*next)).second) {
      co_return fail("redirect loop at " + *next);
    }
    redirects.push_back({status, url, *next});
    url = *next;
  }
}

HttpClient::HttpClient(asio::any_io_executor executor, Resolver& resolver, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), resolver, options)) {}

HttpClient::~HttpClient() = default;

awaitable<HttpResult> HttpClient::Fetch(HttpRequest request) {
  co_return co_await impl_->Fetch(std::move(request));
}

std::size_t HttpClient::IdleConnections() const { return impl_->idle_count; }

}  // namespace newsmon::net
