// `newsmon sink test`, `newsmon outbox list` and `newsmon outbox retry`: try a sink, look
// at pending and dead-lettered alerts, put dead letters back in the queue.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace newsmon::app {

struct OutboxRequest {
  std::string config_file;          // finds the state directory (and the sinks)
  std::optional<std::string> sink;  // only this sink's alerts
  bool dead = false;                // list: dead letters instead of pending; retry: every one
  bool json = false;                // list: one JSON object per alert and line
  std::vector<std::int64_t> ids;    // retry: these dead letters (ids from `outbox list --dead`)
};

// Sends a clearly marked test alert to one sink and prints its answer; exit 1 on failure.
int SinkTest(const std::string& config_file, const std::string& sink, std::ostream& out,
             std::ostream& err);
int OutboxList(const OutboxRequest& request, std::ostream& out, std::ostream& err);
int OutboxRetry(const OutboxRequest& request, std::ostream& out, std::ostream& err);

}  // namespace newsmon::app
