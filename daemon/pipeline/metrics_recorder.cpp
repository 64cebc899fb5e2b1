#include "daemon/pipeline/metrics_recorder.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>

#include "daemon/core/enum_names.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline/delivery_loop.h"
#include "daemon/pipeline/poll_loop.h"

namespace newsmon::pipeline {
namespace {

constexpr bool SameDeliveryResults() {
  if (std::size(kDeliveryResultNames) != std::size(metrics::kDeliveryResults)) return false;
  for (std::size_t i = 0; i < std::size(kDeliveryResultNames); ++i) {
    if (kDeliveryResultNames[i] != metrics::kDeliveryResults[i]) return false;
  }
  return true;
}
static_assert(SameDeliveryResults(), "metrics::kDeliveryResults must follow kDeliveryResultNames");

std::string_view ResultName(DeliveryEvent::Result result) {
  return kDeliveryResultNames[static_cast<std::size_t>(result)];
}

}  // namespace

void Record(metrics::Metrics& metrics, const PollEvent& event,
            const core::SourceState& state_after) {
  metrics.Poll(event.source,
               {.outcome = core::NameOf<core::PollOutcome>(core::kPollOutcomeNames, event.outcome),
                .fetch = event.duration,
                .wire_bytes = event.wire_bytes,
                .items = event.items,
                .new_items = event.new_items,
                .matches = event.matched.size(),
                .warnings = event.warnings});
  for (const auto& matched : event.matched) {
    for (const auto& match : matched.matches) metrics.RuleMatch(match.rule);
  }
  metrics.SourceState(event.source, {.last_success = state_after.last_success,
                                     .consecutive_failures = state_after.consecutive_failures,
                                     .next_poll = state_after.next_poll,
                                     .interval = state_after.interval});
}

void Record(metrics::Metrics& metrics, const DeliveryEvent& event) {
  std::optional<metrics::Seconds> latency;
  if (event.result == DeliveryEvent::Result::kDelivered) {
    core::WallTime since = event.first_seen;
    if (event.published) since = std::min(since, core::WallTime(*event.published));
    // A clock step back could make it negative; an alert is never delivered before its item.
    latency = std::max(metrics::Seconds(event.finished - since), metrics::Seconds(0));
  }
  metrics.Delivery(event.sink, ResultName(event.result), event.duration, latency);
  if (event.result == DeliveryEvent::Result::kDeadLetter ||
      event.result == DeliveryEvent::Result::kGone) {
    metrics.DeadLetter(event.sink);
  }
}

}  // namespace newsmon::pipeline
