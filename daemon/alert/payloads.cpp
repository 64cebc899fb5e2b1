// What each kind of sink is sent: the request (URL, headers, JSON body) built from the stored
// alert. Formats are documented in README.md ("Alert payloads").
#include "daemon/alert/alert.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "daemon/core/message_template.h"
#include "daemon/core/time.h"
#include "daemon/core/url.h"

namespace newsmon::alert {
namespace {

// Key order as documented, so payloads read the same in logs and in the README.
using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

constexpr std::uint64_t kMaxAnswerBytes = 64 * 1024;  // we read only the answer's first bytes
constexpr std::chrono::milliseconds kMaxConnectTimeout = 10s;
constexpr std::string_view kTelegramApi = "https://api.telegram.org";
constexpr std::string_view kDefaultTemplateNoLink = "{rule}: {title}";
constexpr std::string_view kDot = " \u00b7 ";  // " · "

// Limits of our own choosing where a service has none worth hitting.
constexpr std::size_t kSlackTitleMax = 300;         // UTF-16 units, of the section's headline
constexpr std::size_t kSlackLinkMax = 1000;         // a longer link is not linked
constexpr std::size_t kDiscordUrlMax = 2048;        // a longer link is left out of the embed
constexpr std::size_t kTeamsTitleMax = 1000;        // bytes
constexpr std::size_t kTeamsFactMax = 1000;         // bytes
constexpr std::size_t kAlertmanagerTextMax = 1000;  // bytes of the title and summary annotations
constexpr std::size_t kItemHashHexDigits = 12;

// Compact JSON, UTF-8 kept as is; invalid bytes in any string become U+FFFD.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// `text` as valid UTF-8 (invalid bytes become U+FFFD), never cut.
std::string Clean(std::string_view text) { return TruncateBytes(text, std::string::npos); }

std::string_view SeverityName(core::RuleSeverity severity) {
  return core::NameOf<core::RuleSeverity>(core::kRuleSeverityNames, severity);
}

std::string_view FieldName(core::Field field) {
  return core::NameOf<core::Field>(core::kFieldNames, field);
}

// RFC 3339 UTC with milliseconds: 2024-05-01T12:00:00.123Z.
std::string Rfc3339Millis(core::WallTime time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto millis = (time - seconds).count();
  std::string text = core::FormatRfc3339(core::TimePoint(seconds.time_since_epoch()));
  text.insert(text.size() - 1, fmt::format(".{:03}", millis));
  return text;
}

std::optional<std::string> Published(const core::Item& item) {
  if (!item.published) return std::nullopt;
  return core::FormatRfc3339(*item.published);
}

Json OptionalString(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

std::string RuleNames(const core::Alert& alert) {
  std::string names;
  for (const auto& hit : alert.rules) {
    if (!names.empty()) names += ", ";
    names += hit.rule;
  }
  return names;
}

// The item's link when it is an absolute http(s) URL (services reject other links in
// buttons and embeds, and a javascript: link has no business in a chat).
std::optional<std::string> HttpLink(const core::Alert& alert) {
  const auto& link = alert.item.link;
  if (!link || core::HttpUrlProblem(*link)) return std::nullopt;
  return Clean(*link);
}

// The chat message from the sink's template; the title when it renders blank.
std::string MessageText(const core::SinkSpec& sink, const core::Alert& alert) {
  std::string_view text = sink.message_template;
  if (text.empty()) {
    const bool has_link = alert.item.link && !alert.item.link->empty();
    text = has_link ? core::kDefaultTemplate : kDefaultTemplateNoLink;
  }
  std::string message = core::RenderTemplate(text, alert);
  if (message.find_first_not_of(" \t\r\n") == std::string::npos) message = alert.item.title;
  return message;
}

std::string WithoutTrailingSlashes(std::string_view url) {
  while (url.ends_with('/')) url.remove_suffix(1);
  return std::string(url);
}

// UTF-16 code units in valid UTF-8 `text`.
std::size_t Utf16Length(std::string_view text) {
  std::size_t units = 0;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) != 0x80) ++units;  // a code point starts
    if (byte >= 0xF0) ++units;           // a 4-byte sequence: a surrogate pair
  }
  return units;
}

std::size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  return lead < 0xF0 ? 3 : 4;
}

// Slack's mrkdwn escaping of &, < and > with the result cut to `max_units` UTF-16 units, on
// a code point boundary and never inside an escape, "…" appended when cut.
std::string SlackEscaped(std::string_view raw, std::size_t max_units) {
  const std::string text = Clean(raw);
  constexpr std::size_t kEllipsisUnits = 1;
  std::string out;
  std::size_t used = 0;
  std::size_t cut = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = SequenceLength(static_cast<unsigned char>(text[i]));
    std::string_view piece(text.data() + i, length);
    if (piece == "&") piece = "&amp;";
    if (piece == "<") piece = "&lt;";
    if (piece == ">") piece = "&gt;";
    const std::size_t cost = length == 4 ? 2 : (length == 1 ? piece.size() : 1);
    if (used + cost > max_units) {
      if (kEllipsisUnits > max_units) return out;
      out.resize(cut);
      return out + "\u2026";
    }
    out += piece;
    used += cost;
    if (used + kEllipsisUnits <= max_units) cut = out.size();
    i += length;
  }
  return out;
}

// A URL inside Slack's <url|text>: escaped, and '|' (which would end the URL) encoded.
std::string SlackLinkTarget(std::string_view url) {
  std::string out;
  for (char c : url) {
    if (c == '|') {
      out += "%7C";
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

// "source · rules · severity · published" for the chat sinks' context lines.
std::string ContextLine(const core::Alert& alert) {
  std::string line = alert.source;
  if (!alert.rules.empty()) line += std::string(kDot) + RuleNames(alert);
  line += std::string(kDot) + std::string(SeverityName(core::MaxSeverity(alert)));
  if (auto published = Published(alert.item)) line += std::string(kDot) + *published;
  return line;
}

// First 12 hex digits of SHA-256 of the item id: one Alertmanager alert per story.
std::string ItemHash(std::string_view id) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(id.data(), id.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length && hex.size() < kItemHashHexDigits; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex.substr(0, kItemHashHexDigits);
}

// Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*, and "__" reserved for internal use.
bool IsLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 5> kReservedLabels = {"alertname", "rule", "source",
                                                             "severity", "item"};

bool IsReservedLabel(std::string_view name) {
  return std::find(kReservedLabels.begin(), kReservedLabels.end(), name) != kReservedLabels.end();
}

// ---- Payloads ------------------------------------------------------------------------------

Json WebhookPayload(const core::Alert& alert) {
  const core::Item& item = alert.item;
  Json rules = Json::array();
  for (const auto& hit : alert.rules) {
    Json labels = Json::object();
    for (const auto& [name, value] : hit.labels) labels[name] = value;
    rules.push_back(Json{{"name", hit.rule},
                         {"severity", SeverityName(hit.severity)},
                         {"labels", std::move(labels)},
                         {"field", FieldName(hit.field)},
                         {"span", Json::array({hit.begin, hit.end})},
                         {"text", hit.text}});
  }
  return Json{
      {"version", kWebhookPayloadVersion},
      {"type", alert.test ? "newsmon.test" : "newsmon.match"},
      {"delivery_id", alert.delivery_id},
      {"created_at", Rfc3339Millis(alert.first_seen)},
      {"source", {{"name", alert.source}, {"url", alert.source_url}}},
      {"item",
       {{"id", item.id},
        {"title", item.title},
        {"link", OptionalString(item.link)},
        {"published", OptionalString(Published(item))},
        {"summary", OptionalString(item.summary)},
        {"author", OptionalString(item.author)},
        {"categories", item.categories}}},
      {"rules", std::move(rules)},
      {"severity", SeverityName(core::MaxSeverity(alert))},
  };
}

Json SlackPayload(const core::SinkSpec& sink, const core::Alert& alert) {
  const std::string message = MessageText(sink, alert);
  const std::string title = SlackEscaped(alert.item.title, kSlackTitleMax);
  std::string headline = "*" + title + "*";
  if (auto link = HttpLink(alert)) {
    const std::string target = SlackLinkTarget(*link);
    if (target.size() <= kSlackLinkMax) headline = "*<" + target + "|" + title + ">*";
  }
  const std::size_t headline_units = Utf16Length(headline) + 1;  // and its newline
  const std::string section =
      headline + "\n" + SlackEscaped(message, kSlackSectionTextMax - headline_units);
  return Json{
      {"text", SlackEscaped(message, kSlackFallbackTextMax)},
      {"blocks",
       Json::array({Json{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", section}}}},
                    Json{{"type", "context"},
                         {"elements",
                          Json::array({Json{{"type", "mrkdwn"},
                                            {"text", SlackEscaped(ContextLine(alert),
                                                                  kSlackSectionTextMax)}}})}}})},
  };
}

// Discord embed colours by severity: blue, amber, red.
int DiscordColor(core::RuleSeverity severity) {
  switch (severity) {
    case core::RuleSeverity::kInfo:
      return 0x3498DB;
    case core::RuleSeverity::kWarning:
      return 0xF39C12;
    case core::RuleSeverity::kCritical:
      return 0xE74C3C;
  }
  return 0x3498DB;
}

Json DiscordPayload(const core::SinkSpec& sink, const core::Alert& alert) {
  const std::string title = TruncateUtf16(alert.item.title, kDiscordEmbedTitleMax);
  const std::string footer =
      TruncateUtf16("newsmon" + std::string(kDot) + alert.source, kDiscordFooterMax);
  // A field's value may not be empty.
  const std::string rules =
      TruncateUtf16(alert.rules.empty() ? "\u2014" : RuleNames(alert), kDiscordFieldValueMax);
  const std::string severity(SeverityName(core::MaxSeverity(alert)));
  constexpr std::string_view kRulesName = "Rules";
  constexpr std::string_view kSeverityName = "Severity";

  Json embed = Json{{"title", title}};
  if (auto link = HttpLink(alert); link && link->size() <= kDiscordUrlMax) embed["url"] = *link;
  // The description gets what the other counted parts leave of the 6000 total.
  const std::size_t counted = Utf16Length(title) + Utf16Length(footer) + kRulesName.size() +
                              Utf16Length(rules) + kSeverityName.size() + severity.size();
  if (alert.item.summary && !alert.item.summary->empty()) {
    const std::size_t room = kDiscordEmbedTotalMax > counted ? kDiscordEmbedTotalMax - counted : 0;
    std::string description =
        TruncateUtf16(*alert.item.summary, std::min(kDiscordEmbedDescriptionMax, room));
    if (!description.empty()) embed["description"] = std::move(description);
  }
  if (auto published = Published(alert.item)) embed["timestamp"] = *published;
  embed["color"] = DiscordColor(core::MaxSeverity(alert));
  embed["footer"] = Json{{"text", footer}};
  embed["fields"] =
      Json::array({Json{{"name", kRulesName}, {"value", rules}, {"inline", true}},
                   Json{{"name", kSeverityName}, {"value", severity}, {"inline", true}}});

  return Json{
      {"content", TruncateUtf16(MessageText(sink, alert), kDiscordContentMax)},
      {"embeds", Json::array({std::move(embed)})},
      {"allowed_mentions", {{"parse", Json::array()}}},
  };
}

Json TelegramPayload(const core::SinkSpec& sink, const core::Alert& alert) {
  return Json{
      {"chat_id", sink.chat_id},
      {"text", TruncateUtf16(MessageText(sink, alert), kTelegramTextMax)},
      {"disable_web_page_preview", false},
  };
}

Json TeamsPayload(const core::SinkSpec& sink, const core::Alert& alert) {
  Json facts = Json::array();
  auto fact = [&](std::string_view title, std::string_view value) {
    facts.push_back(Json{{"title", title}, {"value", TruncateBytes(value, kTeamsFactMax)}});
  };
  fact("Source", alert.source);
  if (!alert.rules.empty()) fact("Rules", RuleNames(alert));
  fact("Severity", SeverityName(core::MaxSeverity(alert)));
  if (auto published = Published(alert.item)) fact("Published", *published);

  Json card = Json{
      {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
      {"type", "AdaptiveCard"},
      {"version", "1.4"},
      {"body", Json::array({Json{{"type", "TextBlock"},
                                 {"text", TruncateBytes(alert.item.title, kTeamsTitleMax)},
                                 {"weight", "Bolder"},
                                 {"size", "Medium"},
                                 {"wrap", true}},
                            Json{{"type", "TextBlock"},
                                 {"text", TruncateBytes(MessageText(sink, alert), kTeamsTextMax)},
                                 {"wrap", true}},
                            Json{{"type", "FactSet"}, {"facts", std::move(facts)}}})},
  };
  if (auto link = HttpLink(alert)) {
    card["actions"] =
        Json::array({Json{{"type", "Action.OpenUrl"}, {"title", "Open"}, {"url", *link}}});
  }
  return Json{
      {"type", "message"},
      {"attachments", Json::array({Json{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                        {"content", std::move(card)}}})},
  };
}

// ntfy's JSON publishing goes to the server's root with the topic in the body: the sink's
// URL is "https://ntfy.sh/<topic>" (or ".../<prefix>/<topic>" behind a proxy).
struct NtfyTarget {
  std::string root;  // up to and including the '/' before the topic
  std::string topic;
};

NtfyTarget ParseNtfyUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  while (url.ends_with('/')) url.remove_suffix(1);
  const auto scheme_end = url.find("://");
  const auto slash = url.rfind('/');
  if (slash == std::string_view::npos ||
      (scheme_end != std::string_view::npos && slash < scheme_end + 3)) {
    return {std::string(url) + "/", ""};
  }
  return {std::string(url.substr(0, slash + 1)), std::string(url.substr(slash + 1))};
}

int NtfyPriority(core::RuleSeverity severity) {
  switch (severity) {
    case core::RuleSeverity::kInfo:
      return 3;
    case core::RuleSeverity::kWarning:
      return 4;
    case core::RuleSeverity::kCritical:
      return 5;
  }
  return 3;
}

Json NtfyPayload(const core::SinkSpec& sink, const core::Alert& alert, std::string topic) {
  Json tags = Json::array();
  for (const auto& hit : alert.rules) tags.push_back(hit.rule);
  Json body = Json{
      {"topic", std::move(topic)},
      {"message", TruncateBytes(MessageText(sink, alert), kNtfyMessageMax)},
      {"title", TruncateBytes(alert.item.title, kNtfyTitleMax)},
      {"priority", NtfyPriority(core::MaxSeverity(alert))},
      {"tags", std::move(tags)},
  };
  if (auto link = HttpLink(alert)) body["click"] = *link;
  return body;
}

// One Alertmanager alert per rule hit; labels make each (story, rule) its own alert, so a
// retry of the same delivery only refreshes it.
Json AlertmanagerPayload(const core::SinkSpec& sink, const core::Alert& alert, core::WallTime now) {
  const std::string item_hash = ItemHash(alert.item.id);
  const std::optional<std::string> link = HttpLink(alert);
  Json annotations = Json{{"title", TruncateBytes(alert.item.title, kAlertmanagerTextMax)}};
  if (alert.item.link && !alert.item.link->empty()) annotations["link"] = *alert.item.link;
  if (alert.item.summary && !alert.item.summary->empty()) {
    annotations["summary"] = TruncateBytes(*alert.item.summary, kAlertmanagerTextMax);
  }
  if (auto published = Published(alert.item)) annotations["published"] = *published;
  annotations["delivery_id"] = alert.delivery_id;

  auto one = [&](const core::RuleHit* hit) {
    Json labels = Json{{"alertname", alert.test ? "NewsmonTest" : "NewsmonMatch"}};
    if (hit) labels["rule"] = hit->rule;
    labels["source"] = alert.source;
    labels["severity"] = SeverityName(hit ? hit->severity : core::MaxSeverity(alert));
    labels["item"] = item_hash;
    // Users' labels never replace ours; the sink's replace the rule's of the same name.
    auto add = [&](std::string_view name, std::string_view value) {
      if (IsLabelName(name) && !IsReservedLabel(name) && !value.empty()) {
        labels[std::string(name)] = value;
      }
    };
    if (hit) {
      for (const auto& [name, value] : hit->labels) add(name, value);
    }
    for (const auto& [name, value] : sink.labels) add(name, value);
    Json entry = Json{{"labels", std::move(labels)},
                      {"annotations", annotations},
                      {"startsAt", Rfc3339Millis(now)}};
    if (link) entry["generatorURL"] = *link;
    return entry;
  };

  Json alerts = Json::array();
  for (const auto& hit : alert.rules) alerts.push_back(one(&hit));
  if (alert.rules.empty()) alerts.push_back(one(nullptr));
  return alerts;
}

net::HttpRequest JsonPost(const core::SinkSpec& sink, std::string url, const Json& body) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = Dump(body);
  request.timeout = sink.timeout;
  request.connect_timeout = std::min(sink.timeout, kMaxConnectTimeout);
  request.max_body = kMaxAnswerBytes;
  request.max_redirects = 0;
  request.policy = net::AddressPolicy::AllowAll();
  return request;
}

}  // namespace

net::HttpRequest BuildRequest(const core::SinkSpec& sink, const core::Alert& alert,
                              core::WallTime now) {
  net::HttpRequest request;
  switch (sink.kind) {
    case core::SinkKind::kLog:  // not sent; the webhook form is as good as any
    case core::SinkKind::kWebhook: {
      request = JsonPost(sink, sink.url, WebhookPayload(alert));
      const auto timestamp =
          std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
      request.headers.emplace_back("webhook-id", alert.delivery_id);
      request.headers.emplace_back("webhook-timestamp", std::to_string(timestamp));
      if (!sink.secret.empty()) {
        std::string signature =
            WebhookSignature(sink.secret, alert.delivery_id, timestamp, request.body);
        if (!signature.empty()) request.headers.emplace_back("webhook-signature", signature);
      }
      break;
    }
    case core::SinkKind::kSlack:
      request = JsonPost(sink, sink.url, SlackPayload(sink, alert));
      break;
    case core::SinkKind::kDiscord:
      request = JsonPost(sink, sink.url, DiscordPayload(sink, alert));
      break;
    case core::SinkKind::kTelegram: {
      std::string base = WithoutTrailingSlashes(sink.url.empty() ? kTelegramApi : sink.url);
      request = JsonPost(sink, base + "/bot" + sink.secret + "/sendMessage",
                         TelegramPayload(sink, alert));
      break;
    }
    case core::SinkKind::kTeams:
      request = JsonPost(sink, sink.url, TeamsPayload(sink, alert));
      break;
    case core::SinkKind::kNtfy: {
      NtfyTarget target = ParseNtfyUrl(sink.url);
      request = JsonPost(sink, target.root, NtfyPayload(sink, alert, std::move(target.topic)));
      if (!sink.secret.empty())
        request.headers.emplace_back("Authorization", "Bearer " + sink.secret);
      break;
    }
    case core::SinkKind::kAlertmanager:
      request = JsonPost(sink, WithoutTrailingSlashes(sink.url) + "/api/v2/alerts",
                         AlertmanagerPayload(sink, alert, now));
      break;
  }
  for (const auto& header : sink.headers) request.headers.push_back(header);
  return request;
}

}  // namespace newsmon::alert
