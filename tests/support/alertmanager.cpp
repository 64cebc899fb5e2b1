#include "tests/support/alertmanager.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/subprocess.h"

namespace newsmon::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kProbeTimeout{500};
constexpr milliseconds kProbeInterval{25};

// A receiver without notifiers: alerts are kept and shown by the API, sent nowhere. (A
// receiver named `null` would be read as YAML null.)
constexpr std::string_view kConfig =
    "route:\n"
    "  receiver: blackhole\n"
    "receivers:\n"
    "  - name: blackhole\n";

}  // namespace

LoopbackAnswer LoopbackGet(std::uint16_t port, std::string_view path, milliseconds timeout) {
  LoopbackAnswer answer;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return answer;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string request =
        "GET " + std::string(path) + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
        response.append(buffer, static_cast<std::size_t>(got));
      }
    }
  }
  ::close(fd);
  // "HTTP/1.x NNN ..."
  if (response.starts_with("HTTP/1.") && response.size() >= 12) {
    answer.status = std::atoi(response.substr(9, 3).c_str());
    if (auto end = response.find("\r\n\r\n"); end != std::string::npos) {
      answer.body = response.substr(end + 4);
    }
  }
  return answer;
}

Alertmanager::Alertmanager(fs::path dir, AlertmanagerOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(dir_ / "data", ec);
  std::ofstream(dir_ / "alertmanager.yml") << kConfig;
  port_ = StartOnFreePort(
      "alertmanager", [this](std::uint16_t port) { return Start(port); }, error_);
}

Alertmanager::~Alertmanager() { Stop(); }

std::string Alertmanager::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::string Alertmanager::Log() const { return child_ ? child_->err() : ""; }

std::string Alertmanager::Start(std::uint16_t port) {
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  return StartUntilReady(
      child_,
      {options_.binary, "--config.file=" + (dir_ / "alertmanager.yml").string(),
       "--storage.path=" + (dir_ / "data").string(), "--web.listen-address=" + listen,
       "--cluster.listen-address=", "--log.level=warn"},
      port, options_.start_timeout);
}

bool Alertmanager::Stop(milliseconds deadline) { return StopChild(child_, deadline); }

std::string StartUntilReady(std::unique_ptr<Child>& child, std::vector<std::string> argv,
                            std::uint16_t port, milliseconds timeout) {
  child = std::make_unique<Child>(std::move(argv));
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (LoopbackGet(port, "/-/ready", kProbeTimeout).status == 200) return "";
    // Reads its log while waiting; returns at once when it has exited and closed its pipes.
    const auto before = Clock::now();
    child->WaitForOutput([](const std::string&, const std::string&) { return false; },
                         kProbeInterval);
    const bool exited = Clock::now() - before < kProbeInterval / 2;
    const std::string& log = child->err();
    if (exited || log.find("level=error") != std::string::npos) {
      child->Wait(std::chrono::seconds(5));
      std::string failure = "exited before it was ready: " + child->err();
      child.reset();
      return failure;
    }
  }
  std::string failure =
      "not ready within " + std::to_string(timeout.count()) + " ms; log: " + child->err();
  StopChild(child, std::chrono::seconds(10));
  return failure;
}

bool StopChild(std::unique_ptr<Child>& child, milliseconds deadline) {
  if (!child) return true;
  child->Signal(SIGTERM);
  const bool clean = child->Wait(deadline) == 0;
  child.reset();  // kills it if it is still there
  return clean;
}

}  // namespace newsmon::test
