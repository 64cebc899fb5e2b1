// The whole poll loop under load: thousands of sources on one nginx on 127.0.0.1, fetched,
// parsed and matched against the shipped rules (rules/*.yaml) as the daemon does it. Two
// runs, each with its own loop and client:
//
//   conditional  every source polls /c/N.xml, one 50-item RSS feed with ETag and
//                Last-Modified: a 200 on the first poll, 304 ever after.
//   full         every source polls /f/N.xml with ETag and If-Modified-Since off and
//                Cache-Control: no-store: a 200 every time, gzip-compressed like the
//                other, and its items new on every poll (nginx serves one of ten
//                versions of the feed, chosen by the tens digit of the clock's seconds, so
//                two polls 10 s apart see different items): fetch, inflate, parse and
//                match every item, the most a poll can cost.
//
// Each run waits until every source has been polled once, then one more interval, then
// measures a fixed time: polls/s, CPU per 1,000 polls (ours from getrusage, nginx's master
// and worker from /proc/PID/stat), fetch latency (PollEvent::duration), how late polls
// start against their schedule, outcomes and peak RSS (VmHWM, reset before each run).
// Targets (tests/bench/README.md), 2 cores with nginx on them: >= 2,000 conditional
// polls/s, >= 500 full polls/s, peak RSS <= 250 MB with 30,000 sources.
//
//   poll_bench          smoke run (what ctest runs): 200 sources per run, 0.5 s interval, ~5 s
//   poll_bench --full   30,000 conditional and 25,000 full sources at 10 s, 30 s each
//   flags: --conditional-sources=N --full-sources=N --interval-ms=N --seconds=N
//          --concurrency=N (max_concurrent = max_per_host = idle connections kept)
//          --parse-threads=N --only=conditional|full
//
// A plain harness, not Google Benchmark: ctest's --benchmark_* flags are accepted and ignored.
#include <malloc.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/diagnostic.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "daemon/pipeline/poll_loop.h"
#include "daemon/rules/rules.h"
#include "tests/bench/bench_support.h"
#include "tests/support/nginx.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using newsmon::bench::Random;
using newsmon::core::PollOutcome;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr std::uint64_t kSeed = 20261127;
constexpr int kItems = 50;
constexpr int kFullVariants = 10;  // /f/: one per tens digit of the clock's seconds

// ---------------------------------------------------------------------------------------
// The feed.

constexpr std::array<std::string_view, 64> kWords = {
    "government", "minister", "announced", "plan",     "reduce",      "energy",    "prices",
    "talks",      "industry", "leaders",   "council",  "voted",       "budget",    "schools",
    "hospital",   "workers",  "strike",    "police",   "said",        "inquiry",   "fire",
    "warehouse",  "market",   "shares",    "rose",     "sharply",     "investors", "central",
    "bank",       "decision", "interest",  "rates",    "storm",       "expected",  "heavy",
    "rain",       "coast",    "weekend",   "football", "club",        "signs",     "record",
    "scientists", "discover", "species",   "ocean",    "researchers", "evidence",  "climate",
    "mountain",   "region",   "election",  "results",  "parties",     "local",     "residents",
    "protest",    "airport",  "expansion", "company",  "reports",     "quarterly", "profit",
    "despite"};

// Mentions the shipped rules fire on, in one title in ten.
constexpr std::array<std::string_view, 8> kRuleMentions = {
    "Kazakhstan",    "Middle Corridor", "Belt and Road", "Astana",
    "Central Asian", "Uzbekistan",      "Tashkent",      "Kyrgyz"};

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

std::string Words(Random& random, std::size_t min_length) {
  std::string text;
  while (text.size() < min_length) {
    if (!text.empty()) text += ' ';
    text += random.Pick(kWords);
  }
  return text;
}

// A 50-item RSS 2.0 feed as a news site writes it: titles of ~80 characters, HTML
// descriptions of ~500 (half in CDATA, half escaped), link, permalink guid, pubDate.
// `variant` changes every guid, link and text.
std::string MakeFeed(std::string_view variant) {
  std::uint64_t seed = kSeed;  // and the variant's bytes: the same feed on every platform
  for (char c : variant) seed = seed * 131 + static_cast<unsigned char>(c);
  Random random(seed);
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n"
      "<title>Eurasia Wire</title>\n<link>https://eurasia-wire.example/</link>\n"
      "<description>News from the region, every hour</description>\n"
      "<language>en</language>\n"
      "<lastBuildDate>Fri, 27 Nov 2026 12:00:00 +0000</lastBuildDate>\n";
  for (int i = 0; i < kItems; ++i) {
    std::string title = Words(random, 60);
    if (random.Percent(10)) {
      title.insert(title.find(' ', 20),
                   std::string(" in ") + std::string(random.Pick(kRuleMentions)));
    }
    while (title.size() < 76) title += std::string(" ") + std::string(random.Pick(kWords));
    title[0] = static_cast<char>(title[0] - 'a' + 'A');
    const std::string link = "https://eurasia-wire.example/2026/11/" + std::string(variant) + "/" +
                             std::to_string(i) + "-" + title.substr(0, title.find(' ', 12));
    std::string html = "<p>" + Words(random, 180) + ", <a href=\"" + link + "#more\">" +
                       Words(random, 20) + "</a> " + Words(random, 120) + ".</p><p><em>" +
                       Words(random, 40) + "</em> " + Words(random, 110) + ".</p>";
    std::string description;
    if (i % 2 == 0) {
      description = "<![CDATA[" + html + "]]>";
    } else {
      for (char c : html) {
        if (c == '<') {
          description += "&lt;";
        } else if (c == '>') {
          description += "&gt;";
        } else if (c == '"') {
          description += "&quot;";
        } else {
          description += c;
        }
      }
    }
    // Newest first, one an hour back from 27 November 2026, a Friday (kDays[4]).
    const int day = 27 - i / 24;
    char date[64];
    std::snprintf(date, sizeof date, "%s, %02d Nov 2026 %02d:%02d:00 +0%d00",
                  std::string(kDays[static_cast<std::size_t>((4 + day - 27 + 7) % 7)]).c_str(), day,
                  23 - i % 24, static_cast<int>(random.Below(60)),
                  static_cast<int>(random.Below(6)));
    xml += "<item>\n<title>" + title + "</title>\n<link>" + link + "</link>\n<description>" +
           description + "</description>\n<pubDate>" + date +
           "</pubDate>\n<guid isPermaLink=\"true\">" + link + "</guid>\n</item>\n";
  }
  return xml + "</channel>\n</rss>\n";
}

// ---------------------------------------------------------------------------------------
// Measuring.

double CpuSeconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

// User and system CPU seconds of this process, all threads.
std::pair<double, double> ProcessCpu() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return {CpuSeconds(usage.ru_utime), CpuSeconds(usage.ru_stime)};
}

// The calling thread's CPU time: the loop's, as the loop runs on main's thread.
double ThreadCpu() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// CPU seconds the whole machine spent busy (all but idle and iowait), from /proc/stat: with
// ours and nginx's, what other processes took from the same cores.
double MachineBusyCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double total = 0, idle = 0;
  in >> cpu;
  for (int field = 0; field < 8; ++field) {
    double ticks = 0;
    in >> ticks;
    total += ticks;
    if (field == 3 || field == 4) idle += ticks;  // idle, iowait
  }
  return (total - idle) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double NginxCpu(const newsmon::test::Nginx& nginx) {
  double cpu = newsmon::test::ProcessCpuSeconds(nginx.master());
  for (pid_t worker : nginx.Workers()) cpu += newsmon::test::ProcessCpuSeconds(worker);
  return cpu;
}

// A "Name:   1234 kB" line of /proc/self/status, in MB (10^6 bytes).
double StatusMb(std::string_view name) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(name)) continue;
    return std::strtod(line.c_str() + name.size(), nullptr) * 1024 / 1e6;
  }
  return 0;
}

// Linux: "5" to clear_refs resets VmHWM to the current RSS.
void ResetPeakRss() {
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

// Runs `io` the way the daemon does (io.run(), no per-handler clock reads) until `limit`
// passes or a handler calls io.stop(); returns the time it ran.
double RunFor(boost::asio::io_context& io, milliseconds limit) {
  boost::asio::steady_timer stop(io, limit);
  stop.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) io.stop();
  });
  const auto start = SteadyClock::now();
  io.restart();
  io.run();
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The measured window, in a function of its own so that a profiler can collect inside it
// only: valgrind --tool=callgrind --toggle-collect='*MeasureWindow*'.
[[gnu::noinline]] double MeasureWindow(boost::asio::io_context& io, milliseconds duration) {
  return RunFor(io, duration);
}

template <typename T>
T Percentile(std::vector<T> values, double p) {
  if (values.empty()) return T{};
  auto k = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

// ---------------------------------------------------------------------------------------
// One run.

struct RunSpec {
  std::string name;    // "conditional" or "full"
  std::string prefix;  // URL path prefix: "/c/" or "/f/"
  int sources = 0;
  milliseconds interval{10'000};
  milliseconds measure{30'000};
  int concurrency = 256;
  int parse_threads = 1;
  PollOutcome expected = PollOutcome::kOk;  // what every measured poll should end in
};

struct RunResult {
  double first_round_seconds = 0;
  double measured_seconds = 0;
  std::size_t polls = 0;
  std::array<std::size_t, std::size(newsmon::core::kPollOutcomeNames)> outcomes{};
  std::vector<int> duration_ms;
  std::vector<std::int64_t> lag_ms;
  std::uint64_t items = 0, new_items = 0, matched = 0, wire_bytes = 0;
  double cpu = 0, system_cpu = 0, loop_cpu = 0, nginx_cpu = 0, machine_cpu = 0;
  double peak_rss_mb = 0, rss_mb = 0;
  double heap_in_use_mb = 0, heap_held_mb = 0;  // malloc's view at the end (mallinfo2)
  // PollLoop::InFlight() once every poll has ended after Stop: should be 0.
  std::size_t stranded_slots = 0;
  std::string error;
  std::string first_error;  // the first failed poll's message
};

RunResult RunOnce(const RunSpec& spec, newsmon::test::Nginx& nginx,
                  const std::shared_ptr<const newsmon::rules::RuleSet>& rules) {
  namespace core = newsmon::core;
  namespace pipeline = newsmon::pipeline;
  RunResult result;
  // What an earlier run freed goes back to the kernel first, so this run's peak is its own.
  ::malloc_trim(0);
  ResetPeakRss();
  {
    boost::asio::io_context io(1);  // as the daemon's: one thread
    auto resolver = newsmon::net::MakeResolver(io.get_executor());
    newsmon::net::HttpClient client(
        io.get_executor(), *resolver,
        {.max_idle_per_key = static_cast<std::size_t>(spec.concurrency)});
    // The daemon logs at info: matches are formatted (and dropped here), debug lines not.
    auto log =
        std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
    log->set_level(spdlog::level::info);
    core::SystemClock clock;
    auto loop = std::make_unique<pipeline::PollLoop>(
        io.get_executor(), client, clock, rules, *log,
        pipeline::PollLoopOptions{
            .limits = {.max_concurrent = spec.concurrency, .max_per_host = spec.concurrency},
            .parse_threads = spec.parse_threads,
            .seed = kSeed});

    std::vector<bool> polled(static_cast<std::size_t>(spec.sources));
    std::vector<std::optional<core::WallTime>> due(static_cast<std::size_t>(spec.sources));
    std::size_t first_polls = 0;
    bool measuring = false;
    loop->OnPoll([&](const pipeline::PollEvent& event) {
      const std::size_t index = std::strtoul(event.source.c_str() + 1, nullptr, 10);
      if (!polled[index]) {
        polled[index] = true;
        if (++first_polls == polled.size()) io.stop();  // the first round is over
      }
      if (measuring) {
        ++result.polls;
        ++result.outcomes[static_cast<std::size_t>(event.outcome)];
        result.duration_ms.push_back(static_cast<int>(event.duration.count()));
        if (due[index]) result.lag_ms.push_back((event.started - *due[index]).count());
        result.items += event.items;
        result.new_items += event.new_items;
        result.matched += event.matched.size();
        result.wire_bytes += event.wire_bytes;
        if (event.outcome != spec.expected && result.first_error.empty()) {
          result.first_error =
              std::string(core::NameOf<PollOutcome>(core::kPollOutcomeNames, event.outcome)) +
              ": " + event.error;
        }
      }
      due[index] = event.next_poll;
    });
    for (int i = 0; i < spec.sources; ++i) {
      core::Source source;
      source.name = spec.name.substr(0, 1) + std::to_string(i);
      source.url = nginx.Url(spec.prefix + std::to_string(i) + ".xml");
      source.interval = spec.interval;
      source.timeout = std::max(spec.interval, milliseconds(10'000));
      source.connect_timeout = milliseconds(5'000);
      source.allow_private_networks.cidrs = {"127.0.0.1/32"};
      // No state: the scheduler spreads the first polls over one interval, as on a first start.
      loop->Add(source);
    }

    loop->Start();
    // Every source's first poll (all 200s, every item new), however long that takes; at
    // the very least 100 first polls/s.
    result.first_round_seconds = RunFor(
        io, std::max(milliseconds(120'000), spec.interval * 4) + milliseconds(spec.sources * 10));
    if (first_polls < polled.size()) {
      result.error = "only " + std::to_string(first_polls) + " of " + std::to_string(spec.sources) +
                     " sources were polled within " +
                     std::to_string(static_cast<int>(result.first_round_seconds)) + " s";
    } else {
      RunFor(io, spec.interval);  // into the steady state

      const auto [user0, system0] = ProcessCpu();
      const double loop_cpu0 = ThreadCpu(), nginx_cpu0 = NginxCpu(nginx),
                   machine_cpu0 = MachineBusyCpu();
      measuring = true;
      result.measured_seconds = MeasureWindow(io, spec.measure);
      measuring = false;
      const auto [user1, system1] = ProcessCpu();
      result.cpu = user1 + system1 - user0 - system0;
      result.system_cpu = system1 - system0;
      result.loop_cpu = ThreadCpu() - loop_cpu0;
      result.nginx_cpu = NginxCpu(nginx) - nginx_cpu0;
      result.machine_cpu = MachineBusyCpu() - machine_cpu0;
    }
    result.peak_rss_mb = StatusMb("VmHWM:");
    result.rss_mb = StatusMb("VmRSS:");
    const struct mallinfo2 heap = ::mallinfo2();
    result.heap_in_use_mb = static_cast<double>(heap.uordblks + heap.hblkhd) / 1e6;
    result.heap_held_mb = static_cast<double>(heap.arena + heap.hblkhd) / 1e6;

    // Let the polls in flight end (a parse may be running on the loop's worker pool, which
    // must not outlive the io_context) and every source's coroutine see the stop: then the
    // io_context runs out of work and run_for returns early. (PollLoop::InFlight() cannot
    // tell: see stranded_slots.)
    loop->Stop();
    io.restart();  // RunFor left it stopped: nothing would run
    io.run_for(seconds(30));
    if (!io.stopped()) {
      std::fprintf(stderr, "poll_bench: the loop still had work 30 s after Stop\n");
      // Tearing down now would free what a running poll still uses: stop nginx (which a
      // crash would leave running) and end here.
      nginx.Stop();
      std::abort();
    }
    result.stranded_slots = loop->InFlight();
    loop.reset();
    io.poll();
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// The report.

void Print(const RunSpec& spec, const RunResult& r, bool full) {
  const double offered = spec.sources * 1000.0 / static_cast<double>(spec.interval.count());
  std::printf(
      "\n%s run: %d sources every %.1f s (offered %.0f polls/s), concurrency %d, %d parse "
      "thread(s)\n",
      spec.name.c_str(), spec.sources, static_cast<double>(spec.interval.count()) / 1000, offered,
      spec.concurrency, spec.parse_threads);
  std::printf("  first round: every source polled once in %.1f s (%.0f first polls/s)\n",
              r.first_round_seconds, spec.sources / r.first_round_seconds);
  if (!r.error.empty()) {
    std::printf("  FAILED: %s\n", r.error.c_str());
    return;
  }
  const double rate = static_cast<double>(r.polls) / r.measured_seconds;
  const double per_1000 = r.polls > 0 ? 1000.0 / static_cast<double>(r.polls) : 0;
  std::printf("  measured %.1f s: %zu polls, %.0f polls/s%s\n", r.measured_seconds, r.polls, rate,
              rate < 0.97 * offered ? "  (below the offered rate: saturated)"
                                    : "  (= the offered rate: not saturated)");
  std::printf("  outcomes:");
  for (std::size_t i = 0; i < r.outcomes.size(); ++i) {
    if (r.outcomes[i] > 0) {
      std::printf(" %s %zu", std::string(newsmon::core::kPollOutcomeNames[i].name).c_str(),
                  r.outcomes[i]);
    }
  }
  std::printf("\n");
  if (!r.first_error.empty())
    std::printf("  first unexpected outcome: %s\n", r.first_error.c_str());
  std::printf(
      "  items %llu (new %llu, matched %llu), %.1f KB on the wire per poll\n",
      static_cast<unsigned long long>(r.items), static_cast<unsigned long long>(r.new_items),
      static_cast<unsigned long long>(r.matched),
      r.polls > 0 ? static_cast<double>(r.wire_bytes) / static_cast<double>(r.polls) / 1e3 : 0.0);
  std::printf(
      "  fetch latency (PollEvent::duration, whole ms): p50 %d ms, p99 %d ms, max %d ms\n",
      Percentile(r.duration_ms, 0.5), Percentile(r.duration_ms, 0.99),
      r.duration_ms.empty() ? 0 : *std::max_element(r.duration_ms.begin(), r.duration_ms.end()));
  std::printf("  start behind schedule: p50 %lld ms, p99 %lld ms\n",
              static_cast<long long>(Percentile(r.lag_ms, 0.5)),
              static_cast<long long>(Percentile(r.lag_ms, 0.99)));
  std::printf(
      "  CPU per 1,000 polls: newsmon %.3f s (loop thread %.3f, other threads %.3f; in the kernel "
      "%.3f), nginx %.3f s, together %.3f s\n",
      r.cpu * per_1000, r.loop_cpu * per_1000, (r.cpu - r.loop_cpu) * per_1000,
      r.system_cpu * per_1000, r.nginx_cpu * per_1000, (r.cpu + r.nginx_cpu) * per_1000);
  std::printf("  CPU used: newsmon %.2f cores, nginx %.2f cores, other processes %.2f (of %ld)\n",
              r.cpu / r.measured_seconds, r.nginx_cpu / r.measured_seconds,
              std::max(0.0, r.machine_cpu - r.cpu - r.nginx_cpu) / r.measured_seconds,
              ::sysconf(_SC_NPROCESSORS_ONLN));
  std::printf(
      "  peak RSS (VmHWM) %.1f MB, RSS at the end %.1f MB; heap in use %.1f MB of %.1f MB held "
      "by malloc\n",
      r.peak_rss_mb, r.rss_mb, r.heap_in_use_mb, r.heap_held_mb);
  if (r.stranded_slots > 0) {
    std::printf(
        "  after Stop, with every poll over, PollLoop::InFlight() still reads %zu: sources the\n"
        "  scheduler released from its queue after Stop took a slot and never gave it back\n",
        r.stranded_slots);
  }
  const char* verdict_note = full ? "" : " (smoke run: only --full judges)";
  if (spec.expected == PollOutcome::kNotModified) {
    std::printf("  target >= 2,000 conditional polls/s: %s%s\n", rate >= 2000 ? "met" : "MISSED",
                verdict_note);
    std::printf("  target peak RSS <= 250 MB with 30,000 sources: %s%s\n",
                spec.sources < 30'000  ? "not judged (fewer sources)"
                : r.peak_rss_mb <= 250 ? "met"
                                       : "MISSED",
                verdict_note);
  } else {
    std::printf("  target >= 500 full polls/s: %s%s\n", rate >= 500 ? "met" : "MISSED",
                verdict_note);
  }
}

std::shared_ptr<const newsmon::rules::RuleSet> ShippedRules() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(NEWSMON_SOURCE_DIR) / "rules")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  auto read = newsmon::config::LoadRuleFiles(files);
  for (const auto& d : read.diagnostics)
    std::fprintf(stderr, "%s\n", newsmon::core::Format(d).c_str());
  if (!read.ok()) return nullptr;
  auto built = newsmon::rules::Build(std::move(read.rules));
  for (const auto& d : built.diagnostics)
    std::fprintf(stderr, "%s\n", newsmon::core::Format(d).c_str());
  std::printf("rules: %zu from %zu files in rules/\n",
              built.rules ? built.rules->specs().size() : 0, files.size());
  return built.rules;
}

bool Flag(std::string_view arg, std::string_view name, int& value) {
  if (!arg.starts_with(name)) return false;
  arg.remove_prefix(name.size());
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), value);
  if (ec != std::errc() || end != arg.data() + arg.size() || value <= 0) {
    std::fprintf(stderr, "poll_bench: bad value in %s\n", std::string(name).c_str());
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  int conditional_sources = 0, full_sources = 0, interval_ms = 0, measure_s = 0;
  int concurrency = 256, parse_threads = 1;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--full") {
      full = true;
    } else if (arg == "--smoke" || arg.starts_with("--benchmark_")) {
      // ctest's Google Benchmark flags: this harness runs its smoke mode.
    } else if (Flag(arg, "--conditional-sources=", conditional_sources) ||
               Flag(arg, "--full-sources=", full_sources) ||
               Flag(arg, "--interval-ms=", interval_ms) || Flag(arg, "--seconds=", measure_s) ||
               Flag(arg, "--concurrency=", concurrency) ||
               Flag(arg, "--parse-threads=", parse_threads)) {
    } else if (arg.starts_with("--only=")) {
      only = std::string(arg.substr(7));
    } else {
      std::fprintf(stderr, "poll_bench: unknown flag %s (see the top of poll_bench.cpp)\n",
                   argv[i]);
      return 2;
    }
  }
  if (conditional_sources == 0) conditional_sources = full ? 30'000 : 200;
  if (full_sources == 0) full_sources = full ? 25'000 : 200;
  if (interval_ms == 0) interval_ms = full ? 10'000 : 500;
  if (measure_s == 0) measure_s = full ? 30 : 1;

  std::printf("poll_bench (%s run)\n", full ? "full" : "smoke");
  auto rules = ShippedRules();
  if (!rules) {
    std::fprintf(stderr, "poll_bench: the shipped rules do not build\n");
    return 1;
  }

  newsmon::test::TempDir dir;
  newsmon::test::Nginx nginx(
      dir.path(),
      {.server = "    location /c/ { try_files /feed.xml =404; }\n"
                 "    location /f/ {\n"
                 "      etag off;\n"
                 "      if_modified_since off;\n"
                 "      add_header Cache-Control no-store;\n"
                 "      try_files /full-$feed_version.xml =404;\n"
                 "    }\n",
       .http = "  keepalive_requests 10000000;\n"
               "  keepalive_timeout 300s;\n"
               "  map $msec $feed_version { \"~(?<tens>[0-9])[0-9][.][0-9]+$\" $tens; }\n",
       .worker_processes = 1,
       .access_log = false});
  if (!nginx.ok()) {
    std::fprintf(stderr, "poll_bench: %s\n", nginx.error().c_str());
    return 1;
  }
  const std::string feed = MakeFeed("c");
  std::ofstream(nginx.root() / "feed.xml", std::ios::binary) << feed;
  for (int v = 0; v < kFullVariants; ++v) {
    std::ofstream(nginx.root() / ("full-" + std::to_string(v) + ".xml"), std::ios::binary)
        << MakeFeed("f" + std::to_string(v));
  }
  std::printf("nginx %d (1 worker) on 127.0.0.1:%u; feed: RSS 2.0, %d items, %zu bytes\n",
              nginx.master(), nginx.port(), kItems, feed.size());

  std::vector<RunSpec> runs;
  if (only.empty() || only == "conditional") {
    runs.push_back({.name = "conditional",
                    .prefix = "/c/",
                    .sources = conditional_sources,
                    .interval = milliseconds(interval_ms),
                    .measure = seconds(measure_s),
                    .concurrency = concurrency,
                    .parse_threads = parse_threads,
                    .expected = PollOutcome::kNotModified});
  }
  if (only.empty() || only == "full") {
    runs.push_back({.name = "full",
                    .prefix = "/f/",
                    .sources = full_sources,
                    .interval = milliseconds(interval_ms),
                    .measure = seconds(measure_s),
                    .concurrency = concurrency,
                    .parse_threads = parse_threads,
                    .expected = PollOutcome::kOk});
  }
  bool sane = true;
  for (const RunSpec& spec : runs) {
    std::fflush(stdout);
    RunResult result = RunOnce(spec, nginx, rules);
    Print(spec, result, full);
    const std::size_t expected = result.outcomes[static_cast<std::size_t>(spec.expected)];
    sane = sane && result.error.empty() && result.polls > 0 && expected == result.polls;
  }
  if (!nginx.Stop()) std::printf("nginx did not shut down by itself\n");
  if (!sane) {
    std::printf("\npoll_bench: a run failed or had unexpected outcomes (see above)\n");
    return 1;
  }
  return 0;
}
