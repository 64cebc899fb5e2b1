// schedule: first-poll spread, jitter, backoff, Retry-After, cache hints, adaptive interval
// and the global / per-host limits with their FIFO queue, all on a fake clock.
#include "daemon/schedule/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/core/poll.h"
#include "daemon/core/source.h"

namespace newsmon::schedule {
namespace {

using namespace std::chrono;
using core::PollOutcome;
using core::WallTime;

class FakeClock final : public core::Clock {
 public:
  WallTime Now() const override { return now_; }
  void Advance(milliseconds by) { now_ += by; }

 private:
  WallTime now_ = sys_days{2024y / March / 1} + 9h;
};

constexpr core::PollLimits kNoLimits{.max_concurrent = 1'000'000, .max_per_host = 1'000'000};

core::Source MakeSource(std::string url = "https://example.com/feed",
                        milliseconds interval = minutes(5)) {
  core::Source source;
  source.name = "src";
  source.url = std::move(url);
  source.interval = interval;
  return source;
}

core::Source AdaptiveSource(milliseconds interval, milliseconds min, milliseconds max) {
  core::Source source = MakeSource("https://example.com/feed", interval);
  source.min_interval = min;
  source.max_interval = max;
  return source;
}

PollReport Ok(std::size_t new_items = 0) {
  PollReport report;
  report.outcome = PollOutcome::kOk;
  report.new_items = new_items;
  return report;
}

PollReport Failed(PollOutcome outcome = PollOutcome::kHttp5xx, std::string error = "boom") {
  PollReport report;
  report.outcome = outcome;
  report.error = std::move(error);
  return report;
}

// One poll of `id` through the limits, ending as `report`.
void Poll(Scheduler& scheduler, SourceId id, const PollReport& report) {
  ASSERT_TRUE(scheduler.TryStart(id));
  scheduler.Finish(id, report);
}

milliseconds Offset(const Scheduler& scheduler, SourceId id, const FakeClock& clock) {
  return scheduler.NextPoll(id) - clock.Now();
}

// The next poll is `base` from now, give or take kIntervalJitter.
void ExpectJitteredAround(milliseconds offset, milliseconds base) {
  const auto spread = milliseconds(
      static_cast<milliseconds::rep>(static_cast<double>(base.count()) * kIntervalJitter));
  EXPECT_GE(offset, base - spread) << "base " << base.count() << " ms";
  EXPECT_LE(offset, base + spread) << "base " << base.count() << " ms";
}

// --- first poll -------------------------------------------------------------------------

TEST(SchedulerFirstPoll, SpreadOverTheWholeWindow) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 1);
  std::vector<milliseconds> offsets;
  for (int i = 0; i < 1000; ++i) {
    SourceId id = scheduler.Add(MakeSource("https://example.com/feed", minutes(5)));
    offsets.push_back(Offset(scheduler, id, clock));
  }
  for (milliseconds offset : offsets) {
    EXPECT_GE(offset, milliseconds(0));
    EXPECT_LT(offset, kFirstPollSpread);
  }
  auto [min, max] = std::minmax_element(offsets.begin(), offsets.end());
  EXPECT_LT(*min, seconds(3));
  EXPECT_GT(*max, kFirstPollSpread - seconds(3));
  std::set<milliseconds> distinct(offsets.begin(), offsets.end());
  EXPECT_GT(distinct.size(), 900u);
  milliseconds sum{0};
  for (milliseconds offset : offsets) sum += offset;
  EXPECT_GT(sum / offsets.size(), seconds(25));
  EXPECT_LT(sum / offsets.size(), seconds(35));
}

TEST(SchedulerFirstPoll, WindowIsTheIntervalWhenShorter) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 2);
  milliseconds max{0};
  for (int i = 0; i < 500; ++i) {
    SourceId id = scheduler.Add(MakeSource("https://example.com/feed", seconds(20)));
    milliseconds offset = Offset(scheduler, id, clock);
    EXPECT_GE(offset, milliseconds(0));
    EXPECT_LT(offset, seconds(20));
    max = std::max(max, offset);
  }
  EXPECT_GT(max, seconds(19));
}

TEST(SchedulerFirstPoll, PersistedNextPollInTheFutureIsKept) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 3);
  core::SourceState state;
  state.next_poll = clock.Now() + hours(3);
  SourceId id = scheduler.Add(MakeSource(), state);
  EXPECT_EQ(scheduler.NextPoll(id), clock.Now() + hours(3));
  EXPECT_EQ(scheduler.State(id).next_poll, clock.Now() + hours(3));
}

TEST(SchedulerFirstPoll, PersistedNextPollInThePastIsSpread) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 4);
  for (milliseconds ago : {milliseconds(hours(1)), milliseconds(0)}) {
    core::SourceState state;
    state.next_poll = clock.Now() - ago;
    SourceId id = scheduler.Add(MakeSource(), state);
    EXPECT_GE(scheduler.NextPoll(id), clock.Now());
    EXPECT_LT(scheduler.NextPoll(id), clock.Now() + kFirstPollSpread);
  }
}

TEST(SchedulerFirstPoll, PersistedStateOtherwiseKept) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 5);
  core::SourceState state;
  state.etag = "\"v1\"";
  state.last_modified = "Fri, 01 Mar 2024 08:00:00 GMT";
  state.consecutive_failures = 3;
  SourceId id = scheduler.Add(MakeSource(), state);
  EXPECT_EQ(scheduler.State(id).etag, "\"v1\"");
  EXPECT_EQ(scheduler.State(id).last_modified, "Fri, 01 Mar 2024 08:00:00 GMT");
  EXPECT_EQ(scheduler.State(id).consecutive_failures, 3);
}

TEST(SchedulerFirstPoll, SameSeedSameScheduleOtherSeedAnother) {
  FakeClock clock;
  Scheduler a(clock, kNoLimits, 42);
  Scheduler b(clock, kNoLimits, 42);
  Scheduler c(clock, kNoLimits, 43);
  int differs = 0;
  for (int i = 0; i < 20; ++i) {
    SourceId ia = a.Add(MakeSource());
    SourceId ib = b.Add(MakeSource());
    SourceId ic = c.Add(MakeSource());
    EXPECT_EQ(a.NextPoll(ia), b.NextPoll(ib));
    if (a.NextPoll(ia) != c.NextPoll(ic)) ++differs;
  }
  EXPECT_GT(differs, 15);
}

TEST(SchedulerFirstPoll, IdsCountUpAndAreNeverReused) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 6);
  EXPECT_EQ(scheduler.Add(MakeSource()), 0u);
  EXPECT_EQ(scheduler.Add(MakeSource()), 1u);
  scheduler.Remove(1);
  EXPECT_EQ(scheduler.Add(MakeSource()), 2u);
}

// --- interval at start ------------------------------------------------------------------

TEST(SchedulerInterval, FixedSourceTakesTheConfiguredInterval) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 7);
  core::SourceState state;
  state.interval = minutes(42);
  SourceId id = scheduler.Add(MakeSource("https://example.com/", minutes(5)), state);
  EXPECT_EQ(scheduler.State(id).interval, minutes(5));
}

TEST(SchedulerInterval, AdaptiveSourceKeepsAPersistedIntervalWithinBounds) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 8);
  core::Source source = AdaptiveSource(minutes(5), minutes(1), hours(1));
  core::SourceState state;
  state.interval = minutes(42);
  EXPECT_EQ(scheduler.State(scheduler.Add(source, state)).interval, minutes(42));
  state.interval = minutes(1);
  EXPECT_EQ(scheduler.State(scheduler.Add(source, state)).interval, minutes(1));
  state.interval = hours(1);
  EXPECT_EQ(scheduler.State(scheduler.Add(source, state)).interval, hours(1));
  // Outside the bounds (e.g. the config changed them), or never persisted: start over.
  state.interval = hours(2);
  EXPECT_EQ(scheduler.State(scheduler.Add(source, state)).interval, minutes(5));
  state.interval = seconds(30);
  EXPECT_EQ(scheduler.State(scheduler.Add(source, state)).interval, minutes(5));
  EXPECT_EQ(scheduler.State(scheduler.Add(source)).interval, minutes(5));
}

// --- success ----------------------------------------------------------------------------

TEST(SchedulerSuccess, NextPollIsTheIntervalWithSmallJitter) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 9);
  std::vector<SourceId> ids;
  for (int i = 0; i < 500; ++i) ids.push_back(scheduler.Add(MakeSource("https://a/", minutes(10))));
  clock.Advance(minutes(1));
  std::vector<milliseconds> offsets;
  for (SourceId id : ids) {
    Poll(scheduler, id, Ok());
    offsets.push_back(Offset(scheduler, id, clock));
  }
  for (milliseconds offset : offsets) ExpectJitteredAround(offset, minutes(10));
  auto [min, max] = std::minmax_element(offsets.begin(), offsets.end());
  EXPECT_LT(*min, minutes(10) - seconds(27));  // ±5% of 10 min is ±30 s
  EXPECT_GT(*max, minutes(10) + seconds(27));
}

TEST(SchedulerSuccess, RecordsTheSuccessAndKeepsTheLastError) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 10);
  SourceId id = scheduler.Add(MakeSource());
  clock.Advance(minutes(1));
  Poll(scheduler, id, Failed(PollOutcome::kTimeout, "https://example.com/feed: timed out"));
  const WallTime failed_at = clock.Now();
  clock.Advance(minutes(7));
  PollReport not_modified = Ok();
  not_modified.outcome = PollOutcome::kNotModified;
  Poll(scheduler, id, not_modified);
  const core::SourceState& state = scheduler.State(id);
  EXPECT_EQ(state.consecutive_failures, 0);
  EXPECT_EQ(state.last_success, clock.Now());
  EXPECT_EQ(state.last_poll, clock.Now());
  EXPECT_EQ(state.last_outcome, PollOutcome::kNotModified);
  EXPECT_EQ(state.last_failure, failed_at);
  EXPECT_EQ(state.last_error, "https://example.com/feed: timed out");
}

TEST(SchedulerSuccess, ValidatorsReplacedOnlyByNonEmptyOnes) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 11);
  SourceId id = scheduler.Add(MakeSource());
  PollReport first = Ok();
  first.etag = "\"a\"";
  first.last_modified = "Fri, 01 Mar 2024 08:00:00 GMT";
  Poll(scheduler, id, first);
  EXPECT_EQ(scheduler.State(id).etag, "\"a\"");
  EXPECT_EQ(scheduler.State(id).last_modified, "Fri, 01 Mar 2024 08:00:00 GMT");

  PollReport not_modified = Ok();
  not_modified.outcome = PollOutcome::kNotModified;
  Poll(scheduler, id, not_modified);
  EXPECT_EQ(scheduler.State(id).etag, "\"a\"");
  EXPECT_EQ(scheduler.State(id).last_modified, "Fri, 01 Mar 2024 08:00:00 GMT");

  PollReport etag_only = Ok();
  etag_only.etag = "\"b\"";
  Poll(scheduler, id, etag_only);
  EXPECT_EQ(scheduler.State(id).etag, "\"b\"");
  EXPECT_EQ(scheduler.State(id).last_modified, "Fri, 01 Mar 2024 08:00:00 GMT");

  // A failed poll's headers are not the feed's validators.
  PollReport failed = Failed();
  failed.etag = "\"error-page\"";
  failed.last_modified = "Sat, 02 Mar 2024 00:00:00 GMT";
  Poll(scheduler, id, failed);
  EXPECT_EQ(scheduler.State(id).etag, "\"b\"");
  EXPECT_EQ(scheduler.State(id).last_modified, "Fri, 01 Mar 2024 08:00:00 GMT");
}

// --- failures and backoff ---------------------------------------------------------------

TEST(SchedulerBackoff, RecordsTheFailure) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 12);
  SourceId id = scheduler.Add(MakeSource());
  clock.Advance(seconds(30));
  Poll(scheduler, id, Failed(PollOutcome::kDns, "example.com: name not found"));
  const core::SourceState& state = scheduler.State(id);
  EXPECT_EQ(state.consecutive_failures, 1);
  EXPECT_EQ(state.last_failure, clock.Now());
  EXPECT_EQ(state.last_poll, clock.Now());
  EXPECT_EQ(state.last_outcome, PollOutcome::kDns);
  EXPECT_EQ(state.last_error, "example.com: name not found");
  EXPECT_EQ(state.last_success, std::nullopt);
  EXPECT_EQ(state.interval, minutes(5));
}

// Failure n waits a uniform time in [d/2, d], d = min(max_backoff, interval · 2^(n-1)).
TEST(SchedulerBackoff, DoublesWithEqualJitterUpToMaxBackoff) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 13);
  core::Source source = MakeSource("https://example.com/", minutes(1));
  source.max_backoff = minutes(10);
  std::vector<SourceId> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(scheduler.Add(source));
  const std::vector<milliseconds> expected = {minutes(1),  minutes(2),  minutes(4), minutes(8),
                                              minutes(10), minutes(10), minutes(10)};
  for (std::size_t round = 0; round < expected.size(); ++round) {
    const milliseconds d = expected[round];
    clock.Advance(minutes(3));
    std::vector<milliseconds> offsets;
    for (SourceId id : ids) {
      Poll(scheduler, id, Failed());
      ASSERT_EQ(scheduler.State(id).consecutive_failures, static_cast<int>(round + 1));
      offsets.push_back(Offset(scheduler, id, clock));
    }
    auto [min, max] = std::minmax_element(offsets.begin(), offsets.end());
    EXPECT_GE(*min, d / 2) << "failure " << round + 1;
    EXPECT_LE(*max, d) << "failure " << round + 1;
    EXPECT_LT(*min, d / 2 + d / 20) << "failure " << round + 1;
    EXPECT_GT(*max, d - d / 20) << "failure " << round + 1;
  }
}

TEST(SchedulerBackoff, CapIsNeverBelowTheInterval) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 14);
  core::Source source = MakeSource("https://example.com/", minutes(10));
  source.max_backoff = minutes(1);
  SourceId id = scheduler.Add(source);
  for (int n = 1; n <= 6; ++n) {
    Poll(scheduler, id, Failed());
    EXPECT_GE(Offset(scheduler, id, clock), minutes(5));
    EXPECT_LE(Offset(scheduler, id, clock), minutes(10));
  }
}

TEST(SchedulerBackoff, ManyPersistedFailuresStayAtTheCap) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 15);
  core::Source source = MakeSource("https://example.com/", minutes(1));
  source.max_backoff = hours(1);
  core::SourceState state;
  state.consecutive_failures = 100'000;
  SourceId id = scheduler.Add(source, state);
  Poll(scheduler, id, Failed());
  EXPECT_EQ(scheduler.State(id).consecutive_failures, 100'001);
  EXPECT_GE(Offset(scheduler, id, clock), minutes(30));
  EXPECT_LE(Offset(scheduler, id, clock), hours(1));
}

TEST(SchedulerBackoff, SuccessResetsIt) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 16);
  core::Source source = MakeSource("https://example.com/", minutes(2));
  SourceId id = scheduler.Add(source);
  for (int n = 1; n <= 4; ++n) Poll(scheduler, id, Failed());
  EXPECT_EQ(scheduler.State(id).consecutive_failures, 4);
  EXPECT_GE(Offset(scheduler, id, clock), minutes(8));  // 2 min · 2^3 = 16 min, halved at most

  clock.Advance(minutes(16));
  Poll(scheduler, id, Ok());
  EXPECT_EQ(scheduler.State(id).consecutive_failures, 0);
  ExpectJitteredAround(Offset(scheduler, id, clock), minutes(2));

  clock.Advance(minutes(2));
  Poll(scheduler, id, Failed());
  EXPECT_EQ(scheduler.State(id).consecutive_failures, 1);
  EXPECT_GE(Offset(scheduler, id, clock), minutes(1));
  EXPECT_LE(Offset(scheduler, id, clock), minutes(2));
}

TEST(SchedulerBackoff, CacheHintsOfAFailureAreIgnored) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 17);
  SourceId id = scheduler.Add(MakeSource("https://example.com/", minutes(5)));
  PollReport failed = Failed();
  failed.max_age = hours(1);
  failed.feed_ttl = hours(2);
  Poll(scheduler, id, failed);
  EXPECT_GE(Offset(scheduler, id, clock), seconds(150));
  EXPECT_LE(Offset(scheduler, id, clock), minutes(5));
}

// --- Retry-After ------------------------------------------------------------------------

TEST(SchedulerRetryAfter, HonouredWhenLongerThanTheBackoff) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 18);
  SourceId id = scheduler.Add(MakeSource("https://example.com/", minutes(1)));
  PollReport too_many = Failed(PollOutcome::kHttp429, "429 Too Many Requests");
  too_many.retry_after = hours(2);
  Poll(scheduler, id, too_many);
  EXPECT_EQ(scheduler.NextPoll(id), clock.Now() + hours(2));
  EXPECT_EQ(scheduler.State(id).consecutive_failures, 1);
  EXPECT_EQ(scheduler.State(id).last_outcome, PollOutcome::kHttp429);

  PollReport unavailable = Failed(PollOutcome::kHttp5xx, "503 Service Unavailable");
  unavailable.retry_after = minutes(45);
  Poll(scheduler, id, unavailable);
  EXPECT_EQ(scheduler.NextPoll(id), clock.Now() + minutes(45));
}

TEST(SchedulerRetryAfter, CappedAtTheMaximum) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 19);
  SourceId id = scheduler.Add(MakeSource("https://example.com/", minutes(1)));
  PollReport too_many = Failed(PollOutcome::kHttp429);
  too_many.retry_after = hours(24 * 30);
  Poll(scheduler, id, too_many);
  EXPECT_EQ(scheduler.NextPoll(id), clock.Now() + kMaxRetryAfter);
}

TEST(SchedulerRetryAfter, ShorterThanTheBackoffDoesNotShortenIt) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 20);
  SourceId id = scheduler.Add(MakeSource("https://example.com/", minutes(10)));
  PollReport too_many = Failed(PollOutcome::kHttp429);
  too_many.retry_after = seconds(1);
  Poll(scheduler, id, too_many);
  EXPECT_GE(Offset(scheduler, id, clock), minutes(5));
  EXPECT_LE(Offset(scheduler, id, clock), minutes(10));

  PollReport negative = Failed(PollOutcome::kHttp429);
  negative.retry_after = -hours(1);
  Poll(scheduler, id, negative);
  EXPECT_GE(Offset(scheduler, id, clock), minutes(10));  // second failure: [10, 20] min
  EXPECT_LE(Offset(scheduler, id, clock), minutes(20));
}

TEST(SchedulerRetryAfter, HonouredOnASuccessToo) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 21);
  SourceId id = scheduler.Add(MakeSource("https://example.com/", minutes(5)));
  PollReport ok = Ok();
  ok.retry_after = hours(1);
  Poll(scheduler, id, ok);
  EXPECT_EQ(scheduler.NextPoll(id), clock.Now() + hours(1));
  EXPECT_EQ(scheduler.State(id).consecutive_failures, 0);
}

// --- cache hints ------------------------------------------------------------------------

milliseconds NextAfterSuccess(const core::Source& source, const PollReport& report,
                              std::uint64_t seed, milliseconds* interval_after = nullptr) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, seed);
  SourceId id = scheduler.Add(source);
  clock.Advance(minutes(1));
  EXPECT_TRUE(scheduler.TryStart(id));
  scheduler.Finish(id, report);
  if (interval_after) *interval_after = scheduler.State(id).interval;
  return Offset(scheduler, id, clock);
}

TEST(SchedulerCache, MaxAgeAndTtlLengthenTheInterval) {
  const core::Source source = MakeSource("https://example.com/", minutes(5));
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    PollReport max_age = Ok();
    max_age.max_age = minutes(30);
    milliseconds interval{0};
    ExpectJitteredAround(NextAfterSuccess(source, max_age, seed, &interval), minutes(30));
    EXPECT_EQ(interval, minutes(5));  // the hint applies to one poll, the interval stays

    PollReport ttl = Ok();
    ttl.feed_ttl = minutes(60);
    ExpectJitteredAround(NextAfterSuccess(source, ttl, seed), minutes(60));

    PollReport both = Ok();
    both.max_age = minutes(30);
    both.feed_ttl = minutes(60);
    ExpectJitteredAround(NextAfterSuccess(source, both, seed), minutes(60));
    both.max_age = minutes(90);
    ExpectJitteredAround(NextAfterSuccess(source, both, seed), minutes(90));
  }
}

TEST(SchedulerCache, NeverShortenTheInterval) {
  const core::Source source = MakeSource("https://example.com/", minutes(5));
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    PollReport report = Ok();
    report.max_age = minutes(1);
    report.feed_ttl = seconds(0);
    ExpectJitteredAround(NextAfterSuccess(source, report, seed), minutes(5));
    report.max_age = seconds(0);
    ExpectJitteredAround(NextAfterSuccess(source, report, seed), minutes(5));
  }
}

TEST(SchedulerCache, LengtheningIsCapped) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    PollReport report = Ok();
    report.max_age = hours(24 * 365);
    ExpectJitteredAround(NextAfterSuccess(MakeSource("https://e/", minutes(5)), report, seed),
                         kMaxCacheInterval);
    report.max_age.reset();
    report.feed_ttl = hours(24);
    ExpectJitteredAround(NextAfterSuccess(MakeSource("https://e/", minutes(5)), report, seed),
                         kMaxCacheInterval);
    // An interval already over the cap is kept, not cut down to it.
    ExpectJitteredAround(NextAfterSuccess(MakeSource("https://e/", hours(8)), report, seed),
                         hours(8));
  }
}

TEST(SchedulerCache, IgnoredWithoutRespectCache) {
  core::Source source = MakeSource("https://example.com/", minutes(5));
  source.respect_cache = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    PollReport report = Ok();
    report.max_age = minutes(30);
    report.feed_ttl = hours(2);
    ExpectJitteredAround(NextAfterSuccess(source, report, seed), minutes(5));
  }
}

TEST(SchedulerCache, LengthensTheAdaptedInterval) {
  core::Source source = AdaptiveSource(minutes(20), minutes(5), hours(2));
  PollReport report = Ok(/*new_items=*/0);
  report.max_age = minutes(10);
  milliseconds interval{0};
  ExpectJitteredAround(NextAfterSuccess(source, report, 1, &interval), minutes(25));
  EXPECT_EQ(interval, minutes(25));
  report.max_age = minutes(40);
  ExpectJitteredAround(NextAfterSuccess(source, report, 1, &interval), minutes(40));
  EXPECT_EQ(interval, minutes(25));
}

// --- adaptive interval ------------------------------------------------------------------

TEST(SchedulerAdaptive, NewItemsHalveTheIntervalDownToExactlyTheMinimum) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 22);
  SourceId id = scheduler.Add(AdaptiveSource(minutes(50), minutes(7), hours(1)));
  const std::vector<milliseconds> expected = {
      minutes(25), milliseconds(750'000), minutes(7), minutes(7), minutes(7), minutes(7)};
  for (milliseconds want : expected) {
    clock.Advance(minutes(1));
    Poll(scheduler, id, Ok(3));
    EXPECT_EQ(scheduler.State(id).interval, want);
    ExpectJitteredAround(Offset(scheduler, id, clock), want);
  }
}

TEST(SchedulerAdaptive, EmptyPollsGrowByAQuarterUpToExactlyTheMaximum) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 23);
  SourceId id = scheduler.Add(AdaptiveSource(minutes(1), minutes(1), hours(1)));
  Poll(scheduler, id, Ok(0));
  EXPECT_EQ(scheduler.State(id).interval, milliseconds(75'000));
  Poll(scheduler, id, Ok(0));
  EXPECT_EQ(scheduler.State(id).interval, milliseconds(93'750));
  Poll(scheduler, id, Ok(0));
  EXPECT_EQ(scheduler.State(id).interval, milliseconds(117'187));

  milliseconds previous = scheduler.State(id).interval;
  int polls = 3;
  while (scheduler.State(id).interval < hours(1)) {
    ASSERT_LT(++polls, 30) << "never reached the maximum";
    PollReport not_modified = Ok(0);
    not_modified.outcome = PollOutcome::kNotModified;  // nothing new either
    Poll(scheduler, id, not_modified);
    EXPECT_GT(scheduler.State(id).interval, previous);
    EXPECT_LE(scheduler.State(id).interval, hours(1));
    previous = scheduler.State(id).interval;
  }
  for (int i = 0; i < 5; ++i) {
    Poll(scheduler, id, Ok(0));
    EXPECT_EQ(scheduler.State(id).interval, hours(1));
    ExpectJitteredAround(Offset(scheduler, id, clock), hours(1));
  }
}

TEST(SchedulerAdaptive, RandomMixStaysWithinTheBounds) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 24);
  SourceId id = scheduler.Add(AdaptiveSource(minutes(5), minutes(2), minutes(40)));
  std::mt19937 random(7);
  std::set<milliseconds> seen;
  for (int i = 0; i < 2000; ++i) {
    Poll(scheduler, id, Ok(random() % 3 == 0 ? 1 : 0));
    ASSERT_GE(scheduler.State(id).interval, minutes(2));
    ASSERT_LE(scheduler.State(id).interval, minutes(40));
    seen.insert(scheduler.State(id).interval);
  }
  EXPECT_TRUE(seen.count(minutes(2)));
  EXPECT_TRUE(seen.count(minutes(40)));
}

TEST(SchedulerAdaptive, FailuresDoNotMoveIt) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 25);
  SourceId id = scheduler.Add(AdaptiveSource(minutes(8), minutes(1), hours(1)));
  for (int i = 0; i < 5; ++i) {
    PollReport failed = Failed(PollOutcome::kParse);
    failed.new_items = 4;  // nonsense on a failure; must not count
    Poll(scheduler, id, failed);
    EXPECT_EQ(scheduler.State(id).interval, minutes(8));
  }
}

TEST(SchedulerAdaptive, OnlyWhenBothBoundsAreSet) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 26);
  core::Source only_min = MakeSource("https://example.com/", minutes(8));
  only_min.min_interval = minutes(1);
  core::Source only_max = MakeSource("https://example.com/", minutes(8));
  only_max.max_interval = hours(1);
  SourceId a = scheduler.Add(only_min);
  SourceId b = scheduler.Add(only_max);
  Poll(scheduler, a, Ok(5));
  Poll(scheduler, b, Ok(0));
  EXPECT_EQ(scheduler.State(a).interval, minutes(8));
  EXPECT_EQ(scheduler.State(b).interval, minutes(8));
  ExpectJitteredAround(Offset(scheduler, a, clock), minutes(8));
}

TEST(SchedulerAdaptive, BackoffStartsFromTheAdaptedInterval) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 27);
  core::Source source = AdaptiveSource(minutes(8), minutes(1), hours(1));
  source.max_backoff = hours(1);
  SourceId id = scheduler.Add(source);
  Poll(scheduler, id, Ok(2));  // 4 min
  Poll(scheduler, id, Failed());
  EXPECT_GE(Offset(scheduler, id, clock), minutes(2));
  EXPECT_LE(Offset(scheduler, id, clock), minutes(4));
}

// --- limits -----------------------------------------------------------------------------

TEST(SchedulerLimits, GlobalLimit) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 3, .max_per_host = 10}, 28);
  std::vector<SourceId> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(scheduler.Add(MakeSource("https://host" + std::to_string(i) + ".example/")));
  }
  EXPECT_TRUE(scheduler.TryStart(ids[0]));
  EXPECT_TRUE(scheduler.TryStart(ids[1]));
  EXPECT_TRUE(scheduler.TryStart(ids[2]));
  EXPECT_FALSE(scheduler.TryStart(ids[3]));
  EXPECT_FALSE(scheduler.TryStart(ids[4]));
  EXPECT_EQ(scheduler.InFlight(), 3u);
  EXPECT_EQ(scheduler.Queued(), 2u);

  EXPECT_EQ(scheduler.Finish(ids[1], Ok()), std::vector<SourceId>{ids[3]});
  EXPECT_EQ(scheduler.InFlight(), 3u);
  EXPECT_EQ(scheduler.Queued(), 1u);
  EXPECT_EQ(scheduler.InFlightForHost("host3.example"), 1u);
  EXPECT_EQ(scheduler.InFlightForHost("host1.example"), 0u);

  EXPECT_EQ(scheduler.Finish(ids[0], Ok()), std::vector<SourceId>{ids[4]});
  EXPECT_EQ(scheduler.Finish(ids[2], Ok()), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.Finish(ids[3], Ok()), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.Finish(ids[4], Ok()), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.InFlight(), 0u);
  EXPECT_EQ(scheduler.Queued(), 0u);
}

TEST(SchedulerLimits, PerHostLimitCountsTheHostNotTheUrl) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 10, .max_per_host = 2}, 29);
  SourceId a = scheduler.Add(MakeSource("https://news.example.com/rss"));
  SourceId b = scheduler.Add(MakeSource("http://NEWS.example.com:8080/atom"));
  SourceId c = scheduler.Add(MakeSource("https://news.example.com/world.xml"));
  SourceId d = scheduler.Add(MakeSource("https://other.example.com/rss"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_TRUE(scheduler.TryStart(b));
  EXPECT_FALSE(scheduler.TryStart(c));
  EXPECT_TRUE(scheduler.TryStart(d));  // another host is not held up by the queue
  EXPECT_EQ(scheduler.InFlightForHost("news.example.com"), 2u);
  EXPECT_EQ(scheduler.InFlightForHost("other.example.com"), 1u);
  EXPECT_EQ(scheduler.InFlight(), 3u);

  EXPECT_EQ(scheduler.Finish(d, Ok()), std::vector<SourceId>{});  // c's host is still full
  EXPECT_EQ(scheduler.Queued(), 1u);
  EXPECT_EQ(scheduler.Finish(b, Ok()), std::vector<SourceId>{c});
  EXPECT_EQ(scheduler.InFlightForHost("news.example.com"), 2u);
  EXPECT_EQ(scheduler.Queued(), 0u);
}

TEST(SchedulerLimits, UnparsableUrlsShareOneBucket) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 10, .max_per_host = 1}, 30);
  SourceId a = scheduler.Add(MakeSource("not a url"));
  SourceId b = scheduler.Add(MakeSource(""));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(b));
  EXPECT_EQ(scheduler.InFlightForHost(""), 1u);
}

TEST(SchedulerLimits, LimitsBelowOneAreOne) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 0, .max_per_host = -3}, 31);
  SourceId a = scheduler.Add(MakeSource("https://a.example/"));
  SourceId b = scheduler.Add(MakeSource("https://b.example/"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(b));
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{b});
}

// Release walks the queue in order, skips sources whose host is still full (they keep their
// place) and stops when the loop is full.
TEST(SchedulerLimits, FifoReleaseSkipsFullHosts) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 2, .max_per_host = 1}, 32);
  SourceId a = scheduler.Add(MakeSource("https://h1.example/a"));
  SourceId b = scheduler.Add(MakeSource("https://h2.example/b"));
  SourceId c = scheduler.Add(MakeSource("https://h1.example/c"));
  SourceId d = scheduler.Add(MakeSource("https://h3.example/d"));
  SourceId e = scheduler.Add(MakeSource("https://h3.example/e"));
  SourceId f = scheduler.Add(MakeSource("https://h4.example/f"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_TRUE(scheduler.TryStart(b));
  for (SourceId id : {c, d, e, f}) EXPECT_FALSE(scheduler.TryStart(id));
  EXPECT_EQ(scheduler.Queued(), 4u);

  // h2 frees one slot: c (h1 full) is skipped, d takes it, and the loop is full again.
  EXPECT_EQ(scheduler.Finish(b, Ok()), std::vector<SourceId>{d});
  EXPECT_EQ(scheduler.Queued(), 3u);
  // h1 frees: c, first in the queue, now fits.
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{c});
  // h3 frees: e (h3) and f (h4) both fit in the queue's order, but only one slot is free.
  EXPECT_EQ(scheduler.Finish(d, Ok()), std::vector<SourceId>{e});
  EXPECT_EQ(scheduler.Finish(c, Ok()), std::vector<SourceId>{f});
  EXPECT_EQ(scheduler.Queued(), 0u);
  EXPECT_EQ(scheduler.InFlight(), 2u);
}

TEST(SchedulerLimits, ReleaseWaitsForTheHostNotJustTheLoop) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 3, .max_per_host = 2}, 33);
  SourceId a = scheduler.Add(MakeSource("https://h1.example/a"));
  SourceId b = scheduler.Add(MakeSource("https://h1.example/b"));
  SourceId c = scheduler.Add(MakeSource("https://h1.example/c"));
  SourceId d = scheduler.Add(MakeSource("https://h2.example/d"));
  SourceId e = scheduler.Add(MakeSource("https://h1.example/e"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_TRUE(scheduler.TryStart(b));
  EXPECT_FALSE(scheduler.TryStart(c));  // h1 full
  EXPECT_TRUE(scheduler.TryStart(d));
  EXPECT_FALSE(scheduler.TryStart(e));  // h1 full, and the loop too
  // d's finish frees the loop but not h1: nothing moves.
  EXPECT_EQ(scheduler.Finish(d, Ok()), std::vector<SourceId>{});
  scheduler.Remove(b);
  // b's finish frees h1: c first; e waits for h1 again.
  EXPECT_EQ(scheduler.Finish(b, Ok()), std::vector<SourceId>{c});
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{e});
  EXPECT_EQ(scheduler.InFlightForHost("h1.example"), 2u);
}

TEST(SchedulerLimits, TryStartOfARunningSourceChangesNothing) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 5, .max_per_host = 5}, 34);
  SourceId a = scheduler.Add(MakeSource("https://h1.example/a"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(a));
  EXPECT_EQ(scheduler.InFlight(), 1u);
  EXPECT_EQ(scheduler.InFlightForHost("h1.example"), 1u);
  EXPECT_EQ(scheduler.Queued(), 0u);
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.InFlight(), 0u);
  EXPECT_TRUE(scheduler.TryStart(a));  // and it may start again once finished
}

TEST(SchedulerLimits, TryStartOfAQueuedSourceKeepsItsPlace) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 1, .max_per_host = 1}, 35);
  SourceId a = scheduler.Add(MakeSource("https://h1.example/a"));
  SourceId b = scheduler.Add(MakeSource("https://h2.example/b"));
  SourceId c = scheduler.Add(MakeSource("https://h3.example/c"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(b));
  EXPECT_FALSE(scheduler.TryStart(c));
  EXPECT_FALSE(scheduler.TryStart(b));
  EXPECT_FALSE(scheduler.TryStart(c));
  EXPECT_EQ(scheduler.Queued(), 2u);
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{b});
  EXPECT_EQ(scheduler.Finish(b, Ok()), std::vector<SourceId>{c});
  EXPECT_EQ(scheduler.Finish(c, Ok()), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.Queued(), 0u);
  EXPECT_EQ(scheduler.InFlight(), 0u);
}

TEST(SchedulerLimits, FinishWithoutASlotUpdatesStateOnly) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 1, .max_per_host = 1}, 36);
  SourceId a = scheduler.Add(MakeSource("https://h1.example/a"));
  SourceId b = scheduler.Add(MakeSource("https://h2.example/b"));
  SourceId c = scheduler.Add(MakeSource("https://h3.example/c"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(c));
  EXPECT_EQ(scheduler.Finish(b, Ok()), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.State(b).last_success, clock.Now());
  EXPECT_EQ(scheduler.InFlight(), 1u);
  EXPECT_EQ(scheduler.Queued(), 1u);
}

// --- remove -----------------------------------------------------------------------------

// A source released from the queue as the loop stops gives its slot back unpolled.
TEST(SchedulerLimits, AbandonFreesTheSlotAndReleasesTheNextWithoutAPoll) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 1, .max_per_host = 10}, 29);
  auto a = scheduler.Add(MakeSource("https://a.example/"));
  auto b = scheduler.Add(MakeSource("https://b.example/"));
  auto c = scheduler.Add(MakeSource("https://c.example/"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(b));
  EXPECT_FALSE(scheduler.TryStart(c));
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{b});
  const core::SourceState before = scheduler.State(b);

  EXPECT_EQ(scheduler.Abandon(b), std::vector<SourceId>{c});
  EXPECT_EQ(scheduler.State(b).last_poll, before.last_poll);
  EXPECT_EQ(scheduler.State(b).next_poll, before.next_poll);
  EXPECT_EQ(scheduler.Abandon(c), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.InFlight(), 0u);
  EXPECT_EQ(scheduler.Abandon(c), std::vector<SourceId>{});  // no slot: nothing to do
  EXPECT_EQ(scheduler.InFlight(), 0u);
}

TEST(SchedulerRemove, QueuedSourceLeavesTheQueue) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 1, .max_per_host = 1}, 37);
  SourceId a = scheduler.Add(MakeSource("https://h1.example/a"));
  SourceId b = scheduler.Add(MakeSource("https://h2.example/b"));
  SourceId c = scheduler.Add(MakeSource("https://h3.example/c"));
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(b));
  EXPECT_FALSE(scheduler.TryStart(c));
  scheduler.Remove(b);
  EXPECT_EQ(scheduler.Queued(), 1u);
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{c});
  EXPECT_EQ(scheduler.Finish(c, Ok()), std::vector<SourceId>{});
  EXPECT_FALSE(scheduler.TryStart(b));  // removed: refused, not queued
  EXPECT_EQ(scheduler.Queued(), 0u);
  EXPECT_EQ(scheduler.InFlight(), 0u);
}

TEST(SchedulerRemove, RunningSourceHoldsItsSlotUntilFinishWhichOnlyFreesIt) {
  FakeClock clock;
  Scheduler scheduler(clock, {.max_concurrent = 1, .max_per_host = 1}, 38);
  SourceId a = scheduler.Add(MakeSource("https://h1.example/a"));
  SourceId b = scheduler.Add(MakeSource("https://h2.example/b"));
  const core::SourceState before = scheduler.State(a);
  EXPECT_TRUE(scheduler.TryStart(a));
  EXPECT_FALSE(scheduler.TryStart(b));
  scheduler.Remove(a);
  scheduler.Remove(a);  // twice: no-op
  EXPECT_EQ(scheduler.InFlight(), 1u);
  EXPECT_EQ(scheduler.InFlightForHost("h1.example"), 1u);
  EXPECT_FALSE(scheduler.TryStart(a));
  EXPECT_EQ(scheduler.Queued(), 1u);

  clock.Advance(minutes(3));
  PollReport failed = Failed(PollOutcome::kHttp429, "late");
  failed.retry_after = hours(5);
  failed.etag = "\"x\"";
  EXPECT_EQ(scheduler.Finish(a, failed), std::vector<SourceId>{b});
  EXPECT_EQ(scheduler.InFlightForHost("h1.example"), 0u);
  EXPECT_EQ(scheduler.InFlightForHost("h2.example"), 1u);
  const core::SourceState& after = scheduler.State(a);
  EXPECT_EQ(after.consecutive_failures, before.consecutive_failures);
  EXPECT_EQ(after.last_poll, std::nullopt);
  EXPECT_EQ(after.last_failure, std::nullopt);
  EXPECT_EQ(after.last_outcome, std::nullopt);
  EXPECT_EQ(after.last_error, "");
  EXPECT_EQ(after.etag, "");
  EXPECT_EQ(after.next_poll, before.next_poll);

  // A second Finish of the removed source has no slot to free.
  EXPECT_EQ(scheduler.Finish(a, Ok()), std::vector<SourceId>{});
  EXPECT_EQ(scheduler.InFlight(), 1u);
}

TEST(SchedulerRemove, UnknownIdsAreABug) {
  FakeClock clock;
  Scheduler scheduler(clock, kNoLimits, 39);
  scheduler.Add(MakeSource());
  EXPECT_THROW(scheduler.TryStart(1), std::out_of_range);
  EXPECT_THROW(scheduler.Finish(7, Ok()), std::out_of_range);
  EXPECT_THROW(scheduler.Remove(1), std::out_of_range);
  EXPECT_THROW(scheduler.State(1), std::out_of_range);
  EXPECT_THROW(scheduler.NextPoll(1), std::out_of_range);
}

// --- randomized simulation of the limits ------------------------------------------------

// Many sources over a few hosts start, finish, get removed and replaced in random order. A
// simple model of the queue predicts every answer; independently, no limit is ever exceeded
// and no source waits while its host and the loop both have room.
TEST(SchedulerSimulation, LimitsHoldAndQueueIsFifo) {
  constexpr int kHosts = 5;
  constexpr int kSources = 40;
  constexpr core::PollLimits kLimits{.max_concurrent = 6, .max_per_host = 2};
  const std::vector<std::string> hosts = {"h0.example", "h1.example", "h2.example", "h3.example",
                                          "h4.example"};
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    FakeClock clock;
    Scheduler scheduler(clock, kLimits, seed);
    std::mt19937_64 random(seed * 7919 + 1);

    std::vector<std::string> host_of;  // by id
    std::vector<SourceId> live;
    auto add = [&] {
      // Skewed: half the sources on h0; spelled with varying case, scheme and port.
      const std::size_t n = host_of.size();
      const int host = random() % 2 == 0 ? 0 : static_cast<int>(random() % kHosts);
      const std::string url = (n % 3 == 0 ? "https://H" : "http://h") + std::to_string(host) +
                              ".example" + (n % 4 == 0 ? ":8080" : "") + "/feed/" +
                              std::to_string(n);
      const SourceId id = scheduler.Add(MakeSource(url));
      ASSERT_EQ(id, n);
      host_of.push_back(hosts[host]);
      live.push_back(id);
    };
    for (int i = 0; i < kSources; ++i) add();

    std::set<SourceId> running;
    std::deque<SourceId> queue;
    std::set<SourceId> removed;
    std::map<std::string, std::size_t> per_host;
    auto has_room = [&](SourceId id) {
      return running.size() < static_cast<std::size_t>(kLimits.max_concurrent) &&
             per_host[host_of[id]] < static_cast<std::size_t>(kLimits.max_per_host);
    };
    auto start = [&](SourceId id) {
      running.insert(id);
      ++per_host[host_of[id]];
    };
    auto finish = [&](SourceId id) {
      running.erase(id);
      --per_host[host_of[id]];
    };
    // What Finish must return: the queue in order, skipping full hosts, while the loop has room.
    auto release = [&] {
      std::vector<SourceId> released;
      for (auto q = queue.begin();
           q != queue.end() && running.size() < static_cast<std::size_t>(kLimits.max_concurrent);) {
        if (has_room(*q)) {
          start(*q);
          released.push_back(*q);
          q = queue.erase(q);
        } else {
          ++q;
        }
      }
      return released;
    };
    std::size_t started = 0;
    std::size_t removed_while_running = 0;
    std::size_t max_in_flight = 0;

    auto check = [&](int step) {
      ASSERT_EQ(scheduler.InFlight(), running.size()) << "step " << step;
      ASSERT_EQ(scheduler.Queued(), queue.size()) << "step " << step;
      ASSERT_LE(scheduler.InFlight(), static_cast<std::size_t>(kLimits.max_concurrent));
      std::size_t sum = 0;
      for (const std::string& host : hosts) {
        ASSERT_LE(scheduler.InFlightForHost(host), static_cast<std::size_t>(kLimits.max_per_host))
            << host << " at step " << step;
        ASSERT_EQ(scheduler.InFlightForHost(host), per_host[host]) << "step " << step;
        sum += scheduler.InFlightForHost(host);
      }
      ASSERT_EQ(sum, scheduler.InFlight());
      for (SourceId id : queue) ASSERT_FALSE(has_room(id)) << id << " waits needlessly";
      max_in_flight = std::max(max_in_flight, running.size());
    };

    for (int step = 0; step < 20000; ++step) {
      // Mostly live sources; sometimes any id ever added, removed ones included.
      const SourceId id =
          random() % 10 == 0 ? random() % host_of.size() : live[random() % live.size()];
      const int action = static_cast<int>(random() % 1000);
      if (action < 5) {
        scheduler.Remove(id);
        if (removed.insert(id).second) {
          if (running.count(id)) ++removed_while_running;
          live.erase(std::find(live.begin(), live.end(), id));
          add();
        }
        queue.erase(std::remove(queue.begin(), queue.end(), id), queue.end());
      } else if (action < 550) {
        const bool in_queue = std::find(queue.begin(), queue.end(), id) != queue.end();
        bool expected = false;
        if (!removed.count(id) && !running.count(id) && !in_queue) {
          expected = has_room(id);
          if (expected) {
            start(id);
            ++started;
          } else {
            queue.push_back(id);
          }
        }
        ASSERT_EQ(scheduler.TryStart(id), expected) << "step " << step << " id " << id;
      } else if (!running.empty()) {
        auto it = running.begin();
        std::advance(it, random() % running.size());
        const SourceId done = *it;
        finish(done);
        const std::vector<SourceId> expected = release();
        started += expected.size();
        clock.Advance(seconds(1));
        ASSERT_EQ(scheduler.Finish(done, random() % 4 == 0 ? Failed() : Ok(1)), expected)
            << "step " << step;
      }
      check(step);
    }

    // Drain: every queued source gets its turn.
    while (!running.empty()) {
      const SourceId done = *running.begin();
      finish(done);
      const std::vector<SourceId> expected = release();
      ASSERT_EQ(scheduler.Finish(done, Ok()), expected);
      check(-1);
    }
    EXPECT_EQ(scheduler.Queued(), 0u);
    EXPECT_EQ(scheduler.InFlight(), 0u);
    EXPECT_GT(started, 3000u);
    EXPECT_GT(removed.size(), 50u);
    EXPECT_GT(removed_while_running, 0u);
    EXPECT_EQ(max_in_flight, static_cast<std::size_t>(kLimits.max_concurrent));
  }
}

TEST(IsSuccess, OnlyOkAndNotModified) {
  for (const auto& [outcome, name] : core::kPollOutcomeNames) {
    EXPECT_EQ(IsSuccess(outcome),
              outcome == PollOutcome::kOk || outcome == PollOutcome::kNotModified)
        << name;
  }
}

}  // namespace
}  // namespace newsmon::schedule
