#include "tests/support/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace newsmon::test {
namespace {

constexpr int kStartAttempts = 5;

// A port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

std::uint16_t StartOnFreePort(std::string_view what,
                              const std::function<std::string(std::uint16_t)>& start,
                              std::string& error) {
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    std::uint16_t port = FreePort();
    if (port == 0) {
      error = std::string("cannot find a free port: ") + std::strerror(errno);
      return 0;
    }
    std::string failure = start(port);
    if (failure.empty()) {
      error.clear();
      return port;
    }
    error = std::string(what) + " (attempt " + std::to_string(attempt) + ", port " +
            std::to_string(port) + "): " + failure;
    std::string lower = failure;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // Another process took the port between our probe and the peer's bind: try another.
    if (lower.find("address already in use") == std::string::npos) return 0;
  }
  return 0;
}

}  // namespace newsmon::test
