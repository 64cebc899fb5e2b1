// schedule: when each source is polled. Pure decisions on a core::Clock: the timers live in
// pipeline, which asks the scheduler whether a source may start and tells it how the poll
// ended.
//
// - First polls spread with jitter over min(interval, kFirstPollSpread), so a restart does
//   not hit every site at once; a persisted next_poll still in the future is kept.
// - Regular polls every interval, each with a small jitter (±kIntervalJitter).
// - Failures back off exponentially with jitter (interval · 2^(n-1), halved at random),
//   capped at the source's max_backoff (never below its interval); a success resets it.
// - Retry-After on 429/503 is honoured (capped at kMaxRetryAfter).
// - Cache-Control max-age and RSS <ttl> lengthen the interval, never shorten it (capped at
//   kMaxCacheInterval), unless the source sets respect_cache: false.
// - Adaptive sources (min_interval and max_interval set) halve their interval after a poll
//   with new items and grow it by a quarter after one without, within the bounds.
// - At most PollLimits::max_concurrent polls at once, and max_per_host per host; a source
//   whose timer fires while its host or the whole loop is full waits in FIFO order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "daemon/core/poll.h"
#include "daemon/core/source.h"

namespace newsmon::schedule {

inline constexpr std::chrono::milliseconds kFirstPollSpread = std::chrono::minutes(1);
inline constexpr double kIntervalJitter = 0.05;
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);
inline constexpr std::chrono::milliseconds kMaxCacheInterval = std::chrono::hours(6);

using SourceId = std::size_t;

// How a poll ended, as far as scheduling cares.
struct PollReport {
  core::PollOutcome outcome = core::PollOutcome::kOk;
  std::string error;  // failure message, kept in the state
  std::string etag;   // new validators from a 200; empty = keep the old ones
  std::string last_modified;
  std::optional<std::chrono::milliseconds> retry_after;  // from a 429/503
  std::optional<std::chrono::milliseconds> max_age;      // Cache-Control
  std::optional<std::chrono::milliseconds> feed_ttl;     // RSS <ttl>
  std::size_t new_items = 0;                             // items not seen before
};

// ok and not_modified are successes; everything else is a failure.
bool IsSuccess(core::PollOutcome outcome);

// Not thread-safe: one Scheduler is owned and called by the poll loop's strand. It keeps a
// reference to `clock`, which must outlive it. Ids come from Add; passing any other id to a
// member function is a bug and throws std::out_of_range.
class Scheduler {
 public:
  // `limits` below 1 are taken as 1 (0 would never start anything). `seed` seeds every
  // random choice (jitter), so a test with a fixed seed and a fake clock is deterministic.
  Scheduler(const core::Clock& clock, core::PollLimits limits, std::uint64_t seed);

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Adds a source; `state` is what a previous run persisted (empty for a new source). Sets
  // the first poll time: state.next_poll when still in the future, else now plus a random
  // delay in [0, min(interval, kFirstPollSpread)). The interval starts at the source's,
  // except that an adaptive source keeps a persisted interval within its bounds. Ids are
  // never reused.
  SourceId Add(const core::Source& source, core::SourceState state = {});
  // Forgets a source: it leaves the queue and TryStart refuses it. If it is in flight it
  // keeps its slot until its Finish, which then only frees the slot. Removing twice is a
  // no-op. State and NextPoll still answer with the last values.
  void Remove(SourceId id);

  // The source's timer fired. true: it may start now and holds a slot until Finish. false:
  // its host or the loop is full; it is queued and Finish of another source releases it.
  // Also false, changing nothing, when the source is already in flight (one poll per source
  // at a time), already queued (it keeps its place) or removed.
  bool TryStart(SourceId id);

  // A poll of `id` ended: updates its state and next poll, frees its slot, and returns the
  // queued sources that may start now (their slots already taken), in queue order; a queued
  // source whose host is still full keeps its place. For a removed source only the slot is
  // freed. For a source without a slot (a poll not started through TryStart) the state is
  // still updated and no slot is touched.
  std::vector<SourceId> Finish(SourceId id, const PollReport& report);

  // A source that holds a slot (TryStart returned true, or a Finish released it) but will
  // not poll after all (the loop is stopping): frees the slot without touching its state
  // and returns the queued sources that may start now, as Finish does.
  std::vector<SourceId> Abandon(SourceId id);

  const core::SourceState& State(SourceId id) const;
  core::WallTime NextPoll(SourceId id) const;
  std::size_t InFlight() const { return in_flight_; }
  std::size_t InFlightForHost(const std::string& host) const;  // host as core::UrlHost
  std::size_t Queued() const { return queue_.size(); }

 private:
  struct Entry {
    core::Source source;
    std::string host;  // core::UrlHost(source.url); "" shares one bucket
    core::SourceState state;
    bool active = true;    // false once removed
    bool running = false;  // holds a slot
    bool queued = false;   // waits in queue_
  };

  Entry& At(SourceId id);
  const Entry& At(SourceId id) const;
  void RecordSuccess(Entry& entry, const PollReport& report, core::WallTime now);
  void RecordFailure(Entry& entry, const PollReport& report, core::WallTime now);
  // Uniform in [base - base·fraction, base + base·fraction].
  std::chrono::milliseconds Jittered(std::chrono::milliseconds base, double fraction);
  // Uniform in [low, high]; low when high <= low.
  std::chrono::milliseconds Uniform(std::chrono::milliseconds low, std::chrono::milliseconds high);
  bool HasSlot(const Entry& entry) const;
  void TakeSlot(Entry& entry);
  void FreeSlot(Entry& entry);
  std::vector<SourceId> ReleaseQueued();

  const core::Clock& clock_;
  core::PollLimits limits_;
  std::mt19937_64 random_;
  std::vector<Entry> entries_;
  std::map<std::string, std::size_t> host_in_flight_;  // hosts with polls in flight only
  std::deque<SourceId> queue_;                         // FIFO of sources waiting for a slot
  std::size_t in_flight_ = 0;
};

}  // namespace newsmon::schedule
