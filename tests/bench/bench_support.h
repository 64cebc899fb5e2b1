// What the benchmarks share: reading their own flags beside Google Benchmark's, and the
// small text helpers their generators use.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace newsmon::bench {

// Starts Google Benchmark with `args` (argv without the benchmark's own flags, argv[0]
// first). A full run reports medians of 5 repetitions unless the command line says
// otherwise, the repetitions of all benchmarks interleaved in random order: a ratio of two
// benchmarks then compares runs spread over the same minutes, not one benchmark's runs
// with the other's taken later, when the shared machine may be busier or quieter.
// False after reporting an unknown flag.
inline bool InitializeBenchmark(std::vector<char*> args, bool full) {
  static std::string repetitions = "--benchmark_repetitions=5";
  static std::string aggregates = "--benchmark_display_aggregates_only=true";
  static std::string interleaving = "--benchmark_enable_random_interleaving=true";
  if (full) {
    bool has_repetitions = false, has_interleaving = false;
    for (char* arg : args) {
      has_repetitions |= std::string_view(arg).starts_with("--benchmark_repetitions");
      has_interleaving |= std::string_view(arg).starts_with("--benchmark_enable_random");
    }
    if (!has_repetitions) {
      args.insert(args.begin() + 1, repetitions.data());
      args.insert(args.begin() + 1, aggregates.data());
    }
    if (!has_interleaving) args.insert(args.begin() + 1, interleaving.data());
  }
  int argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&argc, args.data());
  return !benchmark::ReportUnrecognizedArguments(argc, args.data());
}

// splitmix64: the same numbers on every platform and standard library, which the
// std::*_distribution classes do not promise.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t Below(std::size_t n) { return static_cast<std::size_t>(Next() % n); }
  bool Percent(std::size_t p) { return Below(100) < p; }
  template <typename List>
  const auto& Pick(const List& list) {
    return list[Below(std::size(list))];
  }

 private:
  std::uint64_t state_;
};

// Median (or single-run) rates per benchmark, taken from the runs as they are reported.
struct Rate {
  double bytes_per_second = 0;
  double items_per_second = 0;
  bool median = false;
  std::int64_t repetitions = 1;
};

class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (!median && run.run_type != Run::RT_Iteration) continue;
      Rate& rate = rates_[run.run_name.function_name];
      if (rate.median && !median) continue;
      auto counter = [&](const char* name) {
        auto it = run.counters.find(name);
        return it == run.counters.end() ? 0.0 : it->second.value;
      };
      rate = {.bytes_per_second = counter("bytes_per_second"),
              .items_per_second = counter("items_per_second"),
              .median = median,
              .repetitions = run.repetitions};
    }
  }

  std::optional<Rate> Find(const std::string& name) const {
    auto it = rates_.find(name);
    if (it == rates_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, Rate> rates_;
};

// `text` as XML character data or attribute value: &, <, > and " escaped.
inline void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
}

inline std::string XmlEscaped(std::string_view text) {
  std::string out;
  AppendXmlEscaped(out, text);
  return out;
}

// The non-empty pieces of `list` between `separator`s.
inline std::vector<std::string_view> Split(std::string_view list, char separator = ' ') {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    std::size_t end = std::min(list.find(separator), list.size());
    if (end > 0) out.push_back(list.substr(0, end));
    list.remove_prefix(std::min(end + 1, list.size()));
  }
  return out;
}

}  // namespace newsmon::bench
