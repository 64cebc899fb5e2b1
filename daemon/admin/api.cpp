#include "daemon/admin/api.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "daemon/core/enum_names.h"
#include "daemon/core/rule.h"
#include "daemon/core/time.h"

namespace newsmon::admin {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// RFC 3339 UTC with milliseconds: 2024-05-01T12:03:04.567Z (as webhook payloads write it).
std::string Rfc3339Millis(core::WallTime time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto millis = (time - seconds).count();
  std::string text = core::FormatRfc3339(core::TimePoint(seconds.time_since_epoch()));
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(millis));
  text.insert(text.size() - 1, fraction);
  return text;
}

Json OptionalTime(const std::optional<core::WallTime>& time) {
  return time ? Json(Rfc3339Millis(*time)) : Json(nullptr);
}

Json OptionalString(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// Whole seconds as an integer, else a fraction; null when not known (0).
Json Seconds(std::chrono::milliseconds d) {
  if (d.count() <= 0) return nullptr;
  if (d.count() % 1000 == 0) return d.count() / 1000;
  return static_cast<double>(d.count()) / 1000.0;
}

Json MatchObject(const store::HistoryEntry& entry) {
  Json rules = Json::array();
  for (const auto& hit : entry.rules) {
    rules.push_back(Json{
        {"name", hit.rule},
        {"severity", core::NameOf<core::RuleSeverity>(core::kRuleSeverityNames, hit.severity)}});
  }
  const core::Item& item = entry.item;
  return Json{
      {"id", entry.id != 0 ? Json(entry.id) : Json(nullptr)},
      {"source", entry.source},
      {"rules", std::move(rules)},
      {"item",
       {{"id", item.id},
        {"title", item.title},
        {"link", OptionalString(item.link)},
        {"published", item.published ? Json(core::FormatRfc3339(*item.published)) : Json(nullptr)},
        {"summary", OptionalString(item.summary)},
        {"author", OptionalString(item.author)},
        {"categories", item.categories}}},
      {"first_seen", Rfc3339Millis(entry.first_seen)},
      {"alerted", entry.alerted},
  };
}

}  // namespace

std::optional<Target> ParseTarget(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  Target out;
  out.path = std::string(parsed->encoded_path());
  for (const auto& param : parsed->params()) {
    out.params.emplace_back(param.key, param.value);
  }
  return out;
}

MatchesQueryResult ParseMatchesQuery(
    const std::vector<std::pair<std::string, std::string>>& params) {
  MatchesQueryResult result;
  std::set<std::string> seen;
  for (const auto& [key, value] : params) {
    if (key != "limit" && key != "rule" && key != "source") {
      result.error = "unknown parameter '" + key + "' (known: limit, rule, source)";
      return result;
    }
    if (!seen.insert(key).second) {
      result.error = "parameter '" + key + "' given more than once";
      return result;
    }
    if (key == "limit") {
      std::size_t limit = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size() || limit < 1 ||
          limit > kMaxMatchesLimit) {
        result.error = "limit must be a whole number from 1 to " + std::to_string(kMaxMatchesLimit);
        return result;
      }
      result.query.limit = limit;
    } else {
      if (value.empty()) {
        result.error = key + " must not be empty";
        return result;
      }
      (key == "rule" ? result.query.rule : result.query.source) = value;
    }
  }
  return result;
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer";
  if (token.empty() || authorization.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  std::string_view given = authorization.substr(kScheme.size());
  if (given.front() != ' ') return false;
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  // The loop runs over the expected token only; a length difference is folded in.
  unsigned difference = given.size() == token.size() ? 0u : 1u;
  for (std::size_t i = 0; i < token.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    difference |= g ^ static_cast<unsigned char>(token[i]);
  }
  return difference == 0;
}

std::string DisplayUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    // Not a URL (config checked it is): at least never show a query or userinfo.
    std::string_view rest = url.substr(0, url.find_first_of("?#"));
    std::size_t authority = rest.find("://");
    authority = authority == std::string_view::npos ? 0 : authority + 3;
    std::size_t at = rest.find('@', authority);
    if (at != std::string_view::npos && rest.find('/', authority) > at) {
      return std::string(rest.substr(0, authority)) + std::string(rest.substr(at + 1));
    }
    return std::string(rest);
  }
  std::string out = std::string(parsed->scheme()) + "://";
  out += parsed->encoded_host_and_port();
  out += parsed->encoded_path();
  return out;
}

std::string SourcesJson(const std::vector<SourceStatus>& sources) {
  Json out = Json::array();
  for (const auto& source : sources) {
    const core::SourceState& s = source.state;
    out.push_back(Json{
        {"name", source.name},
        {"url", DisplayUrl(source.url)},
        {"kind", core::NameOf<core::SourceKind>(core::kSourceKindNames, source.kind)},
        {"enabled", source.enabled},
        {"last_poll", OptionalTime(s.last_poll)},
        {"last_success", OptionalTime(s.last_success)},
        {"last_failure", OptionalTime(s.last_failure)},
        {"last_outcome", s.last_outcome ? Json(core::NameOf<core::PollOutcome>(
                                              core::kPollOutcomeNames, *s.last_outcome))
                                        : Json(nullptr)},
        {"last_error", s.last_error.empty() ? Json(nullptr) : Json(s.last_error)},
        {"consecutive_failures", s.consecutive_failures},
        {"next_poll", OptionalTime(s.next_poll)},
        {"interval_seconds", Seconds(s.interval)},
    });
  }
  return Dump(out);
}

std::string MatchesJson(const std::vector<store::HistoryEntry>& entries) {
  Json out = Json::array();
  for (const auto& entry : entries) out.push_back(MatchObject(entry));
  return Dump(out);
}

std::string MatchJson(const store::HistoryEntry& entry) { return Dump(MatchObject(entry)); }

std::string ErrorJson(int status, std::string_view message) {
  return Dump(Json{{"status", status}, {"error", message}});
}

}  // namespace newsmon::admin
