// The standard process_* metrics of Prometheus clients (prometheus-cpp has no collector for
// them), read from procfs at every scrape. Internal to the metrics module (and its tests).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace newsmon::metrics {

// The fields of /proc/<pid>/stat the metrics need (proc(5) numbering).
struct ProcStat {
  std::uint64_t utime_ticks = 0;      // (14)
  std::uint64_t stime_ticks = 0;      // (15)
  std::uint64_t starttime_ticks = 0;  // (22) after boot
  std::uint64_t vsize_bytes = 0;      // (23)
  std::uint64_t rss_pages = 0;        // (24)
};

// Parses the text of /proc/<pid>/stat; nullopt when it is not one. The command name (2) may
// hold spaces and parentheses: fields are counted from its last ')'.
std::optional<ProcStat> ParseProcStat(std::string_view text);
// "btime" of /proc/stat: the boot time, Unix seconds.
std::optional<std::uint64_t> ParseBootTime(std::string_view text);
// The soft "Max open files" of /proc/<pid>/limits; nullopt when absent or unlimited.
std::optional<std::uint64_t> ParseMaxOpenFiles(std::string_view text);

// Collects process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds of `proc`/self. A metric whose file cannot be read is left out
// of that scrape. Thread-safe (it keeps no state).
class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::filesystem::path proc = "/proc");
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::filesystem::path proc_;
  double ticks_per_second_;
  double page_size_;
};

}  // namespace newsmon::metrics
