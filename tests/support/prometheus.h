// Prometheus (the system's /usr/bin/prometheus) on 127.0.0.1 for tests: scrapes the given
// targets under one job name and evaluates the given rule files, so a test can run the
// dashboard's queries and the alert rules against a real server.
//
// Everything lives under one directory the caller owns: the generated prometheus.yml and
// the TSDB. Scrapes and rule evaluations run every `scrape_interval` (1 s by default); the
// first sample of a target can still take several seconds to be queryable, so poll for it.
// The constructor returns once GET /-/ready answers 200 on its port (picked free by binding
// port 0 first, retried on a clash), or with ok() false and error() saying why (a rule file
// that does not load makes it exit: the reason is in error()). Stop (and the destructor)
// end it with SIGTERM, then SIGKILL after a deadline.
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

#include "tests/support/alertmanager.h"  // LoopbackAnswer, LoopbackGet

namespace newsmon::test {

class Child;

struct PrometheusOptions {
  std::string binary = "/usr/bin/prometheus";
  std::string job = "newsmon";
  std::vector<std::string> targets;               // "127.0.0.1:PORT", scraped at /metrics
  std::vector<std::filesystem::path> rule_files;  // absolute paths
  std::chrono::seconds scrape_interval{1};        // also the rule evaluation interval
  std::chrono::milliseconds start_timeout = std::chrono::seconds(20);  // per attempt
};

class Prometheus {
 public:
  // Writes `dir`/prometheus.yml and starts Prometheus; `dir` must exist and outlive this.
  Prometheus(std::filesystem::path dir, PrometheusOptions options);
  ~Prometheus();  // Stop()
  Prometheus(const Prometheus&) = delete;
  Prometheus& operator=(const Prometheus&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // why it did not start

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string Url(std::string_view path) const;
  // What it wrote to stderr so far (its log, warnings and errors only), for failure messages.
  std::string Log() const;

  // GET `path_and_query` (already encoded) on its port.
  LoopbackAnswer Get(std::string_view path_and_query,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // GET /api/v1/query?query=`promql` (an instant query at the server's now): the status
  // and the JSON body.
  LoopbackAnswer Query(std::string_view promql,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // SIGTERM, then up to `deadline` for it to exit, then SIGKILL. True when it exited by
  // itself. Stopping twice is a no-op.
  bool Stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  // One try on `port`: "" when it is ready, else what went wrong.
  std::string Start(std::uint16_t port);

  std::filesystem::path dir_;
  PrometheusOptions options_;
  std::unique_ptr<Child> child_;
  std::uint16_t port_ = 0;
  std::string error_;
};

// `text` percent-encoded for a URL query value (everything but A-Z a-z 0-9 - . _ ~).
std::string QueryEncode(std::string_view text);

}  // namespace newsmon::test
