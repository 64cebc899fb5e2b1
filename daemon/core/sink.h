// A configured alert destination. Built and validated by `config`, used by `alert`.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/enum_names.h"
#include "daemon/core/source.h"

namespace newsmon::core {

enum class SinkKind { kLog, kWebhook, kSlack, kDiscord, kTelegram, kTeams, kNtfy, kAlertmanager };

inline constexpr EnumName<SinkKind> kSinkKindNames[] = {
    {SinkKind::kLog, "log"},           {SinkKind::kWebhook, "webhook"},
    {SinkKind::kSlack, "slack"},       {SinkKind::kDiscord, "discord"},
    {SinkKind::kTelegram, "telegram"}, {SinkKind::kTeams, "teams"},
    {SinkKind::kNtfy, "ntfy"},         {SinkKind::kAlertmanager, "alertmanager"},
};

struct SinkSpec {
  std::string name;  // unique; same charset as source names, used as a metric label
  SinkKind kind = SinkKind::kLog;
  std::string url;              // endpoint; empty for log; telegram defaults to the Bot API
  std::string secret;           // webhook: "whsec_<base64>" signing key; telegram: bot token;
                                // ntfy: access token; never logged
  std::string chat_id;          // telegram only: the chat to post to
  std::vector<Header> headers;  // webhook, alertmanager: extra headers
  std::map<std::string, std::string> labels;  // alertmanager: labels added to every alert
  // Chat sinks (slack, discord, telegram, teams, ntfy): the message text, fmt named fields
  // (core/message_template.h); checked at config load. Empty = kDefaultTemplate.
  std::string message_template;

  // Delivery (the delivery loop). Defaults depend on the kind: see DeliveryDefaults.
  int concurrency = 1;  // requests in flight at once, >= 1
  double rate = 0;      // requests per second, sustained; 0 = unlimited
  int burst = 1;        // requests allowed at once above the rate, >= 1
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // one attempt, connect included
  std::chrono::milliseconds retry_backoff = std::chrono::seconds(1);  // first retry's wait
  std::chrono::milliseconds max_backoff = std::chrono::minutes(10);   // longest wait
  std::chrono::milliseconds max_age = std::chrono::hours(24);  // then the alert is dead-lettered

  std::string origin;  // "file:line" where it was defined

  bool operator==(const SinkSpec&) const = default;
};

inline constexpr std::string_view kDefaultTemplate = "{rule}: {title} — {link}";

// The delivery defaults of a kind, suited to the service's published limits: Slack one
// message per second per webhook, Discord 30 per minute per webhook, Telegram about one per
// second per chat, Teams 4 per second, ntfy.sh a burst of 60 then one per 5 s.
struct DeliveryDefaults {
  int concurrency;
  double rate;
  int burst;
};
constexpr DeliveryDefaults DefaultsFor(SinkKind kind) {
  switch (kind) {
    case SinkKind::kLog:
      return {1, 0, 1};
    case SinkKind::kWebhook:
      return {4, 0, 1};
    case SinkKind::kSlack:
      return {1, 1, 1};
    case SinkKind::kDiscord:
      return {1, 0.5, 5};
    case SinkKind::kTelegram:
      return {1, 1, 1};
    case SinkKind::kTeams:
      return {1, 2, 4};
    case SinkKind::kNtfy:
      return {1, 0.2, 60};
    case SinkKind::kAlertmanager:
      return {2, 0, 1};
  }
  return {1, 0, 1};
}

// Whether the kind sends a text message built from message_template.
constexpr bool UsesTemplate(SinkKind kind) {
  return kind == SinkKind::kSlack || kind == SinkKind::kDiscord || kind == SinkKind::kTelegram ||
         kind == SinkKind::kTeams || kind == SinkKind::kNtfy;
}

}  // namespace newsmon::core
