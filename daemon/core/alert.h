// An alert: one new item that matched, addressed to one sink. The pipeline builds it from a
// poll's matches, the store keeps it in the outbox until it is delivered (or dead-lettered),
// and alert turns it into the sink's request.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/poll.h"
#include "daemon/core/rule.h"

namespace newsmon::core {

// A rule that fired, with what a receiver needs to know of the rule.
struct RuleHit {
  std::string rule;
  RuleSeverity severity = RuleSeverity::kWarning;
  std::vector<std::pair<std::string, std::string>> labels;  // the rule's labels, file order
  Field field = Field::kTitle;                              // where the span is
  std::size_t begin = 0;                                    // UTF-8 bytes [begin, end) of
  std::size_t end = 0;                                      // that field's text
  std::string text;                                         // the matched text itself
};

struct Alert {
  // Stable across retries and restarts ("nm_" + 26 base32 characters), assigned by the store
  // when the alert enters the outbox; receivers drop repeats by it.
  std::string delivery_id;
  std::string sink;        // the sink's name
  std::string source;      // the source's name
  std::string source_url;  // the source's configured URL
  Item item;
  std::vector<RuleHit> rules;  // the rules that matched and notify this sink, in rule order
  WallTime first_seen;         // the poll that found the item
  bool test = false;           // `newsmon sink test`: not a real match
};

// The highest severity among the alert's rules (kInfo when it has none).
inline RuleSeverity MaxSeverity(const Alert& alert) {
  RuleSeverity max = RuleSeverity::kInfo;
  for (const auto& hit : alert.rules) {
    if (hit.severity > max) max = hit.severity;
  }
  return max;
}

}  // namespace newsmon::core
