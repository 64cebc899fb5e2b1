// How long loading and validating a config takes as the source count grows: start-up and
// (later) every SIGHUP reload pay it. Run: build/release/tests/bench/config_bench
#include <benchmark/benchmark.h>

#include <string>

#include "daemon/config/config.h"

namespace {

// A config with `n` sources in the shape users write: defaults, headers, one html source
// in ten, durations and sizes to parse, ${VAR} references to expand.
std::string GenerateConfig(int n) {
  std::string yaml =
      "state_dir: ${STATE:-/var/lib/newsmon}\n"
      "rules: []\n"
      "defaults:\n  interval: 5m\n  timeout: 30s\n  max_body: 10MiB\n"
      "  headers:\n    Accept-Language: en\n"
      "sources:\n";
  for (int i = 0; i < n; ++i) {
    std::string name = "source-" + std::to_string(i);
    yaml += "  - name: " + name + "\n    url: https://news" + std::to_string(i % 97) +
            ".example.org/feed/" + name + ".xml\n    interval: 10m\n";
    if (i % 10 == 0) {
      yaml +=
          "    kind: html\n    html:\n      item: \".latest li\"\n      title: \"a\"\n"
          "      link: \"a@href\"\n      date: \".date\"\n      date_format: \"%d %B %Y\"\n"
          "      timezone: Asia/Almaty\n";
    }
  }
  return yaml;
}

void BM_LoadConfig(benchmark::State& state) {
  const std::string yaml = GenerateConfig(static_cast<int>(state.range(0)));
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  for (auto _ : state) {
    auto result = newsmon::config::LoadConfigFromString(yaml, "/etc/newsmon/newsmon.yaml", env);
    if (!result.ok()) state.SkipWithError("generated config is invalid");
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(yaml.size()));
  state.counters["sources"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_LoadConfig)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
