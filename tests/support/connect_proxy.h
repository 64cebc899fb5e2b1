// A small HTTP forward proxy on 127.0.0.1 for client tests, on its own thread and io_context.
//
// What it supports, one request per client connection:
// - `CONNECT host:port` (an IP literal, "[v6]:port" for IPv6): connects to the target,
//   answers "HTTP/1.1 200 Connection established" and relays bytes both ways, passing a
//   half-close on, until both directions have ended (or either fails). Told to refuse, it
//   answers 403 and closes instead.
// - an absolute-form request `GET http://host:port/path HTTP/1.1` (any method; an IP-literal
//   host): connects to the target, sends the request with an origin-form target ("/path"),
//   `Connection: close` in place of any Connection or Proxy-Connection header, then relays
//   both ways like a tunnel. The origin is expected to honour the close, so the client sees
//   `Connection: close` and does not send a second request on that connection (one it sent
//   anyway would reach the origin unparsed).
// Anything else (https:// targets, host names, a malformed head) gets a 400; a target it
// cannot connect to gets a 502. No deadlines: Stop() ends whatever is still open.
//
// Every request line is recorded as "<method> <target>": "CONNECT 127.0.0.1:443",
// "GET http://127.0.0.1:8080/feed".
//
// Thread-safety: RequestLines, ConnectionsAccepted and RefuseConnect may be called from any
// thread; Stop and the destructor from the thread that owns the proxy.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace newsmon::test {

class ConnectProxy {
 public:
  // Listens on 127.0.0.1 (an ephemeral port) before returning. Throws when it cannot.
  ConnectProxy();
  ~ConnectProxy();  // Stop()
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  // From now on, answer CONNECT with "403 Forbidden" (and close) when `refuse`.
  void RefuseConnect(bool refuse) { refuse_connect_ = refuse; }

  // Closes the listener, every client connection and every upstream one, and joins the
  // thread. Idempotent.
  void Stop();

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>", the form HttpRequest::proxy takes.
  std::string Url() const;

  // "<method> <target>" of every request received, in order.
  std::vector<std::string> RequestLines() const;
  std::size_t ConnectionsAccepted() const;

 private:
  struct Impl;

  void Record(std::string request_line);

  std::uint16_t port_ = 0;
  std::atomic<bool> refuse_connect_{false};

  mutable std::mutex mutex_;  // guards request_lines_, connections_
  std::vector<std::string> request_lines_;
  std::size_t connections_ = 0;

  std::unique_ptr<Impl> impl_;  // the io_context, listener and sessions
  std::thread thread_;
};

}  // namespace newsmon::test
