#include "tests/support/http_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <set>
#include <stdexcept>

namespace newsmon::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

constexpr std::size_t kMaxRequestHead = 1024 * 1024;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IContains(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char x, char y) {
                       return std::tolower(static_cast<unsigned char>(x)) ==
                              std::tolower(static_cast<unsigned char>(y));
                     }) != haystack.end();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool StatusHasNoBody(int status) { return status / 100 == 1 || status == 204 || status == 304; }

// ---- Certificate -------------------------------------------------------------------------

struct PemPair {
  std::string certificate;
  std::string key;
};

[[noreturn]] void ThrowOpenSsl(const char* what) {
  throw std::runtime_error(std::string("TestHttpServer: ") + what + " failed");
}

std::string ToPem(const std::function<int(BIO*)>& write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || write(bio.get()) != 1) ThrowOpenSsl("PEM_write");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void AddExtension(X509* certificate, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (extension == nullptr) ThrowOpenSsl("X509V3_EXT_conf_nid");
  int added = X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) ThrowOpenSsl("X509_add_ext");
}

// A self-signed P-256 certificate for localhost, 127.0.0.1 and 127.0.0.2, valid for a day.
PemPair MakeSelfSignedCertificate() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  if (!key) ThrowOpenSsl("EVP_EC_gen");
  std::unique_ptr<X509, decltype(&X509_free)> certificate(X509_new(), &X509_free);
  if (!certificate) ThrowOpenSsl("X509_new");
  X509* x = certificate.get();
  X509_set_version(x, X509_VERSION_3);
  std::array<unsigned char, 8> serial{};
  RAND_bytes(serial.data(), static_cast<int>(serial.size()));
  serial[0] &= 0x7f;  // positive
  BIGNUM* serial_bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(x));
  BN_free(serial_bn);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("newsmon tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  AddExtension(x, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(x, NID_key_usage, "critical,digitalSignature,keyCertSign");
  AddExtension(x, NID_ext_key_usage, "serverAuth");
  AddExtension(x, NID_subject_key_identifier, "hash");
  AddExtension(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2");
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) ThrowOpenSsl("X509_sign");
  return PemPair{
      .certificate = ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, x); }),
      .key = ToPem([&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      }),
  };
}

// ---- Bodies ------------------------------------------------------------------------------

std::string Compress(std::string_view data, Reply::Encoding encoding) {
  z_stream z{};
  int window_bits = encoding == Reply::Encoding::kGzip ? 15 + 16 : 15;
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("TestHttpServer: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("TestHttpServer: deflate failed");
  return out;
}

std::string Chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out = size;
  out.append(data);
  out += "\r\n";
  return out;
}

std::string Chunked(std::string_view body, std::size_t chunk_size) {
  std::string out;
  chunk_size = std::max<std::size_t>(chunk_size, 1);
  for (std::size_t at = 0; at < body.size(); at += chunk_size) {
    out += Chunk(body.substr(at, chunk_size));
  }
  out += "0\r\n\r\n";
  return out;
}

// ---- Connections -------------------------------------------------------------------------

// One accepted connection, plain or TLS, with a timer for drips. Lives on the server thread.
class Connection {
 public:
  Connection(tcp::socket socket, asio::ssl::context* tls)
      : timer_(socket.get_executor()), plain_(std::move(socket)) {
    if (tls != nullptr) tls_.emplace(std::move(plain_), *tls);
  }

  tcp::socket& Tcp() { return tls_ ? tls_->next_layer() : plain_; }

  awaitable<void> Handshake() {
    if (tls_) co_await tls_->async_handshake(asio::ssl::stream_base::server, use_awaitable);
  }

  awaitable<std::size_t> ReadSome(asio::mutable_buffer buffer) {
    if (tls_) co_return co_await tls_->async_read_some(buffer, use_awaitable);
    co_return co_await plain_.async_read_some(buffer, use_awaitable);
  }

  awaitable<void> Write(std::string_view data) {
    if (tls_) {
      co_await asio::async_write(*tls_, asio::buffer(data), use_awaitable);
    } else {
      co_await asio::async_write(plain_, asio::buffer(data), use_awaitable);
    }
  }

  awaitable<void> Wait(std::chrono::milliseconds duration) {
    timer_.expires_after(duration);
    co_await timer_.async_wait(use_awaitable);
  }

  // Reads and drops whatever comes until the peer closes (or Close() is called).
  awaitable<void> DrainUntilClosed() {
    std::array<char, 4096> scratch;
    for (;;) co_await ReadSome(asio::buffer(scratch));
  }

  void Close() {
    boost::system::error_code ignored;
    timer_.cancel();
    Tcp().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().close(ignored);
  }

  // Closes with an RST instead of a FIN.
  void Reset() {
    boost::system::error_code ignored;
    Tcp().set_option(asio::socket_base::linger(true, 0), ignored);
    Tcp().close(ignored);
  }

 private:
  asio::steady_timer timer_;
  tcp::socket plain_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
};

// Reads one request into `request`, keeping extra bytes in `buffered`; `close` tells whether
// the client asked to close after it. False on a clean close before a request starts; throws
// on errors and malformed requests.
awaitable<bool> ReadRequest(Connection& connection, std::string& buffered, ReceivedRequest& request,
                            bool& close) {
  std::array<char, 8192> scratch;
  std::size_t head_end;
  while ((head_end = buffered.find("\r\n\r\n")) == std::string::npos) {
    if (buffered.size() > kMaxRequestHead) throw std::runtime_error("request head too large");
    std::size_t n = 0;
    try {
      n = co_await connection.ReadSome(asio::buffer(scratch));
    } catch (const boost::system::system_error&) {
      if (buffered.empty()) co_return false;
      throw;
    }
    buffered.append(scratch.data(), n);
  }
  std::string_view head(buffered.data(), head_end);
  std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) throw std::runtime_error("bad request line");
  request.method = line.substr(0, sp1);
  request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string version(line.substr(sp2 + 1));
  request.headers.clear();
  while (line_end != std::string_view::npos) {
    std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string_view field = head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("bad header line");
    request.headers.emplace_back(std::string(Trim(field.substr(0, colon))),
                                 std::string(Trim(field.substr(colon + 1))));
  }
  buffered.erase(0, head_end + 4);

  std::uint64_t length = 0;
  if (auto value = request.Header("Content-Length")) {
    auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), length);
    if (ec != std::errc() || ptr != value->data() + value->size()) {
      throw std::runtime_error("bad Content-Length");
    }
  }
  if (request.Header("Transfer-Encoding")) throw std::runtime_error("chunked request bodies");
  while (buffered.size() < length) {
    std::size_t n = co_await connection.ReadSome(asio::buffer(scratch));
    buffered.append(scratch.data(), n);
  }
  request.body = buffered.substr(0, length);
  buffered.erase(0, length);
  auto connection_header = request.Header("Connection");
  close = version == "HTTP/1.0" ? !connection_header || !IContains(*connection_header, "keep-alive")
                                : connection_header && IContains(*connection_header, "close");
  co_return true;
}

std::string StatusLine(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(ReasonPhrase(status)) + "\r\n";
}

std::string HeaderLines(const std::vector<HttpHeader>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  return out;
}

// Sends `reply`; returns whether the connection may serve another request.
awaitable<bool> SendReply(Connection& connection, const ReceivedRequest& request, bool client_close,
                          const Reply& reply) {
  bool keep = !reply.close && !client_close;
  std::string head = StatusLine(reply.status) + HeaderLines(reply.headers);
  std::string close_line = keep ? "" : "Connection: close\r\n";

  switch (reply.kind) {
    case Reply::Kind::kNormal: {
      std::string body = reply.body;
      if (reply.encoding != Reply::Encoding::kIdentity) {
        body = Compress(body, reply.encoding);
        head += reply.encoding == Reply::Encoding::kGzip ? "Content-Encoding: gzip\r\n"
                                                         : "Content-Encoding: deflate\r\n";
      }
      bool no_body = StatusHasNoBody(reply.status);
      if (!no_body && reply.framing == Reply::Framing::kChunked) {
        head += "Transfer-Encoding: chunked\r\n";
        body = Chunked(body, reply.chunk_size);
      } else if (!no_body) {
        head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      }
      head += close_line + "\r\n";
      if (!no_body && request.method != "HEAD") head += body;
      co_await connection.Write(head);
      co_return keep;
    }
    case Reply::Kind::kWrongLength: {
      head += "Content-Length: " + std::to_string(reply.announced_length) + "\r\n" + close_line +
              "\r\n" + reply.body;
      co_await connection.Write(head);
      co_return keep&& reply.announced_length <= reply.body.size();
    }
    case Reply::Kind::kHeadersNeverEnd: {
      co_await connection.Write(reply.body);
      co_await connection.DrainUntilClosed();
      co_return false;
    }
    case Reply::Kind::kDrip: {
      head += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n" + close_line + "\r\n";
      co_await connection.Write(head);
      for (char byte : reply.body) {
        co_await connection.Wait(reply.drip_interval);
        co_await connection.Write(std::string_view(&byte, 1));
      }
      co_return keep;
    }
    case Reply::Kind::kResetMidBody: {
      head += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n";
      head += std::string_view(reply.body).substr(0, reply.reset_after);
      co_await connection.Write(head);
      connection.Reset();
      co_return false;
    }
    case Reply::Kind::kEndless: {
      const std::string block(64 * 1024, 'x');
      if (reply.size == 0) {
        co_await connection.Write(head + "Transfer-Encoding: chunked\r\n" + close_line + "\r\n");
        const std::string chunk = Chunk(block);
        for (;;) co_await connection.Write(chunk);
      }
      co_await connection.Write(head + "Content-Length: " + std::to_string(reply.size) + "\r\n" +
                                close_line + "\r\n");
      for (std::uint64_t left = reply.size; left > 0;) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, block.size()));
        co_await connection.Write(std::string_view(block).substr(0, n));
        left -= n;
      }
      co_return keep;
    }
    case Reply::Kind::kGzipBomb: {
      co_await connection.Write(head + "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n" +
                                close_line + "\r\n");
      // Compress zeros block by block and send the output as it accumulates: neither the
      // inflated body nor the whole compressed one is ever held.
      z_stream z{};
      if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) !=
          Z_OK) {
        throw std::runtime_error("TestHttpServer: deflateInit2 failed");
      }
      std::unique_ptr<z_stream, decltype(&deflateEnd)> guard(&z, &deflateEnd);
      static const std::vector<unsigned char> kZeros(1024 * 1024, 0);
      std::vector<unsigned char> out(64 * 1024);
      std::string pending;
      std::uint64_t left = reply.size;
      int rc = Z_OK;
      while (rc != Z_STREAM_END) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, kZeros.size()));
        z.next_in = const_cast<Bytef*>(kZeros.data());
        z.avail_in = static_cast<uInt>(n);
        left -= n;
        int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        do {
          z.next_out = out.data();
          z.avail_out = static_cast<uInt>(out.size());
          rc = deflate(&z, flush);
          pending.append(reinterpret_cast<const char*>(out.data()), out.size() - z.avail_out);
        } while (z.avail_out == 0 || (flush == Z_FINISH && rc == Z_OK));
        if (pending.size() >= 16 * 1024 || rc == Z_STREAM_END) {
          if (!pending.empty()) co_await connection.Write(Chunk(pending));
          pending.clear();
        }
      }
      co_await connection.Write("0\r\n\r\n");
      co_return keep;
    }
    case Reply::Kind::kHang:
      co_await connection.DrainUntilClosed();
      co_return false;
  }
  co_return false;
}

}  // namespace

// ---- ReceivedRequest and Reply -----------------------------------------------------------

std::string_view ReceivedRequest::Path() const {
  return std::string_view(target).substr(0, target.find('?'));
}

std::optional<std::string> ReceivedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (IEquals(key, name)) return value;
  }
  return std::nullopt;
}

Reply Reply::Text(int status, std::string body, std::vector<HttpHeader> headers) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers = std::move(headers);
  return reply;
}

Reply Reply::Redirect(int status, std::string location) {
  return Text(status, "moved\n", {{"Location", std::move(location)}});
}

Reply Reply::WrongLength(std::string body, std::uint64_t announced_length) {
  Reply reply = Text(200, std::move(body));
  reply.kind = Kind::kWrongLength;
  reply.announced_length = announced_length;
  return reply;
}

Reply Reply::HeadersNeverEnd() {
  Reply reply;
  reply.kind = Kind::kHeadersNeverEnd;
  reply.body = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Unfinished: ";
  return reply;
}

Reply Reply::Drip(std::string body, std::chrono::milliseconds interval) {
  Reply reply = Text(200, std::move(body));
  reply.kind = Kind::kDrip;
  reply.drip_interval = interval;
  return reply;
}

Reply Reply::ResetMidBody(std::string body, std::size_t reset_after) {
  Reply reply = Text(200, std::move(body));
  reply.kind = Kind::kResetMidBody;
  reply.reset_after = reset_after;
  return reply;
}

Reply Reply::Endless(std::uint64_t size) {
  Reply reply;
  reply.kind = Kind::kEndless;
  reply.size = size;
  return reply;
}

Reply Reply::GzipBomb(std::uint64_t inflated_size) {
  Reply reply;
  reply.kind = Kind::kGzipBomb;
  reply.size = inflated_size;
  return reply;
}

Reply Reply::Hang() {
  Reply reply;
  reply.kind = Kind::kHang;
  return reply;
}

// ---- TestHttpServer ----------------------------------------------------------------------

struct TestHttpServer::Impl {
  explicit Impl(TestHttpServer& owner) : server(owner) {}

  awaitable<void> Accept() {
    for (;;) {
      tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
      if (stopping) co_return;
      std::size_t number;
      {
        std::lock_guard lock(server.mutex_);
        number = ++server.connections_;
      }
      auto connection = std::make_shared<Connection>(std::move(socket), tls ? &*tls : nullptr);
      connections.insert(connection);
      asio::co_spawn(ioc, Serve(connection, number), [this, connection](std::exception_ptr error) {
        connections.erase(connection);
        ReportUnexpected(error);
      });
    }
  }

  awaitable<void> Serve(std::shared_ptr<Connection> connection, std::size_t number) {
    co_await connection->Handshake();
    std::string buffered;
    for (;;) {
      ReceivedRequest request;
      bool client_close = false;
      if (!co_await ReadRequest(*connection, buffered, request, client_close)) break;
      request.connection = number;
      server.Record(request);
      std::optional<Handler> handler = server.FindHandler(request.Path());
      Reply reply = handler ? (*handler)(request) : Reply::Text(404, "no handler\n");
      if (!co_await SendReply(*connection, request, client_close, reply)) break;
    }
    connection->Close();
  }

  // Network errors end a connection as scripted; anything else (a throwing handler, a
  // malformed request) is worth seeing in the test's output.
  static void ReportUnexpected(std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const boost::system::system_error&) {
    } catch (const std::exception& e) {
      std::fprintf(stderr, "TestHttpServer: connection ended: %s\n", e.what());
    }
  }

  void CloseAll() {
    stopping = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (const auto& connection : connections) connection->Close();
  }

  TestHttpServer& server;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<asio::ssl::context> tls;
  std::set<std::shared_ptr<Connection>> connections;  // open ones; server thread only
  bool stopping = false;                              // server thread only
};

TestHttpServer::TestHttpServer(HttpServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(*this)) {
  if (options_.tls) {
    PemPair pem = MakeSelfSignedCertificate();
    cert_dir_ = std::make_unique<TempDir>();
    ca_file_ = cert_dir_->Write("server.pem", pem.certificate).string();
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate(asio::buffer(pem.certificate), asio::ssl::context::pem);
    impl_->tls->use_private_key(asio::buffer(pem.key), asio::ssl::context::pem);
  }
  tcp::endpoint endpoint(asio::ip::make_address(options_.address), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->Accept(), [](std::exception_ptr) {});
  thread_ = std::thread([this] { impl_->ioc.run(); });
}

TestHttpServer::~TestHttpServer() { Stop(); }

void TestHttpServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->ioc, [this] { impl_->CloseAll(); });
  thread_.join();
}

void TestHttpServer::Handle(std::string path, Handler handler) {
  std::lock_guard lock(mutex_);
  handlers_[std::move(path)] = std::move(handler);
}

void TestHttpServer::Handle(std::string path, Reply reply) {
  Handle(std::move(path), [reply = std::move(reply)](const ReceivedRequest&) { return reply; });
}

std::string TestHttpServer::Url(std::string_view path) const {
  bool v6 = options_.address.find(':') != std::string::npos;
  return std::string(options_.tls ? "https://" : "http://") + (v6 ? "[" : "") + options_.address +
         (v6 ? "]" : "") + ":" + std::to_string(port_) + std::string(path);
}

std::string TestHttpServer::ca_file() const { return ca_file_; }

std::vector<ReceivedRequest> TestHttpServer::Requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t TestHttpServer::ConnectionsAccepted() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

std::optional<TestHttpServer::Handler> TestHttpServer::FindHandler(std::string_view path) const {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(path);
  if (it == handlers_.end()) return std::nullopt;
  return it->second;
}

void TestHttpServer::Record(const ReceivedRequest& request) {
  std::lock_guard lock(mutex_);
  requests_.push_back(request);
}

}  // namespace newsmon::test
