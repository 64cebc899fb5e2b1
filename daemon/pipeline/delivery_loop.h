// The delivery loop: the outbox → the sinks. One coroutine per sink on the io_context takes
// the sink's due alerts from the store, oldest first, and sends each through alert (at most
// `concurrency` at once, at most `rate` per second after a `burst`); then records the
// outcome in the store:
//   delivered            → removed from the outbox
//   retry (no answer, timeout, 5xx, 408, 429)
//                        → tried again after an exponential backoff with jitter, or after
//                          the server's Retry-After (a 429 pauses the whole sink), until the
//                          alert is older than the sink's max_age: then dead-lettered
//   dead letter (3xx, other 4xx)
//                        → moved to the dead letters at once, status and first bytes logged
//   gone (410)           → dead-lettered, and the sink is disabled until `newsmon outbox
//                          retry` or a config reload re-enables it
// An alert is removed from the outbox only after its sink answered 2xx, so a crash can only
// repeat a delivery, under the same delivery id.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/poll.h"
#include "daemon/core/sink.h"

namespace spdlog {
class logger;
}
namespace newsmon::net {
class HttpClient;
}

namespace newsmon::pipeline {

class StoreWorker;

// What one delivery attempt came to.
struct DeliveryEvent {
  enum class Result { kDelivered, kRetry, kDeadLetter, kGone };
  std::string sink;
  std::string delivery_id;
  std::string source;
  Result result = Result::kDelivered;
  int status = 0;                            // HTTP status, 0 when none
  int attempt = 1;                           // 1 = first
  std::string error;                         // failures: why (sink name and host only)
  std::chrono::microseconds duration{0};     // the attempt
  core::WallTime first_seen;                 // when the item was found (alert latency)
  std::optional<core::TimePoint> published;  // when the source says it was published
  core::WallTime finished;
};

inline constexpr std::string_view kDeliveryResultNames[] = {"delivered", "retry", "dead_letter",
                                                            "gone"};

struct DeliveryLoopOptions {
  // How often an idle sink looks at the store anyway: picks up alerts requeued by
  // `newsmon outbox retry` from another process, and sinks it re-enabled.
  std::chrono::milliseconds idle_scan = std::chrono::seconds(1);
  std::size_t batch = 64;  // alerts read from the store at once per sink
  std::uint64_t seed = 0;  // backoff jitter; 0 = from the clock
};

class DeliveryLoop {
 public:
  // `executor`'s io_context runs on one thread; client, store, clock and log must outlive
  // the loop.
  DeliveryLoop(boost::asio::any_io_executor executor, net::HttpClient& client, StoreWorker& store,
               const core::Clock& clock, spdlog::logger& log, std::vector<core::SinkSpec> sinks,
               DeliveryLoopOptions options = {});
  ~DeliveryLoop();
  DeliveryLoop(const DeliveryLoop&) = delete;
  DeliveryLoop& operator=(const DeliveryLoop&) = delete;

  // Starts one coroutine per sink.
  void Start();
  // New alerts are in the outbox for these sinks: look now rather than at the next scan.
  void Wake(const std::vector<std::string>& sinks);
  // Sends nothing new; deliveries in flight finish (each within its sink's timeout) and
  // are recorded; Stopped() then holds.
  void Stop();
  // Stop was called and every coroutine has returned: the store and the client may go.
  bool Stopped() const;
  std::size_t InFlight() const;  // deliveries being sent

  // Called on the loop's thread after every attempt.
  void OnDelivery(std::function<void(const DeliveryEvent&)> observer);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace newsmon::pipeline
