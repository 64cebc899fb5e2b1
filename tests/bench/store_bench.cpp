// The SQLite store under a poll load, on the real filesystem with synchronous=FULL (every
// transaction waits for its fsync):
//
//   commits     poll commits per second for one writer, with 1, 8 and 64 commits per
//               transaction (the pipeline's group commit). A typical poll: 30 items in the
//               feed, 3 of them new, 1 of those matched and queued for 2 sinks. Sources take
//               turns (each with its feed already seen once), so consecutive commits touch
//               different parts of the seen table, as in the daemon. Also a 304's commit
//               (state only), 64 per transaction.
//   deliveries  the delivery side draining an outbox: Due(sink, now, 32), then
//               MarkDelivered for each alert (each its own transaction, as the delivery loop
//               does it), alerts per second.
//
// Each figure is the median of the runs (each run on a fresh file); CPU is the process's
// CPU time per commit or alert, so wall time minus CPU is mostly waiting for the disk.
//
//   store_bench          smoke run (what ctest runs): one short run of each, < 2 s
//   store_bench --full   3 runs of 5 s per figure (~1 min)
//   flags: --runs=N --seconds=N --sources=N --alerts=N (outbox rows queued per delivery run)
//   The files go under $TMPDIR (default /tmp): point it at the disk you want to measure.
//
// A plain harness, not Google Benchmark: ctest's --benchmark_* flags are accepted and ignored.
#include <sqlite3.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/alert.h"
#include "daemon/core/feed.h"
#include "daemon/core/poll.h"
#include "daemon/store/store.h"
#include "tests/support/temp_dir.h"

namespace {

using newsmon::core::WallTime;
using newsmon::store::PollCommit;
using newsmon::store::PollItem;
using newsmon::store::Store;
using SteadyClock = std::chrono::steady_clock;

constexpr int kFeedItems = 30;
constexpr int kNewPerPoll = 3;  // the first of them matches
const std::vector<std::string> kSinks = {"hook", "chat"};
const WallTime kStart = WallTime(std::chrono::milliseconds(1'764'300'000'000));

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// ---------------------------------------------------------------------------------------
// The workload.

newsmon::core::Item MakeItem(const std::string& source, int n) {
  newsmon::core::Item item;
  item.id = "https://news.example.com/" + source + "/articles/" + std::to_string(n);
  item.title = "Council approves the new budget after a long debate over item " + std::to_string(n);
  item.link = item.id;
  item.published = std::chrono::floor<std::chrono::seconds>(kStart) + std::chrono::minutes(n);
  item.summary = std::string(420, 's');
  item.author = "Jane Reporter";
  item.categories = {"politics", "city"};
  item.source = source;
  return item;
}

newsmon::core::Alert MakeAlert(const newsmon::core::Item& item, const std::string& sink,
                               WallTime now) {
  newsmon::core::Alert alert;
  alert.sink = sink;
  alert.source = item.source;
  alert.source_url = "https://news.example.com/" + item.source + "/feed.xml";
  alert.item = item;
  newsmon::core::RuleHit hit;
  hit.rule = "budget";
  hit.labels = {{"team", "city-desk"}};
  hit.begin = 20;
  hit.end = 26;
  hit.text = "budget";
  alert.rules = {hit};
  alert.first_seen = now;
  return alert;
}

// Poll `poll` of source `s`: items [3 * poll, 3 * poll + 30); the last three are new, and the
// first new one matched (the pipeline hands alerts only for items it has not seen before).
PollCommit MakePoll(int s, int poll, WallTime now) {
  std::string source = "source-" + std::to_string(s);
  PollCommit commit;
  commit.source = source;
  commit.now = now;
  commit.ok = true;
  commit.state.etag = "\"" + std::to_string(poll) + "\"";
  commit.state.last_poll = now;
  commit.state.last_success = now;
  commit.state.last_outcome = newsmon::core::PollOutcome::kOk;
  commit.state.next_poll = now + std::chrono::minutes(5);
  commit.state.interval = std::chrono::minutes(5);
  int first = kNewPerPoll * poll;
  for (int n = first; n < first + kFeedItems; ++n) {
    PollItem item{.item = MakeItem(source, n)};
    if (poll > 0 && n == first + kFeedItems - kNewPerPoll) {
      for (const auto& sink : kSinks) item.alerts.push_back(MakeAlert(item.item, sink, now));
    }
    commit.items.push_back(std::move(item));
  }
  return commit;
}

struct Figure {
  double per_second = 0;
  double cpu_us = 0;  // per commit / per alert
  std::size_t count = 0;
};

// A 304 (or a failure): only the source's state is saved.
PollCommit MakeStateOnly(int s, int poll, WallTime now) {
  PollCommit commit;
  commit.source = "source-" + std::to_string(s);
  commit.now = now;
  commit.state.etag = "\"" + std::to_string(poll) + "\"";
  commit.state.last_poll = now;
  commit.state.last_success = now;
  commit.state.last_outcome = newsmon::core::PollOutcome::kNotModified;
  commit.state.next_poll = now + std::chrono::minutes(5);
  commit.state.interval = std::chrono::minutes(5);
  return commit;
}

// Commits as fast as one writer can, `batch` per transaction, for `seconds` of commit time.
Figure MeasureCommits(int batch, int sources, double seconds, bool state_only = false) {
  newsmon::test::TempDir dir;
  auto store = Store::Open(newsmon::store::StoreFile(dir.path()));
  WallTime now = kStart;
  // Every source polled once: its feed is seen (first sight, nothing queued).
  std::vector<PollCommit> commits;
  for (int s = 0; s < sources; ++s) {
    commits.push_back(MakePoll(s, 0, now));
    if (commits.size() == 64 || s + 1 == sources) {
      store->CommitPolls(commits);
      commits.clear();
    }
  }

  Figure figure;
  double busy = 0, cpu = 0;
  for (std::size_t k = 0; busy < seconds;) {
    commits.clear();
    for (int i = 0; i < batch; ++i, ++k) {
      now += std::chrono::milliseconds(10);
      int s = static_cast<int>(k % static_cast<std::size_t>(sources));
      int poll = 1 + static_cast<int>(k / static_cast<std::size_t>(sources));
      commits.push_back(state_only ? MakeStateOnly(s, poll, now) : MakePoll(s, poll, now));
    }
    double cpu_before = CpuSeconds();
    auto before = SteadyClock::now();
    auto results = store->CommitPolls(commits);
    busy += Seconds(SteadyClock::now() - before);
    cpu += CpuSeconds() - cpu_before;
    for (const auto& result : results) {
      std::size_t want_new = state_only ? 0 : kNewPerPoll;
      std::size_t want_queued = state_only ? 0 : kSinks.size();
      if (result.new_items != want_new || result.alerts_queued != want_queued) {
        std::fprintf(stderr, "store_bench: unexpected commit result (%zu new, %zu queued)\n",
                     result.new_items, result.alerts_queued);
        std::exit(1);
      }
    }
    figure.count += commits.size();
  }
  figure.per_second = static_cast<double>(figure.count) / busy;
  figure.cpu_us = cpu / static_cast<double>(figure.count) * 1e6;
  return figure;
}

// Queues `alerts` alerts for one sink, then drains them as the delivery loop does.
Figure MeasureDeliveries(int alerts, double seconds) {
  newsmon::test::TempDir dir;
  auto store = Store::Open(newsmon::store::StoreFile(dir.path()));
  WallTime now = kStart;
  for (int queued = 0, batch = 0; queued < alerts; ++batch) {
    PollCommit commit;
    commit.source = "source-" + std::to_string(batch);
    commit.now = now;
    commit.ok = true;
    commit.backfill = true;
    for (int n = 0; n < 50 && queued < alerts; ++n, ++queued) {
      PollItem item{.item = MakeItem(commit.source, n)};
      item.alerts.push_back(MakeAlert(item.item, "hook", now));
      commit.items.push_back(std::move(item));
    }
    store->CommitPoll(commit);
  }

  Figure figure;
  double busy = 0, cpu = 0;
  while (busy < seconds) {
    double cpu_before = CpuSeconds();
    auto before = SteadyClock::now();
    auto due = store->Due("hook", now, 32);
    for (const auto& entry : due) store->MarkDelivered(entry.id);
    busy += Seconds(SteadyClock::now() - before);
    cpu += CpuSeconds() - cpu_before;
    figure.count += due.size();
    if (due.empty()) break;
  }
  if (figure.count == 0) {
    std::fprintf(stderr, "store_bench: nothing was due\n");
    std::exit(1);
  }
  figure.per_second = static_cast<double>(figure.count) / busy;
  figure.cpu_us = cpu / static_cast<double>(figure.count) * 1e6;
  return figure;
}

void PrintRuns(const char* label, const std::vector<Figure>& runs, const char* unit) {
  std::vector<double> rates, cpu;
  std::string list;
  for (const auto& run : runs) {
    rates.push_back(run.per_second);
    cpu.push_back(run.cpu_us);
    char text[32];
    std::snprintf(text, sizeof text, "%s%.0f", list.empty() ? "" : " ", run.per_second);
    list += text;
  }
  std::printf("  %-28s median %7.0f %s/s (runs: %s), CPU %.0f us per %s\n", label, Median(rates),
              unit, list.c_str(), Median(cpu), unit);
}

bool Flag(std::string_view arg, std::string_view name, int& value) {
  if (!arg.starts_with(name)) return false;
  arg.remove_prefix(name.size());
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), value);
  if (ec != std::errc() || end != arg.data() + arg.size() || value <= 0) {
    std::fprintf(stderr, "store_bench: bad value in %s\n", std::string(name).c_str());
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  int runs = 0, seconds = 0, sources = 0, alerts = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--full") {
      full = true;
    } else if (arg == "--smoke" || arg.starts_with("--benchmark_")) {
      // ctest's Google Benchmark flags: this harness runs its smoke mode.
    } else if (Flag(arg, "--runs=", runs) || Flag(arg, "--seconds=", seconds) ||
               Flag(arg, "--sources=", sources) || Flag(arg, "--alerts=", alerts)) {
    } else {
      std::fprintf(stderr, "store_bench: unknown flag %s (see the top of store_bench.cpp)\n",
                   argv[i]);
      return 2;
    }
  }
  if (runs == 0) runs = full ? 3 : 1;
  double measure = seconds > 0 ? seconds : full ? 5.0 : 0.2;
  if (sources == 0) sources = 200;
  if (alerts == 0) alerts = full ? 20'000 : 500;

  std::printf("store_bench (%s run): SQLite %s, WAL, synchronous=FULL, files under %s\n",
              full ? "full" : "smoke", sqlite3_libversion(),
              std::filesystem::temp_directory_path().c_str());
  try {
    std::printf(
        "poll commits (%d items in the feed, %d new, 1 matched for %zu sinks; %d "
        "sources), %d run(s) of %.1f s:\n",
        kFeedItems, kNewPerPoll, kSinks.size(), sources, runs, measure);
    for (int batch : {1, 8, 64}) {
      std::vector<Figure> figures;
      for (int run = 0; run < runs; ++run) {
        figures.push_back(MeasureCommits(batch, sources, measure));
      }
      std::string label = std::to_string(batch) + " commit(s) per transaction";
      PrintRuns(label.c_str(), figures, "commit");
      std::fflush(stdout);
    }
    {
      std::vector<Figure> figures;
      for (int run = 0; run < runs; ++run) {
        figures.push_back(MeasureCommits(64, sources, measure, true));
      }
      PrintRuns("state only (a 304), 64 per tx", figures, "commit");
    }
    std::printf("deliveries (Due of 32, then MarkDelivered each; outbox of %d alerts):\n", alerts);
    std::vector<Figure> figures;
    for (int run = 0; run < runs; ++run) figures.push_back(MeasureDeliveries(alerts, measure));
    PrintRuns("Due + MarkDelivered", figures, "alert");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "store_bench: %s\n", error.what());
    return 1;
  }
  return 0;
}
