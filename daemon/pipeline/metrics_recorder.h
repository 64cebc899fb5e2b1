// Turns the pipeline's events into metrics: the one place that knows both a PollEvent or a
// DeliveryEvent and the names in metrics::Metrics. Called by the daemon's wiring from the
// loops' observers (PollLoop::OnPoll, DeliveryLoop::OnDelivery).
#pragma once

#include "daemon/core/poll.h"

namespace newsmon::metrics {
class Metrics;
}

namespace newsmon::pipeline {

struct PollEvent;      // poll_loop.h
struct DeliveryEvent;  // delivery_loop.h

// One finished poll: newsmon_source_polls_total{outcome}, the fetch duration histogram,
// response bytes, items, new items, matched items (event.matched) and parse warnings;
// newsmon_rule_matches_total for every rule of every matched item; and the source gauges
// from `state_after`, the scheduler's state once the poll finished (PollLoop::State).
void Record(metrics::Metrics& metrics, const PollEvent& event,
            const core::SourceState& state_after);

// One delivery attempt: newsmon_deliveries_total{result} and its duration; when delivered,
// newsmon_alert_latency_seconds (from the earlier of published and first seen to finished);
// dead_letter and gone also count in newsmon_dead_letters_total.
void Record(metrics::Metrics& metrics, const DeliveryEvent& event);

}  // namespace newsmon::pipeline
