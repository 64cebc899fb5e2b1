#include "daemon/pipeline/delivery_loop.h"

#include <spdlog/logger.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <random>
#include <set>

#include "daemon/alert/alert.h"
#include "daemon/pipeline/store_worker.h"

namespace newsmon::pipeline {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using Result = DeliveryEvent::Result;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::int64_t Seconds(milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

struct DeliveryLoop::Impl : std::enable_shared_from_this<Impl> {
  struct Sink {
    core::SinkSpec spec;
    asio::steady_timer signal;         // the sink's coroutine waits on it; cancelled to wake it
    bool woken = false;                // a wake-up came while the coroutine was not waiting
    asio::steady_timer pace;           // waits for a rate token
    std::set<std::int64_t> in_flight;  // outbox ids being sent
    bool disabled = false;             // a 410: nothing is sent until re-enabled
    core::WallTime paused_until{};     // a Retry-After: the whole sink waits
    double tokens = 0;                 // rate limit: a token bucket of `burst`
    std::chrono::steady_clock::time_point refilled;
    Sink(core::SinkSpec s, const asio::any_io_executor& e)
        : spec(std::move(s)),
          signal(e),
          pace(e),
          tokens(spec.burst),
          refilled(std::chrono::steady_clock::now()) {}
  };

  asio::any_io_executor executor;
  net::HttpClient& client;
  StoreWorker& store;
  const core::Clock& clock;
  spdlog::logger& log;
  DeliveryLoopOptions options;
  std::vector<std::unique_ptr<Sink>> sinks;
  std::map<std::string, Sink*, std::less<>> by_name;
  std::function<void(const DeliveryEvent&)> observer;
  std::mt19937_64 random;
  bool stopping = false;
  std::size_t running = 0;  // Run and Deliver coroutines not yet returned

  Impl(asio::any_io_executor e, net::HttpClient& c, StoreWorker& s, const core::Clock& k,
       spdlog::logger& l, std::vector<core::SinkSpec> specs, DeliveryLoopOptions o)
      : executor(std::move(e)),
        client(c),
        store(s),
        clock(k),
        log(l),
        options(o),
        random(o.seed != 0 ? o.seed
                           : static_cast<std::uint64_t>(k.Now().time_since_epoch().count())) {
    for (auto& spec : specs) {
      sinks.push_back(std::make_unique<Sink>(std::move(spec), executor));
      by_name[sinks.back()->spec.name] = sinks.back().get();
    }
  }

  void Notify(Sink& sink) {
    sink.woken = true;
    sink.signal.cancel();
  }

  // Waits until the sink is woken or `timeout` passes.
  asio::awaitable<void> WaitSignal(Sink& sink, std::chrono::steady_clock::duration timeout) {
    if (!sink.woken) {
      sink.signal.expires_after(timeout);
      co_await sink.signal.async_wait(kTuple);
    }
    sink.woken = false;
  }

  // Takes one token of the sink's rate limit, waiting for it if need be.
  asio::awaitable<void> TakeToken(Sink& sink) {
    if (sink.spec.rate <= 0) co_return;
    while (!stopping) {
      auto now = std::chrono::steady_clock::now();
      std::chrono::duration<double> elapsed = now - sink.refilled;
      sink.tokens =
          std::min<double>(sink.spec.burst, sink.tokens + elapsed.count() * sink.spec.rate);
      sink.refilled = now;
      if (sink.tokens >= 1) {
        sink.tokens -= 1;
        co_return;
      }
      sink.pace.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>((1 - sink.tokens) / sink.spec.rate)));
      co_await sink.pace.async_wait(kTuple);
    }
  }

  // The wait before retry `attempt` (1 = the first retry): retry_backoff doubled per
  // attempt, capped at max_backoff, with equal jitter so failed senders do not retry in
  // lockstep.
  milliseconds Backoff(const core::SinkSpec& spec, int attempt) {
    milliseconds delay = spec.max_backoff;
    if (attempt - 1 < 30) {
      delay = std::min<milliseconds>(spec.max_backoff, spec.retry_backoff * (1LL << (attempt - 1)));
    }
    auto half = delay.count() / 2;
    std::uniform_int_distribution<std::int64_t> jitter(0, half);
    return milliseconds(delay.count() - half + jitter(random));
  }

  bool IsDisabled(const std::vector<store::SinkDisabled>& disabled, const std::string& name) {
    return std::any_of(disabled.begin(), disabled.end(),
                       [&](const store::SinkDisabled& d) { return d.sink == name; });
  }

  asio::awaitable<void> Run(Sink& sink);
  asio::awaitable<void> Deliver(Sink& sink, store::OutboxEntry entry);
  asio::awaitable<void> Record(Sink& sink, const store::OutboxEntry& entry,
                               const alert::DeliveryResult& result, DeliveryEvent& event);
};

// `running` counts this coroutine from its co_spawn (as for Deliver).
asio::awaitable<void> DeliveryLoop::Impl::Run(Sink& sink) {
  auto self = shared_from_this();
  const std::string name = sink.spec.name;
  while (!stopping) {
    bool failed = false;
    try {
      if (sink.disabled) {
        // Re-enabled by `newsmon outbox retry` (another process) or a reload.
        co_await WaitSignal(sink, options.idle_scan);
        if (stopping) break;
        auto check = store.Run([](store::Store& s) { return s.DisabledSinks(); });
        auto disabled = co_await std::move(check);
        if (!IsDisabled(disabled, name)) {
          sink.disabled = false;
          log.info("sink {}: re-enabled", name);
        }
        continue;
      }
      core::WallTime now = clock.Now();
      if (sink.paused_until > now) {
        co_await WaitSignal(sink, sink.paused_until - now);
        continue;
      }
      std::size_t room = static_cast<std::size_t>(sink.spec.concurrency);
      if (sink.in_flight.size() >= room) {
        co_await WaitSignal(sink, options.idle_scan);
        continue;
      }
      auto read = store.Run([name, now, limit = options.batch, exclude = sink.in_flight](
                                store::Store& s) { return s.Due(name, now, limit, exclude); });
      auto due = co_await std::move(read);
      if (due.empty()) {
        // Sleep until the earliest retry is due, a wake-up, or the next scan.
        auto next_due = store.Run([name](store::Store& s) { return s.NextDue(name); });
        auto next = co_await std::move(next_due);
        milliseconds wait = options.idle_scan;
        if (next && *next > now && sink.in_flight.empty()) wait = std::min(wait, *next - now);
        co_await WaitSignal(sink, wait);
        continue;
      }
      for (auto& entry : due) {
        while (!stopping && sink.in_flight.size() >= room) {
          co_await WaitSignal(sink, options.idle_scan);
        }
        co_await TakeToken(sink);
        if (stopping || sink.disabled || sink.paused_until > clock.Now()) break;
        sink.in_flight.insert(entry.id);
        ++running;
        asio::co_spawn(executor, Deliver(sink, std::move(entry)), asio::detached);
      }
    } catch (const std::exception& e) {
      // The store failed (disk full, I/O error): try again at the next scan.
      log.error("sink {}: cannot read the outbox: {}", name, e.what());
      failed = true;
    }
    if (failed) co_await WaitSignal(sink, options.idle_scan);
  }
  --running;
}

asio::awaitable<void> DeliveryLoop::Impl::Deliver(Sink& sink, store::OutboxEntry entry) {
  auto self = shared_from_this();
  DeliveryEvent event{.sink = sink.spec.name,
                      .delivery_id = entry.alert.delivery_id,
                      .source = entry.alert.source,
                      .attempt = entry.attempts + 1,
                      .first_seen = entry.alert.first_seen,
                      .published = entry.alert.item.published};
  auto started = std::chrono::steady_clock::now();
  alert::DeliveryResult result;
  if (sink.spec.kind == core::SinkKind::kLog) {
    log.info("{}", alert::LogLine(entry.alert));
  } else {
    result = co_await alert::Send(client, sink.spec, entry.alert, clock);
  }
  event.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  event.status = result.http_status;
  event.error = result.message;
  try {
    co_await Record(sink, entry, result, event);
  } catch (const std::exception& e) {
    // Still in the outbox: it is sent again, under the same delivery id.
    log.error("sink {}: cannot record delivery {}: {}", sink.spec.name, entry.alert.delivery_id,
              e.what());
  }
  event.finished = clock.Now();
  sink.in_flight.erase(entry.id);
  Notify(sink);
  if (observer) observer(event);
  --running;
}

asio::awaitable<void> DeliveryLoop::Impl::Record(Sink& sink, const store::OutboxEntry& entry,
                                                 const alert::DeliveryResult& result,
                                                 DeliveryEvent& event) {
  const core::SinkSpec& spec = sink.spec;
  const std::string& id = entry.alert.delivery_id;
  const std::int64_t row = entry.id;
  const int status = result.http_status;
  const core::WallTime now = clock.Now();
  // What to write, decided first; written by one store call below. (g++ 12 mishandles
  // temporaries with destructors inside co_await expressions: the call is built first.)
  std::function<void(store::Store&)> write;
  std::string reason = result.message;
  milliseconds delay{0};
  switch (result.status) {
    case alert::DeliveryStatus::kDelivered:
      event.result = Result::kDelivered;
      write = [row](store::Store& s) { s.MarkDelivered(row); };
      break;
    case alert::DeliveryStatus::kRetry:
      delay = result.retry_after ? *result.retry_after : Backoff(spec, event.attempt);
      if (result.retry_after) sink.paused_until = std::max(sink.paused_until, now + delay);
      if (now + delay - entry.created > spec.max_age) {
        event.result = Result::kDeadLetter;
        reason = "gave up after " + std::to_string(event.attempt) + " attempts (max_age " +
                 std::to_string(Seconds(spec.max_age)) + " s): " + result.message;
        write = [row, now, status, reason](store::Store& s) {
          s.MoveToDeadLetters(row, now, status, reason);
        };
      } else {
        event.result = Result::kRetry;
        write = [row, next = now + delay, status, reason](store::Store& s) {
          s.MarkFailed(row, next, status, reason);
        };
      }
      break;
    case alert::DeliveryStatus::kDeadLetter:
      event.result = Result::kDeadLetter;
      write = [row, now, status, reason](store::Store& s) {
        s.MoveToDeadLetters(row, now, status, reason);
      };
      break;
    case alert::DeliveryStatus::kGone:
      event.result = Result::kGone;
      sink.disabled = true;
      write = [row, now, name = spec.name, reason](store::Store& s) {
        s.MoveToDeadLetters(row, now, 410, reason);
        s.DisableSink(name, now, reason);
      };
      break;
  }
  auto op = store.Run(std::move(write));
  co_await std::move(op);

  switch (event.result) {
    case Result::kDelivered:
      log.debug("sink {}: delivered {} (HTTP {}) in {} ms", spec.name, id, status,
                event.duration.count() / 1000);
      break;
    case Result::kRetry:
      log.warn("sink {}: delivery {} failed (attempt {}): {}; next attempt in {} s", spec.name, id,
               event.attempt, reason, Seconds(delay));
      break;
    case Result::kDeadLetter:
      log.error(
          "sink {}: delivery {} dead-lettered: {} (requeue with: newsmon outbox retry --dead "
          "--sink {})",
          spec.name, id, reason, spec.name);
      break;
    case Result::kGone:
      log.critical(
          "sink {}: the endpoint is gone (HTTP 410): sink disabled, its alerts wait in the "
          "outbox; fix its url and reload, or re-enable it with: newsmon outbox retry --dead "
          "--sink {}",
          spec.name, spec.name);
      break;
  }
}

DeliveryLoop::DeliveryLoop(asio::any_io_executor executor, net::HttpClient& client,
                           StoreWorker& store, const core::Clock& clock, spdlog::logger& log,
                           std::vector<core::SinkSpec> sinks, DeliveryLoopOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), client, store, clock, log, std::move(sinks),
                                   options)) {}

DeliveryLoop::~DeliveryLoop() { Stop(); }

void DeliveryLoop::Start() {
  for (auto& sink : impl_->sinks) {
    ++impl_->running;
    asio::co_spawn(impl_->executor, impl_->Run(*sink), asio::detached);
  }
}

void DeliveryLoop::Wake(const std::vector<std::string>& sinks) {
  for (const auto& name : sinks) {
    if (auto it = impl_->by_name.find(name); it != impl_->by_name.end()) {
      impl_->Notify(*it->second);
    }
  }
}

void DeliveryLoop::Stop() {
  impl_->stopping = true;
  for (auto& sink : impl_->sinks) {
    impl_->Notify(*sink);
    sink->pace.cancel();
  }
}

bool DeliveryLoop::Stopped() const { return impl_->stopping && impl_->running == 0; }

std::size_t DeliveryLoop::InFlight() const {
  std::size_t total = 0;
  for (const auto& sink : impl_->sinks) total += sink->in_flight.size();
  return total;
}

void DeliveryLoop::OnDelivery(std::function<void(const DeliveryEvent&)> observer) {
  impl_->observer = std::move(observer);
}

}  // namespace newsmon::pipeline
