#include "daemon/schedule/scheduler.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "daemon/core/url.h"

namespace newsmon::schedule {
namespace {

using std::chrono::milliseconds;

bool IsAdaptive(const core::Source& source) {
  return source.min_interval.has_value() && source.max_interval.has_value();
}

// `interval` moved into the source's adaptive bounds (min wins if they cross).
milliseconds WithinBounds(const core::Source& source, milliseconds interval) {
  return std::max(*source.min_interval, std::min(*source.max_interval, interval));
}

milliseconds StartInterval(const core::Source& source, const core::SourceState& state) {
  if (!IsAdaptive(source)) return source.interval;
  if (state.interval >= *source.min_interval && state.interval <= *source.max_interval) {
    return state.interval;
  }
  return WithinBounds(source, source.interval);
}

// New items: poll more often; none: less often. The +1 ms only matters for intervals too
// small for a quarter to be a whole millisecond, so that growth always reaches the bound.
milliseconds AdaptedInterval(const core::Source& source, milliseconds interval,
                             std::size_t new_items) {
  if (new_items > 0) return std::max(*source.min_interval, interval / 2);
  return std::min(*source.max_interval, std::max(interval * 5 / 4, interval + milliseconds(1)));
}

// The interval until the next regular poll: the server's freshness hints (Cache-Control
// max-age, RSS <ttl>) may ask us to come back later than `interval`, up to
// kMaxCacheInterval, but never sooner.
milliseconds EffectiveInterval(const core::Source& source, milliseconds interval,
                               const PollReport& report) {
  if (!source.respect_cache) return interval;
  milliseconds hint{0};
  if (report.max_age) hint = std::max(hint, *report.max_age);
  if (report.feed_ttl) hint = std::max(hint, *report.feed_ttl);
  return std::max(interval, std::min(hint, kMaxCacheInterval));
}

// interval · 2^(failures-1), capped at max(max_backoff, interval).
milliseconds BackoffDelay(const core::Source& source, milliseconds interval, int failures) {
  const milliseconds cap = std::max(source.max_backoff, interval);
  milliseconds delay = interval;
  for (int n = 1; n < failures && delay < cap && delay > milliseconds(0); ++n) {
    delay *= 2;  // cannot overflow: delay < cap before doubling
  }
  return std::min(delay, cap);
}

}  // namespace

bool IsSuccess(core::PollOutcome outcome) {
  return outcome == core::PollOutcome::kOk || outcome == core::PollOutcome::kNotModified;
}

Scheduler::Scheduler(const core::Clock& clock, core::PollLimits limits, std::uint64_t seed)
    : clock_(clock), limits_(limits), random_(seed) {
  limits_.max_concurrent = std::max(limits_.max_concurrent, 1);
  limits_.max_per_host = std::max(limits_.max_per_host, 1);
}

SourceId Scheduler::Add(const core::Source& source, core::SourceState state) {
  const core::WallTime now = clock_.Now();
  state.interval = StartInterval(source, state);
  if (!state.next_poll || *state.next_poll <= now) {
    const milliseconds spread = std::min(state.interval, kFirstPollSpread);
    state.next_poll = now + Uniform(milliseconds(0), spread - milliseconds(1));
  }
  entries_.push_back(
      Entry{.source = source, .host = core::UrlHost(source.url), .state = std::move(state)});
  return entries_.size() - 1;
}

void Scheduler::Remove(SourceId id) {
  Entry& entry = At(id);
  if (!entry.active) return;
  entry.active = false;
  if (entry.queued) {
    queue_.erase(std::find(queue_.begin(), queue_.end(), id));
    entry.queued = false;
  }
}

bool Scheduler::TryStart(SourceId id) {
  Entry& entry = At(id);
  if (!entry.active || entry.running || entry.queued) return false;
  if (HasSlot(entry)) {
    TakeSlot(entry);
    return true;
  }
  entry.queued = true;
  queue_.push_back(id);
  return false;
}

std::vector<SourceId> Scheduler::Finish(SourceId id, const PollReport& report) {
  Entry& entry = At(id);
  const bool had_slot = entry.running;
  if (had_slot) FreeSlot(entry);
  if (entry.active) {
    const core::WallTime now = clock_.Now();
    entry.state.last_poll = now;
    entry.state.last_outcome = report.outcome;
    if (IsSuccess(report.outcome)) {
      RecordSuccess(entry, report, now);
    } else {
      RecordFailure(entry, report, now);
    }
    if (report.retry_after) {
      const milliseconds wait = std::clamp(*report.retry_after, milliseconds(0), kMaxRetryAfter);
      entry.state.next_poll = std::max(*entry.state.next_poll, now + wait);
    }
  }
  if (!had_slot) return {};
  return ReleaseQueued();
}

std::vector<SourceId> Scheduler::Abandon(SourceId id) {
  Entry& entry = At(id);
  if (!entry.running) return {};
  FreeSlot(entry);
  return ReleaseQueued();
}

const core::SourceState& Scheduler::State(SourceId id) const { return At(id).state; }

core::WallTime Scheduler::NextPoll(SourceId id) const { return *At(id).state.next_poll; }

std::size_t Scheduler::InFlightForHost(const std::string& host) const {
  auto it = host_in_flight_.find(host);
  return it == host_in_flight_.end() ? 0 : it->second;
}

Scheduler::Entry& Scheduler::At(SourceId id) {
  if (id >= entries_.size()) throw std::out_of_range("unknown scheduler source id");
  return entries_[id];
}

const Scheduler::Entry& Scheduler::At(SourceId id) const {
  if (id >= entries_.size()) throw std::out_of_range("unknown scheduler source id");
  return entries_[id];
}

void Scheduler::RecordSuccess(Entry& entry, const PollReport& report, core::WallTime now) {
  core::SourceState& state = entry.state;
  state.consecutive_failures = 0;
  state.last_success = now;
  if (!report.etag.empty()) state.etag = report.etag;
  if (!report.last_modified.empty()) state.last_modified = report.last_modified;
  if (IsAdaptive(entry.source)) {
    state.interval = AdaptedInterval(entry.source, state.interval, report.new_items);
  }
  const milliseconds interval = EffectiveInterval(entry.source, state.interval, report);
  state.next_poll = now + Jittered(interval, kIntervalJitter);
}

void Scheduler::RecordFailure(Entry& entry, const PollReport& report, core::WallTime now) {
  core::SourceState& state = entry.state;
  if (state.consecutive_failures < std::numeric_limits<int>::max()) {
    ++state.consecutive_failures;
  }
  state.last_failure = now;
  state.last_error = report.error;
  // "Equal jitter": at least half the backoff, so retries of many failed sources still
  // spread out without ever coming back almost at once.
  const milliseconds delay = BackoffDelay(entry.source, state.interval, state.consecutive_failures);
  state.next_poll = now + Uniform(delay - delay / 2, delay);
}

milliseconds Scheduler::Jittered(milliseconds base, double fraction) {
  const auto spread =
      milliseconds(static_cast<milliseconds::rep>(static_cast<double>(base.count()) * fraction));
  return Uniform(base - spread, base + spread);
}

milliseconds Scheduler::Uniform(milliseconds low, milliseconds high) {
  if (high <= low) return low;
  std::uniform_int_distribution<milliseconds::rep> pick(low.count(), high.count());
  return milliseconds(pick(random_));
}

bool Scheduler::HasSlot(const Entry& entry) const {
  return in_flight_ < static_cast<std::size_t>(limits_.max_concurrent) &&
         InFlightForHost(entry.host) < static_cast<std::size_t>(limits_.max_per_host);
}

void Scheduler::TakeSlot(Entry& entry) {
  entry.running = true;
  ++in_flight_;
  ++host_in_flight_[entry.host];
}

void Scheduler::FreeSlot(Entry& entry) {
  entry.running = false;
  --in_flight_;
  auto it = host_in_flight_.find(entry.host);
  if (--it->second == 0) host_in_flight_.erase(it);
}

std::vector<SourceId> Scheduler::ReleaseQueued() {
  std::vector<SourceId> released;
  for (auto it = queue_.begin();
       it != queue_.end() && in_flight_ < static_cast<std::size_t>(limits_.max_concurrent);) {
    Entry& entry = entries_[*it];
    if (!HasSlot(entry)) {
      ++it;  // its host is still full: it keeps its place
      continue;
    }
    TakeSlot(entry);
    entry.queued = false;
    released.push_back(*it);
    it = queue_.erase(it);
  }
  return released;
}

}  // namespace newsmon::schedule
