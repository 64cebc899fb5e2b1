// The poll loop as network tests drive it: one io_context run from the test's own thread
// (RunUntil), a c-ares resolver, an HTTP client, and a PollLoop whose events are kept in
// order. Header-only; tests derive their fixture from it.
#pragma once

#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "daemon/core/poll.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "daemon/pipeline/poll_loop.h"
#include "daemon/rules/rules.h"

namespace newsmon::test {

class PollHarness {
 protected:
  explicit PollHarness(const net::ResolverOptions& resolver = {})
      : resolver_(net::MakeResolver(io_.get_executor(), resolver)),
        client_(io_.get_executor(), *resolver_),
        log_(std::make_shared<spdlog::logger>("test",
                                              std::make_shared<spdlog::sinks::null_sink_mt>())) {}
  ~PollHarness() {
    if (loop_) loop_->Stop();
  }

  // A new loop (seeded, so its jitter is the same on every run) that records its events.
  void MakeLoop(std::shared_ptr<const rules::RuleSet> rules = nullptr,
                core::PollLimits limits = {}) {
    loop_ = std::make_unique<pipeline::PollLoop>(
        io_.get_executor(), client_, clock_, std::move(rules), *log_,
        pipeline::PollLoopOptions{.limits = limits, .seed = 7});
    loop_->OnPoll([this](const pipeline::PollEvent& event) { events_.push_back(event); });
  }

  // Adds `source` to the loop with its first poll due right away (no start-up jitter). The
  // scheduler keeps a next_poll only while it is in the future, else it spreads the first
  // poll over up to a minute: the margin covers a slow (sanitized, loaded) Add.
  void AddNow(const core::Source& source) {
    core::SourceState state;
    state.next_poll = clock_.Now() + std::chrono::milliseconds(100);
    loop_->Add(source, state);
  }

  // Runs the loop until `done` holds or `deadline` passes; returns whether it held.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      // An io_context that ran out of work stops; work posted since needs a restart.
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  std::vector<pipeline::PollEvent> EventsOf(std::string_view source) const {
    std::vector<pipeline::PollEvent> out;
    for (const auto& e : events_) {
      if (e.source == source) out.push_back(e);
    }
    return out;
  }

  boost::asio::io_context io_;
  std::unique_ptr<net::Resolver> resolver_;
  net::HttpClient client_;
  core::SystemClock clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<pipeline::PollLoop> loop_;
  std::vector<pipeline::PollEvent> events_;
};

}  // namespace newsmon::test
