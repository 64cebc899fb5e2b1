// The poll loop: one timer per source on the io_context; when it fires, schedule decides
// whether the poll may start (per-host and global limits), fetch gets the source, parse reads
// it (on the worker pool), rules match its new items, and schedule sets the next poll from
// the outcome. With a store, the poll is then committed: its items marked seen and the
// alerts for its new matches queued in the outbox, in one transaction. Each finished poll
// is reported as a PollEvent, which is logged and handed to the observer (the delivery
// loop's wake-up, tests).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/poll.h"
#include "daemon/core/rule.h"
#include "daemon/core/source.h"

namespace spdlog {
class logger;
}
namespace newsmon::net {
class HttpClient;
}
namespace newsmon::rules {
class RuleSet;
}

namespace newsmon::pipeline {

class StoreWorker;

struct MatchedItem {
  core::Item item;
  std::vector<core::Match> matches;  // one per rule, in rule order
};

// What one poll of one source came to.
struct PollEvent {
  std::string source;
  std::string url;
  core::PollOutcome outcome = core::PollOutcome::kOk;
  std::string error;      // failures: the reason, naming the URL
  int status = 0;         // HTTP status, 0 when none
  std::size_t items = 0;  // items in the feed (ok only)
  // Items not in the previous poll's feed (all, on the first); with a store, items the
  // store had never seen.
  std::size_t new_items = 0;
  std::size_t warnings = 0;  // parse warnings
  std::uint64_t wire_bytes = 0;
  std::vector<MatchedItem> matched;  // new items some rule matched
  // With a store: alerts queued in the outbox, the sinks they are for, and new matched
  // items not alerted (first sight of the source without backfill, or older than
  // max_item_age). store_error: the commit failed (nothing of this poll was recorded).
  std::size_t alerts_queued = 0;
  std::vector<std::string> alert_sinks;
  std::size_t suppressed = 0;
  std::string store_error;
  std::chrono::milliseconds duration{0};  // fetch time (parse excluded)
  core::WallTime started;
  core::WallTime next_poll;
};

struct PollLoopOptions {
  core::PollLimits limits;
  int parse_threads = 1;   // worker threads for parse and match; 0 = on the loop's thread
  std::uint64_t seed = 0;  // jitter; 0 = from the clock
  // Durable state; nullptr = none (tests, dry runs): matches are only reported.
  StoreWorker* store = nullptr;
  std::vector<std::string> sinks;  // every sink's name: where alerts of rules without notify go
};

class PollLoop {
 public:
  // `executor`'s io_context runs on one thread; client, clock, log must outlive the loop.
  PollLoop(boost::asio::any_io_executor executor, net::HttpClient& client, const core::Clock& clock,
           std::shared_ptr<const rules::RuleSet> rules, spdlog::logger& log,
           PollLoopOptions options = {});
  ~PollLoop();
  PollLoop(const PollLoop&) = delete;
  PollLoop& operator=(const PollLoop&) = delete;

  // A source to poll (a disabled one is skipped), replacing one of the same name; after
  // Start its polls begin at once (at state.next_poll when that is in the future).
  void Add(const core::Source& source, core::SourceState state = {});
  // Stops polling `source` (a poll in flight finishes and is committed); false if unknown.
  bool Remove(const std::string& source);
  // The rules and sink names the next polls use (a reload); polls in flight keep theirs.
  void SetRules(std::shared_ptr<const rules::RuleSet> rules);
  void SetSinks(std::vector<std::string> sinks);
  // Arms every source's first poll.
  void Start();
  // No new polls; waiting timers are cancelled. Polls in flight finish within their timeout
  // (and are committed); Stopped() then holds.
  void Stop();
  // Stop was called and every source's coroutine has returned: the store and the client may
  // go.
  bool Stopped() const;

  // Called on the loop's thread after every poll.
  void OnPoll(std::function<void(const PollEvent&)> observer);

  // The scheduler's state of a source (by name); nullptr when unknown.
  const core::SourceState* State(const std::string& source) const;
  std::size_t InFlight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace newsmon::pipeline
