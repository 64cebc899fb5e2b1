#include "tests/support/connect_proxy.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace newsmon::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;

constexpr auto kUseTuple = asio::as_tuple(use_awaitable);
constexpr std::size_t kMaxRequestHead = 64 * 1024;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "127.0.0.1:443", "[::1]:443"; without a port, `default_port` (0 = a port is required).
std::optional<tcp::endpoint> ParseAuthority(std::string_view authority,
                                            std::uint16_t default_port) {
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  std::uint16_t number = default_port;
  if (!port.empty()) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || ptr != port.data() + port.size()) return std::nullopt;
  }
  if (number == 0) return std::nullopt;
  error_code ec;
  auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(address, number);
}

// The parts of a request head the proxy looks at.
struct RequestHead {
  std::string method;
  std::string target;
  std::string version;
  std::vector<std::string_view> header_lines;  // into the buffer the head was parsed from
};

std::optional<RequestHead> ParseHead(std::string_view head) {
  std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
  RequestHead parsed{.method = std::string(line.substr(0, sp1)),
                     .target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1)),
                     .version = std::string(line.substr(sp2 + 1)),
                     .header_lines = {}};
  while (line_end != std::string_view::npos) {
    std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    parsed.header_lines.push_back(head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start));
  }
  return parsed;
}

// One client connection and the upstream one made for it. Lives on the proxy thread.
struct Session {
  explicit Session(tcp::socket socket)
      : client(std::move(socket)), upstream(client.get_executor()) {}

  void Close() {
    error_code ignored;
    client.shutdown(tcp::socket::shutdown_both, ignored);
    client.close(ignored);
    upstream.shutdown(tcp::socket::shutdown_both, ignored);
    upstream.close(ignored);
  }

  tcp::socket client;
  tcp::socket upstream;
};

// Copies `from` to `to` until `from` ends, then half-closes `to` so the peer sees the end
// too. A failure either way closes the whole session, which ends the other direction.
awaitable<void> Relay(Session& session, tcp::socket& from, tcp::socket& to) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), kUseTuple);
    if (ec == asio::error::eof) {
      error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (ec) break;
    auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(buffer, n), kUseTuple);
    if (write_ec) break;
  }
  session.Close();
}

std::string SimpleResponse(std::string_view status_line) {
  return "HTTP/1.1 " + std::string(status_line) +
         "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

}  // namespace

struct ConnectProxy::Impl {
  explicit Impl(ConnectProxy& owner) : proxy(owner) {}

  awaitable<void> Accept() {
    for (;;) {
      tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
      if (stopping) co_return;
      {
        std::lock_guard lock(proxy.mutex_);
        ++proxy.connections_;
      }
      auto session = std::make_shared<Session>(std::move(socket));
      sessions.insert(session);
      asio::co_spawn(ioc, Serve(session), [this, session](std::exception_ptr error) {
        session->Close();
        sessions.erase(session);
        ReportUnexpected(error);
      });
    }
  }

  awaitable<void> Serve(std::shared_ptr<Session> session) {
    std::string buffered;
    std::array<char, 8192> scratch;
    std::size_t head_end;
    while ((head_end = buffered.find("\r\n\r\n")) == std::string::npos) {
      if (buffered.size() > kMaxRequestHead) {
        co_await Answer(*session, "431 Request Header Fields Too Large");
        co_return;
      }
      auto [ec, n] = co_await session->client.async_read_some(asio::buffer(scratch), kUseTuple);
      if (ec) co_return;  // closed before a whole head: nothing to answer
      buffered.append(scratch.data(), n);
    }
    auto head = ParseHead(std::string_view(buffered).substr(0, head_end));
    if (!head) {
      co_await Answer(*session, "400 Bad Request");
      co_return;
    }
    proxy.Record(head->method + " " + head->target);
    std::string leftover = buffered.substr(head_end + 4);  // sent early, before the answer

    std::string upstream_head;  // for absolute-form requests: the head rewritten
    std::optional<tcp::endpoint> target;
    bool tunnel = head->method == "CONNECT";
    if (tunnel) {
      if (proxy.refuse_connect_) {
        co_await Answer(*session, "403 Forbidden");
        co_return;
      }
      target = ParseAuthority(head->target, 0);
    } else {
      constexpr std::string_view kScheme = "http://";
      std::string_view url = head->target;
      if (url.size() > kScheme.size() && IEquals(url.substr(0, kScheme.size()), kScheme)) {
        url.remove_prefix(kScheme.size());
        std::size_t path_start = std::min(url.find('/'), url.find('?'));
        target = ParseAuthority(url.substr(0, path_start), 80);
        std::string path =
            path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
        if (path.front() == '?') path.insert(0, "/");
        upstream_head = head->method + " " + path + " " + head->version + "\r\n";
        for (std::string_view line : head->header_lines) {
          std::string_view name = Trim(line.substr(0, line.find(':')));
          if (IEquals(name, "Connection") || IEquals(name, "Proxy-Connection")) continue;
          upstream_head.append(line);
          upstream_head += "\r\n";
        }
        upstream_head += "Connection: close\r\n\r\n";
      }
    }
    if (!target) {
      co_await Answer(*session, "400 Bad Request");
      co_return;
    }

    if (stopping) co_return;  // a closed socket would be reopened by async_connect
    auto [connect_ec] = co_await session->upstream.async_connect(*target, kUseTuple);
    if (connect_ec) {
      co_await Answer(*session, "502 Bad Gateway");
      co_return;
    }
    if (tunnel) {
      constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
      auto [ec, n] =
          co_await asio::async_write(session->client, asio::buffer(kEstablished), kUseTuple);
      if (ec) co_return;
    }
    upstream_head += leftover;
    if (!upstream_head.empty()) {
      auto [ec, n] =
          co_await asio::async_write(session->upstream, asio::buffer(upstream_head), kUseTuple);
      if (ec) co_return;
    }
    co_await (Relay(*session, session->client, session->upstream) &&
              Relay(*session, session->upstream, session->client));
  }

  // Sends a body-less response and ends the session.
  static awaitable<void> Answer(Session& session, std::string_view status_line) {
    std::string response = SimpleResponse(status_line);
    co_await asio::async_write(session.client, asio::buffer(response), kUseTuple);
  }

  // Network errors end a session as they come; anything else is worth seeing in the output.
  static void ReportUnexpected(std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const boost::system::system_error&) {
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ConnectProxy: session ended: %s\n", e.what());
    }
  }

  void CloseAll() {
    stopping = true;
    error_code ignored;
    acceptor.close(ignored);
    for (const auto& session : sessions) session->Close();
  }

  ConnectProxy& proxy;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::set<std::shared_ptr<Session>> sessions;  // open ones; proxy thread only
  bool stopping = false;                        // proxy thread only
};

ConnectProxy::ConnectProxy() : impl_(std::make_unique<Impl>(*this)) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->Accept(), [](std::exception_ptr) {});
  thread_ = std::thread([this] { impl_->ioc.run(); });
}

ConnectProxy::~ConnectProxy() { Stop(); }

void ConnectProxy::Stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->ioc, [this] { impl_->CloseAll(); });
  thread_.join();
}

std::string ConnectProxy::Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> ConnectProxy::RequestLines() const {
  std::lock_guard lock(mutex_);
  return request_lines_;
}

std::size_t ConnectProxy::ConnectionsAccepted() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

void ConnectProxy::Record(std::string request_line) {
  std::lock_guard lock(mutex_);
  request_lines_.push_back(std::move(request_line));
}

}  // namespace newsmon::test
