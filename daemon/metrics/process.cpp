#include "daemon/metrics/process.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

namespace newsmon::metrics {
namespace {

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(text).str();
}

std::string_view SkipSpaces(std::string_view text) {
  auto start = text.find_first_not_of(" \t");
  return start == std::string_view::npos ? std::string_view{} : text.substr(start);
}

// The next space-separated field of `text`, consumed from it.
std::string_view NextField(std::string_view& text) {
  text = SkipSpaces(text);
  auto end = text.find_first_of(" \t\n");
  auto field = text.substr(0, end);
  text.remove_prefix(field.size());
  return field;
}

std::optional<std::uint64_t> ToNumber(std::string_view field) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc{} || end != field.data() + field.size() || field.empty()) {
    return std::nullopt;
  }
  return value;
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {.name = std::move(name), .help = std::move(help), .type = type, .metric = {metric}};
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  text.remove_prefix(close + 1);
  // Field 3 (state) comes next; collect through field 24.
  std::uint64_t fields[25] = {};
  for (int n = 3; n <= 24; ++n) {
    auto field = NextField(text);
    if (field.empty()) return std::nullopt;
    if (n == 3) continue;  // the state letter
    // Some fields (tpgid, priority, nice) may be negative; none of those is kept.
    if (auto value = ToNumber(field)) {
      fields[n] = *value;
    } else if (n == 14 || n == 15 || n >= 22) {
      return std::nullopt;
    }
  }
  return ProcStat{.utime_ticks = fields[14],
                  .stime_ticks = fields[15],
                  .starttime_ticks = fields[22],
                  .vsize_bytes = fields[23],
                  .rss_pages = fields[24]};
}

std::optional<std::uint64_t> ParseBootTime(std::string_view text) {
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (NextField(line) == "btime") return ToNumber(NextField(line));
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ParseMaxOpenFiles(std::string_view text) {
  constexpr std::string_view kName = "Max open files";
  auto at = text.find(kName);
  if (at == std::string_view::npos) return std::nullopt;
  text.remove_prefix(at + kName.size());
  return ToNumber(NextField(text));  // the soft limit; "unlimited" is no number
}

ProcessCollector::ProcessCollector(std::filesystem::path proc)
    : proc_(std::move(proc)),
      ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))),
      page_size_(static_cast<double>(sysconf(_SC_PAGESIZE))) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  const auto self = proc_ / "self";

  std::optional<ProcStat> stat;
  if (auto text = ReadFile(self / "stat")) stat = ParseProcStat(*text);
  if (stat) {
    families.push_back(
        Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               MetricType::Counter,
               static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks_per_second_));
  }
  std::error_code error;
  double open_fds = 0;
  for (std::filesystem::directory_iterator it(self / "fd", error), end; !error && it != end;
       it.increment(error)) {
    ++open_fds;
  }
  if (!error) {
    families.push_back(Family("process_open_fds", "Number of open file descriptors.",
                              MetricType::Gauge, open_fds));
  }
  std::optional<std::uint64_t> max_fds;
  if (auto text = ReadFile(self / "limits")) max_fds = ParseMaxOpenFiles(*text);
  if (max_fds) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(*max_fds)));
  }
  if (stat) {
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, static_cast<double>(stat->vsize_bytes)));
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge,
                              static_cast<double>(stat->rss_pages) * page_size_));
  }
  std::optional<std::uint64_t> boot;
  if (auto text = ReadFile(proc_ / "stat")) boot = ParseBootTime(*text);
  if (stat && boot) {
    families.push_back(Family("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.",
                              MetricType::Gauge,
                              static_cast<double>(*boot) +
                                  static_cast<double>(stat->starttime_ticks) / ticks_per_second_));
  }
  return families;
}

}  // namespace newsmon::metrics
