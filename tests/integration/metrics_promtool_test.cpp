// metrics: the exposition of a populated Metrics passes Prometheus's own linter,
// `promtool check metrics` (from the Debian package `prometheus`): text format, naming
// conventions (_total on counters only, base units), HELP on every family.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/poll.h"
#include "daemon/core/rule.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline/delivery_loop.h"
#include "daemon/pipeline/metrics_recorder.h"
#include "daemon/pipeline/poll_loop.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon::metrics {
namespace {

using namespace std::chrono;
using pipeline::DeliveryEvent;

// Lints `exposition` with promtool (stdin); passes when it exits 0 and says nothing.
void ExpectPromtoolAccepts(const std::string& exposition) {
  test::TempDir dir;
  auto input = dir.Write("metrics.txt", exposition);
  auto result = test::RunProcess({"promtool", "check", "metrics"}, {}, seconds(30), input.string());
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << "\n--- input:\n" << exposition;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "");
}

// The harness itself: promtool reads the file and rejects what breaks its rules.
TEST(MetricsPromtoolTest, TheLinterRejectsACounterWithoutTotal) {
  test::TempDir dir;
  auto input = dir.Write("bad.txt",
                         "# HELP newsmon_bad A counter.\n# TYPE newsmon_bad counter\n"
                         "newsmon_bad 1\n");
  auto result = test::RunProcess({"promtool", "check", "metrics"}, {}, seconds(30), input.string());
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE((result.out + result.err).find("_total"), std::string::npos);
}

TEST(MetricsPromtoolTest, APopulatedExpositionPassesTheLinter) {
  const core::WallTime now = core::SystemClock().Now();
  Metrics metrics;
  const std::vector<std::string> sources = {"caliber-az", "eurasianet", "trend.az"};
  const std::vector<std::string> rules = {"central-asia", "middle-corridor", "belt_and_road"};
  const std::vector<std::string> sinks = {"ops-webhook", "log", "alertmanager"};
  metrics.Declare(sources, rules, sinks);
  metrics.ConfigReload(true, now);
  metrics.RulesLoaded(rules.size());
  metrics.SourcesConfigured(sources.size());

  pipeline::PollEvent ok{.source = "caliber-az",
                         .outcome = core::PollOutcome::kOk,
                         .status = 200,
                         .items = 25,
                         .new_items = 2,
                         .warnings = 1,
                         .wire_bytes = 48'213,
                         .duration = milliseconds(420)};
  ok.matched.push_back({.item = {.id = "a", .title = "Middle Corridor cargo doubles"},
                        .matches = {{.rule = "central-asia"}, {.rule = "middle-corridor"}}});
  pipeline::Record(metrics, ok,
                   {.last_success = now, .next_poll = now + minutes(5), .interval = minutes(5)});
  pipeline::PollEvent failed{.source = "eurasianet",
                             .outcome = core::PollOutcome::kHttp5xx,
                             .error = "HTTP 503",
                             .status = 503,
                             .duration = seconds(2)};
  pipeline::Record(metrics, failed,
                   {.consecutive_failures = 3, .next_poll = now + minutes(20), .interval = 10min});

  for (auto result : {DeliveryEvent::Result::kDelivered, DeliveryEvent::Result::kRetry,
                      DeliveryEvent::Result::kDeadLetter, DeliveryEvent::Result::kGone}) {
    pipeline::Record(metrics, DeliveryEvent{.sink = "ops-webhook",
                                            .result = result,
                                            .duration = microseconds(180'000),
                                            .first_seen = now - seconds(40),
                                            .published = time_point_cast<seconds>(now - 2min),
                                            .finished = now});
  }
  metrics.OutboxPending("ops-webhook", 4);

  ExpectPromtoolAccepts(metrics.Serialize());
}

TEST(MetricsPromtoolTest, AFreshExpositionPassesTheLinter) {
  Metrics metrics;
  ExpectPromtoolAccepts(metrics.Serialize());
  metrics.Declare(std::vector<std::string>{"only"}, {}, {});
  ExpectPromtoolAccepts(metrics.Serialize());
}

}  // namespace
}  // namespace newsmon::metrics
