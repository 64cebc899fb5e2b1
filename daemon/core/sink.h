// A configured alert destination. Built and validated by `config`, used by `alert`.
#pragma once

#include <map>
#include <string>
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
  std::string origin;                         // "file:line" where it was defined
};

}  // namespace newsmon::core
