// Prometheus Alertmanager (the system's /usr/bin/prometheus-alertmanager) on 127.0.0.1 for
// tests: the real receiver of newsmon's alertmanager sink.
//
// Everything lives under one directory the caller owns: the generated alertmanager.yml
// (one route to a receiver that notifies nobody) and the storage directory. Clustering is
// off. The constructor returns once GET /-/ready answers 200 on its port (picked free by
// binding port 0 first, retried on a clash), or with ok() false and error() saying why. Stop
// (and the destructor) end it with SIGTERM, then SIGKILL after a deadline.
//
// Not thread-safe; the owner's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace newsmon::test {

class Child;

struct AlertmanagerOptions {
  std::string binary = "/usr/bin/prometheus-alertmanager";
  std::chrono::milliseconds start_timeout = std::chrono::seconds(20);  // per attempt
};

class Alertmanager {
 public:
  // Writes `dir`/alertmanager.yml and starts Alertmanager; `dir` must exist and outlive this.
  explicit Alertmanager(std::filesystem::path dir, AlertmanagerOptions options = {});
  ~Alertmanager();  // Stop()
  Alertmanager(const Alertmanager&) = delete;
  Alertmanager& operator=(const Alertmanager&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // why it did not start

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string Url(std::string_view path) const;
  // What it wrote to stderr so far (its log), for failure messages.
  std::string Log() const;

  // SIGTERM, then up to `deadline` for it to exit, then SIGKILL. True when it exited by
  // itself. Stopping twice is a no-op.
  bool Stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  // One try on `port`: "" when it is ready, else what went wrong.
  std::string Start(std::uint16_t port);

  std::filesystem::path dir_;
  AlertmanagerOptions options_;
  std::unique_ptr<Child> child_;
  std::uint16_t port_ = 0;
  std::string error_;
};

// A blocking HTTP/1.0 GET to 127.0.0.1:`port`: the status code (0 when there was no
// answer within `timeout`) and the body. For readiness probes, not for the code under test.
struct LoopbackAnswer {
  int status = 0;
  std::string body;
};
LoopbackAnswer LoopbackGet(std::uint16_t port, std::string_view path,
                           std::chrono::milliseconds timeout);

// Alertmanager and Prometheus start and stop alike. StartUntilReady runs `argv` (a server
// that listens on 127.0.0.1:`port`) as `child` and waits until GET /-/ready answers 200:
// "" then; otherwise why not, with its log, and `child` is gone. StopChild sends SIGTERM,
// waits up to `deadline`, then kills: true when it exited by itself; a no-op without a child.
std::string StartUntilReady(std::unique_ptr<Child>& child, std::vector<std::string> argv,
                            std::uint16_t port, std::chrono::milliseconds timeout);
bool StopChild(std::unique_ptr<Child>& child, std::chrono::milliseconds deadline);

}  // namespace newsmon::test
