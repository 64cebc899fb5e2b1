// The service manager's end of sd_notify for tests: a datagram socket bound to a path, as
// systemd's NOTIFY_SOCKET. Header-only.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace newsmon::test {

class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && path.string().size() < sizeof(address.sun_path) &&
             ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }
  const std::filesystem::path& path() const { return path_; }

  // The next datagram, or nothing when none arrives within `timeout`.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      // Rounded up: poll's std::chrono::milliseconds must not end the wait before the deadline.
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd entry{.fd = fd_, .events = POLLIN, .revents = 0};
      int ready = ::poll(
          &entry, 1, static_cast<int>(std::max(left.count(), std::chrono::milliseconds::rep{0})));
      if (ready > 0) {
        char buffer[4096];
        ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
        if (n >= 0) return std::string(buffer, static_cast<std::size_t>(n));
      }
      if ((ready < 0 && errno != EINTR) || std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
    }
  }

  // Throws away what is queued.
  void Drain() {
    while (Receive(std::chrono::milliseconds(0))) {
    }
  }

  // Receives until a datagram satisfies `wanted` or `timeout` passes; returns everything
  // received meanwhile into `seen` and whether the wanted one came.
  bool WaitFor(const std::function<bool(const std::string&)>& wanted,
               std::chrono::milliseconds timeout, std::vector<std::string>& seen) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto message = Receive(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!message) return false;
      seen.push_back(*message);
      if (wanted(*message)) return true;
    }
    return false;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool bound_ = false;
};

}  // namespace newsmon::test
