#include "tests/support/prometheus.h"

#include <fstream>
#include <string>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/subprocess.h"

namespace newsmon::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// A YAML double-quoted string: paths and targets need no more than \ and " escaped.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Config(const PrometheusOptions& options) {
  const std::string interval = std::to_string(options.scrape_interval.count()) + "s";
  std::string yaml = "global:\n  scrape_interval: " + interval + "\n  scrape_timeout: " + interval +
                     "\n  evaluation_interval: " + interval + "\nrule_files:\n";
  if (options.rule_files.empty()) yaml += "  []\n";
  for (const auto& file : options.rule_files) yaml += "  - " + Quoted(file.string()) + "\n";
  yaml += "scrape_configs:\n  - job_name: " + Quoted(options.job) +
          "\n    static_configs:\n      - targets:\n";
  if (options.targets.empty()) yaml += "          []\n";
  for (const auto& target : options.targets) yaml += "          - " + Quoted(target) + "\n";
  return yaml;
}

}  // namespace

std::string QueryEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

Prometheus::Prometheus(fs::path dir, PrometheusOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(dir_ / "data", ec);
  std::ofstream(dir_ / "prometheus.yml") << Config(options_);
  port_ = StartOnFreePort(
      "prometheus", [this](std::uint16_t port) { return Start(port); }, error_);
}

Prometheus::~Prometheus() { Stop(); }

std::string Prometheus::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::string Prometheus::Log() const { return child_ ? child_->err() : ""; }

LoopbackAnswer Prometheus::Get(std::string_view path_and_query, milliseconds timeout) const {
  return LoopbackGet(port_, path_and_query, timeout);
}

LoopbackAnswer Prometheus::Query(std::string_view promql, milliseconds timeout) const {
  return Get("/api/v1/query?query=" + QueryEncode(promql), timeout);
}

std::string Prometheus::Start(std::uint16_t port) {
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  return StartUntilReady(child_,
                         {options_.binary, "--config.file=" + (dir_ / "prometheus.yml").string(),
                          "--storage.tsdb.path=" + (dir_ / "data").string(),
                          "--web.listen-address=" + listen, "--log.level=warn"},
                         port, options_.start_timeout);
}

bool Prometheus::Stop(milliseconds deadline) { return StopChild(child_, deadline); }

}  // namespace newsmon::test
