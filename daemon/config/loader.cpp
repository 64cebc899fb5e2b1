// Turns YAML documents into a validated Config. The reading helpers live in yaml_reader;
// this file knows the config language: which keys exist, what they mean, how they combine.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/config/text.h"
#include "daemon/config/units.h"
#include "daemon/config/yaml_reader.h"
#include "daemon/core/cidr.h"
#include "daemon/core/message_template.h"
#include "daemon/core/time.h"
#include "daemon/core/url.h"

namespace newsmon::config {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::string_view kTopKeys[] = {
    "state_dir", "listen", "admin_token_file", "log",    "defaults", "polling", "store",
    "rules",     "sinks",  "include",          "sources"};
constexpr std::string_view kLogKeys[] = {"level", "format"};
constexpr std::string_view kPollingKeys[] = {"max_concurrent", "max_per_host"};
constexpr std::string_view kStoreKeys[] = {"seen_retention", "history_limit"};
constexpr std::string_view kIncludeKeys[] = {"sources"};
// Per-source settings: valid in `defaults` and in each source, where the source's own wins.
constexpr std::string_view kSettingKeys[] = {"kind",
                                             "enabled",
                                             "interval",
                                             "min_interval",
                                             "max_interval",
                                             "max_backoff",
                                             "respect_cache",
                                             "timeout",
                                             "connect_timeout",
                                             "max_body",
                                             "user_agent",
                                             "headers",
                                             "tls_verify",
                                             "ca_file",
                                             "proxy",
                                             "allow_private_networks",
                                             "backfill",
                                             "max_item_age",
                                             "html"};
// A source's keys: its identity plus every setting.
const std::vector<std::string_view>& SourceKeys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> all = {"name", "url"};
    all.insert(all.end(), std::begin(kSettingKeys), std::end(kSettingKeys));
    return all;
  }();
  return keys;
}
constexpr std::string_view kHtmlKeys[] = {"item",    "title",       "link",    "date",
                                          "summary", "date_format", "timezone"};
constexpr std::string_view kSinkKeys[] = {
    "name",    "kind",    "url",           "url_file",    "secret",      "secret_file",
    "chat_id", "headers", "labels",        "template",    "concurrency", "rate",
    "burst",   "timeout", "retry_backoff", "max_backoff", "max_age"};
// The delivery keys every sink kind but `log` takes.
constexpr std::string_view kDeliveryKeys[] = {"concurrency",   "rate",        "burst",  "timeout",
                                              "retry_backoff", "max_backoff", "max_age"};

constexpr milliseconds kMinInterval = 10s;
constexpr milliseconds kMinTimeout = 1s;
constexpr milliseconds kMinConnectTimeout = 100ms;
constexpr std::uint64_t kMinBody = 1024;
constexpr std::uint64_t kMaxBody = 1ULL << 30;
constexpr int kMaxConcurrentPolls = 10000;
constexpr int kMaxPollsPerHost = 1000;
constexpr milliseconds kMinItemAge = 1h;
constexpr milliseconds kMinSeenRetention = 24h;
constexpr std::size_t kMinAdminTokenLength = 16;  // shorter ones load with a warning
constexpr std::int64_t kMinHistoryLimit = 100;
constexpr std::int64_t kMaxHistoryLimit = 1'000'000;
// Sink delivery limits.
constexpr int kMaxSinkConcurrency = 64;
constexpr double kMaxSinkRate = 1000;  // requests per second
constexpr int kMaxSinkBurst = 1000;
constexpr milliseconds kMinSinkTimeout = 100ms;
constexpr milliseconds kMaxSinkTimeout = 5min;
constexpr milliseconds kMinRetryBackoff = 10ms;
constexpr milliseconds kMaxRetryBackoff = 1h;
constexpr milliseconds kMaxSinkBackoff = 24h;
constexpr milliseconds kMinAlertAge = 1min;
constexpr milliseconds kMaxAlertAge = 24h * 30;
constexpr std::string_view kTelegramApi = "https://api.telegram.org";

// Headers the HTTP client sets itself; a config that overrides them would break framing.
constexpr std::string_view kManagedHeaders[] = {"host", "content-length", "transfer-encoding",
                                                "connection", "accept-encoding"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// RFC 9110 token characters.
bool IsToken(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kExtra.find(c) != kExtra.npos;
  });
}

bool HasControlBreak(std::string_view s) {
  return s.find_first_of("\r\n", 0) != s.npos || s.find('\0') != s.npos;
}

// Whether `text` is standard base64 (with padding), and its decoded length.
std::optional<std::size_t> Base64Length(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    char c = text[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return std::nullopt;
  }
  return text.size() / 4 * 3 - padding;
}

// --- Sink settings ------------------------------------------------------------------------

// A finite decimal number ("2", "0.5", "1e3"); nullopt on anything else.
std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [stop, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || stop != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// A sink's `rate` in requests per second: a number ("2", "0.5"), or a count per duration,
// "30/min", "1/5s", "100/h", where a bare unit stands for one of it and "min" is "m".
// nullopt when it is neither; the range is checked by the caller.
std::optional<double> ParseRate(std::string_view text) {
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return ParseNumber(text);
  auto count = ParseNumber(text.substr(0, slash));
  std::string per(text.substr(slash + 1));
  if (per == "min") per = "m";
  if (!per.empty() && !std::isdigit(static_cast<unsigned char>(per[0]))) per.insert(0, "1");
  auto window = ParseDuration(per);
  if (!count || !window || window->count() == 0) return std::nullopt;
  return *count * 1000.0 / static_cast<double>(window->count());
}

// A rate for messages, in the shortest form that reads back the same ("0.5", "1000").
std::string FormatNumber(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

// Why `text`, a message template, names a field it cannot have, or nullopt. fmt reads the
// field name between '{' and ':' or '}'; "{{" is a literal brace. TemplateProblem rejects
// unknown names too, but fmt's "argument not found" does not say which; and it accepts
// positional fields ("{}", "{0}"), which would silently print the first field.
std::optional<std::string> TemplateFieldProblem(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      ++i;
      continue;
    }
    std::size_t end = text.find_first_of(":}", i + 1);
    if (end == std::string_view::npos) return std::nullopt;  // unmatched: TemplateProblem's
    std::string_view name = text.substr(i + 1, end - i - 1);
    if (name.find('{') != std::string_view::npos) return std::nullopt;
    if (std::all_of(name.begin(), name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return "fields have names: write one such as {title}, not {" + std::string(name) + "}";
    }
    if (!IsOneOf(name, core::kTemplateFields)) {
      std::string message = "unknown field '" + std::string(name) + "' in the message template";
      if (auto suggestion = ClosestName(name, core::kTemplateFields)) {
        return message + " (did you mean '" + std::string(*suggestion) + "'?)";
      }
      std::string fields;
      for (auto field : core::kTemplateFields) {
        fields += (fields.empty() ? "" : ", ") + std::string(field);
      }
      return message + " (fields: " + fields + ")";
    }
    // A format spec may hold nested fields ("{title:.{width}}"): the loop reads them too.
    i = end;
  }
  return std::nullopt;
}

// --- Proxies ------------------------------------------------------------------------------

// `url` with the credentials of its authority, if any, replaced by "***": messages quote
// proxy URLs, which may come from the environment with a password in them.
std::string RedactUserinfo(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  std::size_t begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  std::size_t end = std::min(url.find_first_of("/?#", begin), url.size());
  std::size_t at = url.substr(begin, end - begin).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, begin)) + "***" + std::string(url.substr(begin + at));
}

// The 4 or 16 bytes of an IP literal (IPv6 without brackets), or nullopt for a host name.
std::optional<std::string> IpBytes(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  if (inet_pton(AF_INET, text.c_str(), buffer) == 1) return std::string(buffer, buffer + 4);
  if (inet_pton(AF_INET6, text.c_str(), buffer) == 1) {
    return std::string(buffer, buffer + sizeof(in6_addr));
  }
  return std::nullopt;
}

// Why `text` is not a proxy URL newsmon can use (http://host[:port], optionally with a
// trailing "/"), or nullopt when it is one.
std::optional<std::string> ProxyUrlProblem(std::string_view text) {
  std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return "expected http://host[:port], none or direct";
  std::string scheme = Lower(text.substr(0, scheme_end));
  if (scheme != "http") {
    return "scheme must be http, not '" + scheme +
           "' (newsmon speaks plain HTTP to the proxy and tunnels https through it)";
  }
  std::string_view rest = text.substr(scheme_end + 3);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return "credentials in the proxy URL are not supported";
  }
  if (end != std::string_view::npos && rest.substr(end) != "/") {
    return "a proxy URL has no path, query or fragment";
  }
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "unclosed '[' in the host";
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':')
      return "unexpected '" + std::string(after) + "' after the host";
    if (!after.empty()) port = after.substr(1);
    unsigned char buffer[sizeof(in6_addr)];
    if (inet_pton(AF_INET6, std::string(host).c_str(), buffer) != 1) {
      return "invalid IPv6 address '" + std::string(host) + "'";
    }
  } else {
    if (std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return "the URL has no host";
    bool valid = std::all_of(host.begin(), host.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    });
    if (!valid) return "invalid host '" + std::string(host) + "'";
  }
  if (port) {
    unsigned value = 0;
    auto [stop, ec] = std::from_chars(port->data(), port->data() + port->size(), value);
    if (port->empty() || ec != std::errc() || stop != port->data() + port->size() || value == 0 ||
        value > 65535) {
      return "invalid port '" + std::string(*port) + "'";
    }
  }
  return std::nullopt;
}

// A valid proxy URL as Source::proxy holds it: "http://host[:port]".
std::string NormalizedProxy(std::string_view text) {
  std::string_view rest = text.substr(text.find("://") + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  return "http://" + std::string(rest);
}

// The host of a valid http(s) URL, lower-case, IPv6 without brackets.
std::string UrlHost(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  std::size_t begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  std::string_view authority = url.substr(begin, url.find_first_of("/?#", begin) - begin);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.starts_with('[')) return Lower(authority.substr(1, authority.find(']') - 1));
  return Lower(authority.substr(0, authority.rfind(':')));
}

// Whether NO_PROXY-style `list` exempts `host` (lower-case, IPv6 without brackets): entries
// are comma-separated; "*" matches every host; an IP literal matches that address only; a
// name matches itself and its subdomains, with or without a leading '.'. A ":port" on an
// entry is ignored.
bool NoProxyMatches(std::string_view list, const std::string& host) {
  std::optional<std::string> host_ip = IpBytes(host);
  while (!list.empty()) {
    std::size_t comma = std::min(list.find(','), list.size());
    std::string_view entry = list.substr(0, comma);
    list.remove_prefix(std::min(comma + 1, list.size()));
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.front()))) {
      entry.remove_prefix(1);
    }
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.back()))) {
      entry.remove_suffix(1);
    }
    if (entry == "*") return true;
    std::string name = Lower(entry);
    if (name.starts_with('[')) {
      name = name.substr(1, name.find(']') - 1);  // "[::1]" or "[::1]:443"
    } else if (std::size_t colon = name.find(':');
               colon != std::string::npos && name.find(':', colon + 1) == std::string::npos) {
      name.resize(colon);  // "host:port"; several colons make an IPv6 literal
    }
    if (name.empty()) continue;
    std::optional<std::string> entry_ip = IpBytes(name);
    if (entry_ip || host_ip) {
      if (entry_ip == host_ip) return true;
      continue;
    }
    if (name.starts_with('.')) name.erase(0, 1);
    if (name.empty()) continue;
    if (host == name || (host.size() > name.size() && host.ends_with("." + name))) return true;
  }
  return false;
}

// Settings given in `defaults` or in a source; unset fields fall through to the next level.
struct SourceSettings {
  std::optional<core::SourceKind> kind;
  std::optional<bool> enabled;
  std::optional<milliseconds> interval;
  std::optional<milliseconds> timeout;
  std::optional<std::uint64_t> max_body;
  std::optional<std::string> user_agent;
  std::vector<core::Header> headers;
  // min_interval and max_interval: set together and inherited together.
  std::optional<std::pair<milliseconds, milliseconds>> interval_range;
  std::optional<milliseconds> max_backoff;
  std::optional<bool> respect_cache;
  std::optional<milliseconds> connect_timeout;
  std::optional<bool> tls_verify;
  std::optional<YAML::Node> tls_verify_node;  // where tls_verify was set
  std::optional<std::string> ca_file;         // resolved; readable when it was read
  std::optional<std::string> proxy;           // "" = direct; unset = from the environment
  std::optional<core::NetworkAllowance> allow_private_networks;
  std::optional<bool> backfill;
  std::optional<milliseconds> max_item_age;
  std::vector<core::Header> html;       // html-block keys that were set, in file order
  std::optional<YAML::Node> html_node;  // where the html block is, when there is one
};

class Loader {
 public:
  Loader(const Environment& env, std::vector<core::Diagnostic>& out) : env_(env), out_(out) {}

  Config Load(const std::string& text, const std::filesystem::path& file) {
    Config config;
    config.file = file;
    YamlReader reader(file, env_, out_);
    auto parsed = ParseYaml(text, file, out_);
    if (!parsed) return config;
    // Read through const references: yaml-cpp's non-const operator[] inserts keys.
    const YAML::Node& doc = *parsed;
    if (!doc.IsDefined() || doc.IsNull()) {
      out_.push_back(FileError(file, "the config file is empty"));
      return config;
    }
    if (!reader.ExpectMap(doc, "", kTopKeys)) return config;

    if (doc["state_dir"]) {
      if (auto dir = reader.String(doc["state_dir"], "state_dir")) {
        if (dir->empty()) {
          reader.Error(doc["state_dir"], "state_dir", "must not be empty");
        } else {
          config.state_dir = reader.Resolve(*dir);
        }
      }
    }
    if (doc["listen"]) ReadListen(reader, doc["listen"], config.listen);
    if (doc["admin_token_file"]) {
      ReadAdminToken(reader, doc["admin_token_file"], config.admin_token);
    }
    if (doc["log"]) ReadLog(reader, doc["log"], config.log);
    if (doc["polling"]) ReadPolling(reader, doc["polling"], config.polling);
    if (doc["store"]) ReadStore(reader, doc["store"], config.store);
    if (doc["defaults"] && reader.ExpectMap(doc["defaults"], "defaults", kSettingKeys)) {
      defaults_ = ReadSettings(reader, doc["defaults"], "defaults");
    }
    if (doc["rules"]) {
      config.rule_files = reader.Glob(doc["rules"], "rules");
    } else {
      reader.Warning(doc, "rules", "no rule files configured: nothing will ever match");
    }
    ReadSinks(reader, doc["sinks"], config.sinks);
    ReadSources(reader, doc["sources"], "sources", config.sources);
    if (doc["include"]) {
      for (const auto& path : reader.Glob(doc["include"], "include")) {
        ReadIncluded(path, config.sources);
      }
    }
    if (config.sources.empty()) {
      reader.Warning(doc, "sources", "no sources configured: nothing will be polled");
    }
    return config;
  }

 private:
  void ReadListen(YamlReader& reader, const YAML::Node& node, ListenAddress& listen) {
    auto text = reader.String(node, "listen");
    if (!text) return;
    std::string host;
    std::string port;
    // IPv6 needs brackets ("[::1]:80"), IPv4 must not have them: "::1:80" is ambiguous.
    bool bracketed = text->starts_with('[');
    if (bracketed) {
      std::size_t close = text->find("]:");
      if (close != std::string::npos) {
        host = text->substr(1, close - 1);
        port = text->substr(close + 2);
      }
    } else if (std::size_t colon = text->rfind(':'); colon != std::string::npos) {
      host = text->substr(0, colon);
      port = text->substr(colon + 1);
    }
    unsigned char buffer[sizeof(in6_addr)];
    bool host_ok = bracketed ? inet_pton(AF_INET6, host.c_str(), buffer) == 1
                             : inet_pton(AF_INET, host.c_str(), buffer) == 1;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    bool port_ok =
        !port.empty() && ec == std::errc() && end == port.data() + port.size() && value <= 65535;
    if (!host_ok || !port_ok) {
      reader.Error(node, "listen",
                   "expected IP:PORT such as 127.0.0.1:" + std::to_string(kDefaultAdminPort) +
                       " or [::1]:" + std::to_string(kDefaultAdminPort) + ", got '" + *text + "'");
      return;
    }
    listen.host = host;
    listen.port = static_cast<std::uint16_t>(value);
  }

  // The token goes into an Authorization header as it is: one line of printable ASCII. The
  // messages never show it.
  void ReadAdminToken(YamlReader& reader, const YAML::Node& node, std::string& token) {
    const std::string key = "admin_token_file";
    auto name = reader.String(node, key);
    if (!name) return;
    if (name->empty()) {
      reader.Error(node, key, "must not be empty");
      return;
    }
    std::filesystem::path resolved = reader.Resolve(*name);
    auto content = ReadWholeFile(resolved);
    if (!content) {
      reader.Error(node, key, "cannot read '" + resolved.string() + "': " + ErrnoText());
      return;
    }
    while (!content->empty() && (content->back() == '\n' || content->back() == '\r')) {
      content->pop_back();
    }
    if (content->empty()) {
      reader.Error(node, key, "'" + resolved.string() + "' is empty");
      return;
    }
    bool printable =
        std::all_of(content->begin(), content->end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (!printable) {
      reader.Error(node, key,
                   "the token in '" + resolved.string() +
                       "' must be one line of printable ASCII without spaces");
      return;
    }
    if (content->size() < kMinAdminTokenLength) {
      reader.Warning(node, key,
                     "the token in '" + resolved.string() + "' is shorter than " +
                         std::to_string(kMinAdminTokenLength) +
                         " characters: anyone who can reach the admin server may guess it");
    }
    token = std::move(*content);
  }

  void ReadLog(YamlReader& reader, const YAML::Node& node, LogSettings& log) {
    if (!reader.ExpectMap(node, "log", kLogKeys)) return;
    if (node["level"]) {
      if (auto level = reader.EnumValue<LogLevel>(node["level"], "log.level", kLogLevelNames)) {
        log.level = *level;
      }
    }
    if (node["format"]) {
      if (auto format =
              reader.EnumValue<LogFormat>(node["format"], "log.format", kLogFormatNames)) {
        log.format = *format;
      }
    }
  }

  void ReadPolling(YamlReader& reader, const YAML::Node& node, core::PollLimits& polling) {
    if (!reader.ExpectMap(node, "polling", kPollingKeys)) return;
    ReadLimit(reader, node, "max_concurrent", kMaxConcurrentPolls, polling.max_concurrent);
    ReadLimit(reader, node, "max_per_host", kMaxPollsPerHost, polling.max_per_host);
  }

  // polling.`key`, a whole number from 1 to `maximum`, into `value` when set and valid.
  static void ReadLimit(YamlReader& reader, const YAML::Node& map, const std::string& key,
                        int maximum, int& value) {
    const YAML::Node& node = map[key];
    if (!node) return;
    if (auto number = IntegerBetween(reader, node, "polling", key, 1, maximum)) {
      value = static_cast<int>(*number);
    }
  }

  // `path`.`key`, a whole number from `minimum` to `maximum`; nullopt after reporting why
  // not.
  static std::optional<std::int64_t> IntegerBetween(YamlReader& reader, const YAML::Node& node,
                                                    const std::string& path, const std::string& key,
                                                    std::int64_t minimum, std::int64_t maximum) {
    std::string key_path = path + "." + key;
    auto number = reader.Integer(node, key_path);
    if (!number) return std::nullopt;
    if (*number < minimum || *number > maximum) {
      reader.Error(node, key_path,
                   key + " " + std::to_string(*number) + " is outside the allowed " +
                       std::to_string(minimum) + " to " + std::to_string(maximum));
      return std::nullopt;
    }
    return number;
  }

  void ReadStore(YamlReader& reader, const YAML::Node& node, StoreSettings& store) {
    if (!reader.ExpectMap(node, "store", kStoreKeys)) return;
    if (node["seen_retention"]) {
      if (auto retention = DurationAtLeast(reader, node["seen_retention"], "store",
                                           "seen_retention", kMinSeenRetention)) {
        store.seen_retention = *retention;
      }
    }
    if (node["history_limit"]) {
      if (auto limit = IntegerBetween(reader, node["history_limit"], "store", "history_limit",
                                      kMinHistoryLimit, kMaxHistoryLimit)) {
        store.history_limit = static_cast<std::size_t>(*limit);
      }
    }
  }

  std::vector<core::Header> ReadHeaders(YamlReader& reader, const YAML::Node& node,
                                        const std::string& path) {
    auto headers = reader.StringMap(node, path);
    if (!headers) return {};
    std::set<std::string> seen;
    for (const auto& [name, value] : *headers) {
      const YAML::Node& at = node[name];
      std::string header_path = path + "." + name;
      std::string lower = Lower(name);
      if (!seen.insert(lower).second) {
        reader.Error(at, header_path, "header names are case-insensitive: this one appears twice");
      } else if (!IsToken(name)) {
        reader.Error(at, header_path, "invalid header name");
      } else if (IsOneOf(lower, kManagedHeaders)) {
        reader.Error(at, header_path, "this header is set by newsmon itself");
      }
      if (HasControlBreak(value)) {
        reader.Error(at, header_path, "header values must not contain CR, LF or NUL");
      }
    }
    return *headers;
  }

  static std::optional<milliseconds> DurationAtLeast(YamlReader& reader, const YAML::Node& node,
                                                     const std::string& path,
                                                     const std::string& key, milliseconds minimum) {
    auto value = reader.Duration(node, path + "." + key);
    if (value && *value < minimum) {
      reader.Error(node, path + "." + key,
                   key + " " + FormatDuration(*value) + " is under the " + FormatDuration(minimum) +
                       " minimum");
      return std::nullopt;
    }
    return value;
  }

  // As DurationAtLeast, and at most `maximum`.
  static std::optional<milliseconds> DurationBetween(YamlReader& reader, const YAML::Node& node,
                                                     const std::string& path,
                                                     const std::string& key, milliseconds minimum,
                                                     milliseconds maximum) {
    auto value = DurationAtLeast(reader, node, path, key, minimum);
    if (value && *value > maximum) {
      reader.Error(node, path + "." + key,
                   key + " " + FormatDuration(*value) + " is over the " + FormatDuration(maximum) +
                       " maximum");
      return std::nullopt;
    }
    return value;
  }

  // min_interval and max_interval of `node`, which has at least one of them.
  static std::optional<std::pair<milliseconds, milliseconds>> ReadIntervalRange(
      YamlReader& reader, const YAML::Node& node, const std::string& path) {
    const YAML::Node& min_node = node["min_interval"];
    const YAML::Node& max_node = node["max_interval"];
    if (!min_node || !max_node) {
      std::string key = min_node ? "min_interval" : "max_interval";
      std::string other = min_node ? "max_interval" : "min_interval";
      reader.Error(min_node ? min_node : max_node, path + "." + key,
                   key + " needs " + other + " too: set both for an adaptive interval, or neither");
      return std::nullopt;
    }
    auto low = DurationAtLeast(reader, min_node, path, "min_interval", kMinInterval);
    auto high = DurationAtLeast(reader, max_node, path, "max_interval", kMinInterval);
    if (!low || !high) return std::nullopt;
    if (*low > *high) {
      reader.Error(min_node, path + ".min_interval",
                   "min_interval " + FormatDuration(*low) + " is longer than max_interval " +
                       FormatDuration(*high));
      return std::nullopt;
    }
    return std::pair{*low, *high};
  }

  // `true`, `false` or a list of CIDR networks.
  static std::optional<core::NetworkAllowance> ReadNetworkAllowance(YamlReader& reader,
                                                                    const YAML::Node& node,
                                                                    const std::string& path) {
    core::NetworkAllowance allowance;
    const std::string expected = "expected true, false or a list of networks";
    if (node.IsSequence()) {
      bool ok = true;
      for (std::size_t i = 0; i < node.size(); ++i) {
        std::string entry_path = path + "[" + std::to_string(i) + "]";
        auto text = reader.String(node[i], entry_path);
        if (!text) {
          ok = false;
          continue;
        }
        std::string error;
        if (!core::ParseCidr(*text, &error)) {
          reader.Error(node[i], entry_path,
                       "invalid network '" + *text + "'" + (error.empty() ? "" : ": " + error) +
                           " (write a CIDR such as 10.0.0.0/8 or fd00::/8, or one address)");
          ok = false;
          continue;
        }
        allowance.cidrs.push_back(std::move(*text));
      }
      if (!ok) return std::nullopt;
      return allowance;
    }
    if (!node.IsScalar()) {
      reader.Error(node, path, expected + ", got " + std::string(Describe(node)));
      return std::nullopt;
    }
    auto text = reader.String(node, path);
    if (!text) return std::nullopt;
    if (*text == "true" || *text == "false") {
      allowance.all_private = *text == "true";
      return allowance;
    }
    if (core::ParseCidr(*text)) {
      reader.Error(
          node, path,
          expected + ", got '" + *text + "' (write one network as a list: [" + *text + "])");
    } else {
      reader.Error(node, path, expected + " such as [10.0.0.0/8, fd00::/8], got '" + *text + "'");
    }
    return std::nullopt;
  }

  SourceSettings ReadSettings(YamlReader& reader, const YAML::Node& node, const std::string& path) {
    SourceSettings s;
    if (node["kind"]) {
      s.kind =
          reader.EnumValue<core::SourceKind>(node["kind"], path + ".kind", core::kSourceKindNames);
    }
    if (node["enabled"]) s.enabled = reader.Bool(node["enabled"], path + ".enabled");
    if (node["interval"]) {
      s.interval = DurationAtLeast(reader, node["interval"], path, "interval", kMinInterval);
    }
    if (node["min_interval"] || node["max_interval"]) {
      s.interval_range = ReadIntervalRange(reader, node, path);
    }
    if (node["max_backoff"]) {
      s.max_backoff =
          DurationAtLeast(reader, node["max_backoff"], path, "max_backoff", kMinInterval);
    }
    if (node["respect_cache"]) {
      s.respect_cache = reader.Bool(node["respect_cache"], path + ".respect_cache");
    }
    if (node["timeout"]) {
      s.timeout = DurationAtLeast(reader, node["timeout"], path, "timeout", kMinTimeout);
    }
    if (node["connect_timeout"]) {
      s.connect_timeout = DurationAtLeast(reader, node["connect_timeout"], path, "connect_timeout",
                                          kMinConnectTimeout);
    }
    if (node["max_body"]) {
      s.max_body = reader.Size(node["max_body"], path + ".max_body");
      if (s.max_body && (*s.max_body < kMinBody || *s.max_body > kMaxBody)) {
        reader.Error(node["max_body"], path + ".max_body",
                     FormatSize(*s.max_body) + " is outside the allowed 1KiB to 1GiB");
        s.max_body.reset();
      }
    }
    if (node["user_agent"]) {
      s.user_agent = reader.String(node["user_agent"], path + ".user_agent");
      if (s.user_agent && (s.user_agent->empty() || HasControlBreak(*s.user_agent))) {
        reader.Error(node["user_agent"], path + ".user_agent",
                     "must be non-empty and must not contain CR, LF or NUL");
        s.user_agent.reset();
      }
    }
    if (node["headers"]) s.headers = ReadHeaders(reader, node["headers"], path + ".headers");
    if (node["tls_verify"]) {
      s.tls_verify = reader.Bool(node["tls_verify"], path + ".tls_verify");
      s.tls_verify_node = node["tls_verify"];
    }
    if (node["ca_file"]) {
      const YAML::Node& at = node["ca_file"];
      if (auto name = reader.String(at, path + ".ca_file")) {
        if (name->empty()) {
          reader.Error(at, path + ".ca_file", "must not be empty");
        } else if (std::filesystem::path resolved = reader.Resolve(*name);
                   !ReadWholeFile(resolved)) {
          // Checked now so a missing bundle fails `newsmon check`, not the first poll.
          reader.Error(at, path + ".ca_file",
                       "cannot read CA file '" + resolved.string() + "': " + ErrnoText());
        } else {
          s.ca_file = resolved.string();
        }
      }
    }
    if (node["proxy"]) {
      if (auto text = reader.String(node["proxy"], path + ".proxy")) {
        if (*text == "none" || *text == "direct") {
          s.proxy = "";
        } else if (auto problem = ProxyUrlProblem(*text)) {
          reader.Error(node["proxy"], path + ".proxy",
                       "invalid proxy '" + RedactUserinfo(*text) + "': " + *problem);
        } else {
          s.proxy = NormalizedProxy(*text);
        }
      }
    }
    if (node["allow_private_networks"]) {
      s.allow_private_networks = ReadNetworkAllowance(reader, node["allow_private_networks"],
                                                      path + ".allow_private_networks");
    }
    if (node["backfill"]) s.backfill = reader.Bool(node["backfill"], path + ".backfill");
    if (node["max_item_age"]) {
      const YAML::Node& at = node["max_item_age"];
      s.max_item_age = reader.Duration(at, path + ".max_item_age");
      if (s.max_item_age && *s.max_item_age < kMinItemAge) {
        reader.Error(at, path + ".max_item_age",
                     "max_item_age " + FormatDuration(*s.max_item_age) + " is under the " +
                         FormatDuration(kMinItemAge) +
                         " minimum (for no age limit, write a long one such as 3650d)");
        s.max_item_age.reset();
      }
    }
    if (node["html"]) {
      s.html_node = node["html"];
      if (reader.ExpectMap(node["html"], path + ".html", kHtmlKeys)) {
        for (const auto& entry : node["html"]) {
          const std::string& key = entry.first.Scalar();
          // ExpectMap has reported unknown keys already.
          if (!IsOneOf(key, kHtmlKeys)) continue;
          std::string key_path = path + ".html." + key;
          auto value = reader.String(entry.second, key_path);
          if (!value) continue;
          if (key == "timezone" && !core::IsKnownTimeZone(*value)) {
            reader.Error(entry.second, key_path,
                         "unknown time zone '" + *value + "' (use an IANA name like Asia/Baku)");
            continue;
          }
          s.html.emplace_back(key, std::move(*value));
        }
      }
    }
    return s;
  }

  // A source's own settings over the defaults over the built-in defaults.
  core::Source Merge(const SourceSettings& own) const {
    core::Source source;
    source.kind = own.kind.value_or(defaults_.kind.value_or(source.kind));
    source.enabled = own.enabled.value_or(defaults_.enabled.value_or(source.enabled));
    source.interval = own.interval.value_or(defaults_.interval.value_or(source.interval));
    if (auto range = own.interval_range ? own.interval_range : defaults_.interval_range) {
      source.min_interval = range->first;
      source.max_interval = range->second;
      // The built-in interval moves into the range; an interval the user set is checked
      // against it instead (ReadSource).
      if (!own.interval && !defaults_.interval) {
        source.interval = std::clamp(source.interval, range->first, range->second);
      }
    }
    // Unset, the built-in backoff limit grows to the longest interval the source may have.
    source.max_backoff = own.max_backoff.value_or(defaults_.max_backoff.value_or(std::max(
        {source.max_backoff, source.interval, source.max_interval.value_or(source.interval)})));
    source.respect_cache =
        own.respect_cache.value_or(defaults_.respect_cache.value_or(source.respect_cache));
    // An unset timeout is the built-in one, shortened to fit a shorter interval; a timeout
    // the user set is checked against the interval instead. Likewise for connect_timeout
    // within timeout.
    source.timeout =
        own.timeout.value_or(defaults_.timeout.value_or(std::min(source.timeout, source.interval)));
    source.connect_timeout = own.connect_timeout.value_or(
        defaults_.connect_timeout.value_or(std::min(source.connect_timeout, source.timeout)));
    source.max_body = own.max_body.value_or(defaults_.max_body.value_or(source.max_body));
    source.user_agent = own.user_agent.value_or(defaults_.user_agent.value_or(source.user_agent));
    source.tls_verify = own.tls_verify.value_or(defaults_.tls_verify.value_or(source.tls_verify));
    source.ca_file = own.ca_file.value_or(defaults_.ca_file.value_or(source.ca_file));
    source.allow_private_networks = own.allow_private_networks.value_or(
        defaults_.allow_private_networks.value_or(source.allow_private_networks));
    source.backfill = own.backfill.value_or(defaults_.backfill.value_or(source.backfill));
    source.max_item_age =
        own.max_item_age.value_or(defaults_.max_item_age.value_or(source.max_item_age));
    source.headers = defaults_.headers;
    for (const auto& header : own.headers) {
      auto same = std::find_if(source.headers.begin(), source.headers.end(), [&](const auto& h) {
        return Lower(h.first) == Lower(header.first);
      });
      if (same != source.headers.end()) {
        same->second = header.second;
      } else {
        source.headers.push_back(header);
      }
    }
    if (source.kind == core::SourceKind::kHtml) {
      core::HtmlSelectors html;
      std::map<std::string_view, std::string*> fields = {
          {"item", &html.item},        {"title", &html.title},
          {"link", &html.link},        {"date", &html.date},
          {"summary", &html.summary},  {"date_format", &html.date_format},
          {"timezone", &html.timezone}};
      for (const auto* level : {&defaults_.html, &own.html}) {
        for (const auto& [key, value] : *level) *fields.at(key) = value;
      }
      source.html = html;
    }
    return source;
  }

  void ReadSource(YamlReader& reader, const YAML::Node& node, const std::string& path,
                  std::vector<core::Source>& sources) {
    if (!reader.ExpectMap(node, path, SourceKeys())) return;
    SourceSettings own = ReadSettings(reader, node, path);
    core::Source source = Merge(own);
    source.origin = reader.Origin(node);

    if (!node["name"]) {
      reader.Error(node, path, "missing required key 'name'");
    } else if (auto name = reader.String(node["name"], path + ".name")) {
      if (!IsValidName(*name)) {
        reader.Error(node["name"], path + ".name",
                     "invalid name '" + *name +
                         "' (letters, digits, '_', '.', '-'; starting with a letter or digit; "
                         "at most 64 characters)");
      } else if (auto [it, inserted] = source_origins_.emplace(*name, source.origin); !inserted) {
        reader.Error(node["name"], path + ".name",
                     "duplicate source name '" + *name + "' (first defined at " + it->second + ")");
      }
      source.name = *name;
    }
    bool url_ok = false;
    if (!node["url"]) {
      reader.Error(node, path, "missing required key 'url'");
    } else if (auto url = reader.String(node["url"], path + ".url")) {
      if (auto problem = core::HttpUrlProblem(*url)) {
        reader.Error(node["url"], path + ".url", "invalid URL '" + *url + "': " + *problem);
      } else {
        url_ok = true;
      }
      source.url = *url;
    }
    if (source.min_interval &&
        (source.interval < *source.min_interval || source.interval > *source.max_interval)) {
      reader.Error(node, path,
                   "interval " + FormatDuration(source.interval) + " is not between min_interval " +
                       FormatDuration(*source.min_interval) + " and max_interval " +
                       FormatDuration(*source.max_interval));
    }
    if (source.max_backoff < source.interval) {
      reader.Error(node, path,
                   "max_backoff " + FormatDuration(source.max_backoff) +
                       " is shorter than interval " + FormatDuration(source.interval));
    }
    if (source.timeout > source.interval) {
      reader.Error(node, path,
                   "timeout " + FormatDuration(source.timeout) + " is longer than interval " +
                       FormatDuration(source.interval));
    }
    if (source.connect_timeout > source.timeout) {
      reader.Error(node, path,
                   "connect_timeout " + FormatDuration(source.connect_timeout) +
                       " is longer than timeout " + FormatDuration(source.timeout));
    }
    if (!source.tls_verify) {
      // Where it was set, when in this source; the defaults may live in another file.
      const YAML::Node& at = own.tls_verify ? *own.tls_verify_node : node;
      reader.Warning(at, path + ".tls_verify",
                     "certificate checks are off for source '" + source.name +
                         "': anyone on the network path can impersonate it" +
                         (own.tls_verify ? "" : " (tls_verify: false in defaults)"));
    }
    if (own.proxy) {
      source.proxy = *own.proxy;
    } else if (defaults_.proxy) {
      source.proxy = *defaults_.proxy;
    } else if (url_ok) {
      source.proxy = ProxyFromEnvironment(reader, node, path, source.url);
    }
    if (source.kind == core::SourceKind::kHtml) {
      if (source.html->item.empty() || source.html->title.empty()) {
        reader.Error(own.html_node.value_or(node), path + ".html",
                     "kind html needs an html block with at least 'item' and 'title' selectors");
      }
    } else if (own.html_node) {
      reader.Error(
          *own.html_node, path + ".html",
          "an html block is only used with kind: html (this source has kind: " +
              std::string(core::NameOf<core::SourceKind>(core::kSourceKindNames, source.kind)) +
              ")");
    }
    sources.push_back(std::move(source));
  }

  // The first of `names` set to a non-empty value in the environment: name and value.
  std::optional<std::pair<std::string, std::string>> FirstSet(
      std::initializer_list<const char*> names) const {
    if (!env_) return std::nullopt;
    for (const char* name : names) {
      if (auto value = env_(name); value && !value->empty()) return std::pair{name, *value};
    }
    return std::nullopt;
  }

  // The proxy the environment gives a source with no `proxy:` setting, as curl and Go do:
  // HTTPS_PROXY for https URLs, HTTP_PROXY for http ones (upper case first, then lower),
  // unless NO_PROXY exempts the host. "" = direct. A bad variable is reported once, at the
  // first source that would use it.
  std::string ProxyFromEnvironment(YamlReader& reader, const YAML::Node& node,
                                   const std::string& path, const std::string& url) {
    bool https = Lower(url.substr(0, url.find(':'))) == "https";
    auto proxy =
        https ? FirstSet({"HTTPS_PROXY", "https_proxy"}) : FirstSet({"HTTP_PROXY", "http_proxy"});
    if (!proxy) return "";
    if (auto no_proxy = FirstSet({"NO_PROXY", "no_proxy"});
        no_proxy && NoProxyMatches(no_proxy->second, UrlHost(url))) {
      return "";
    }
    const auto& [variable, value] = *proxy;
    if (auto problem = ProxyUrlProblem(value)) {
      if (reported_variables_.insert(variable).second) {
        reader.Error(node, path + ".proxy",
                     "invalid proxy in environment variable " + variable + " ('" +
                         RedactUserinfo(value) + "'): " + *problem +
                         " (fix the variable, or set proxy: in the config)");
      }
      return "";
    }
    return NormalizedProxy(value);
  }

  void ReadSources(YamlReader& reader, const YAML::Node& node, const std::string& path,
                   std::vector<core::Source>& sources) {
    if (!node || !reader.ExpectList(node, path)) return;
    for (std::size_t i = 0; i < node.size(); ++i) {
      ReadSource(reader, node[i], path + "[" + std::to_string(i) + "]", sources);
    }
  }

  void ReadIncluded(const std::filesystem::path& file, std::vector<core::Source>& sources) {
    YamlReader reader(file, env_, out_);
    auto parsed = reader.ReadMapFile("included file", kIncludeKeys);
    if (!parsed) return;
    // Read through a const reference: yaml-cpp's non-const operator[] inserts keys.
    const YAML::Node& root = *parsed;
    ReadSources(reader, root["sources"], "sources", sources);
  }

  void ReadSink(YamlReader& reader, const YAML::Node& node, const std::string& path,
                std::vector<core::SinkSpec>& sinks) {
    if (!reader.ExpectMap(node, path, kSinkKeys)) return;
    core::SinkSpec sink;
    sink.origin = reader.Origin(node);
    if (!node["name"]) {
      reader.Error(node, path, "missing required key 'name'");
    } else if (auto name = reader.String(node["name"], path + ".name")) {
      if (!IsValidName(*name)) {
        reader.Error(node["name"], path + ".name", "invalid name '" + *name + "'");
      } else if (auto [it, inserted] = sink_origins_.emplace(*name, sink.origin); !inserted) {
        reader.Error(node["name"], path + ".name",
                     "duplicate sink name '" + *name + "' (first defined at " + it->second + ")");
      }
      sink.name = *name;
    }
    if (!node["kind"]) {
      reader.Error(node, path, "missing required key 'kind'");
      return;
    }
    auto kind =
        reader.EnumValue<core::SinkKind>(node["kind"], path + ".kind", core::kSinkKindNames);
    if (!kind) return;
    sink.kind = *kind;
    std::string kind_name(core::NameOf<core::SinkKind>(core::kSinkKindNames, sink.kind));
    core::DeliveryDefaults delivery = core::DefaultsFor(sink.kind);
    sink.concurrency = delivery.concurrency;
    sink.rate = delivery.rate;
    sink.burst = delivery.burst;

    // Which optional keys each kind uses; anything else is an error, so a key meant for
    // another kind does not silently do nothing.
    std::vector<std::string_view> used;
    switch (sink.kind) {
      case core::SinkKind::kLog:
        break;
      case core::SinkKind::kWebhook:
        used = {"url", "url_file", "secret", "secret_file", "headers"};
        break;
      case core::SinkKind::kSlack:
      case core::SinkKind::kDiscord:
      case core::SinkKind::kTeams:
        used = {"url", "url_file"};
        break;
      case core::SinkKind::kTelegram:
        used = {"url", "url_file", "secret", "secret_file", "chat_id"};
        break;
      case core::SinkKind::kNtfy:
        used = {"url", "url_file", "secret", "secret_file"};
        break;
      case core::SinkKind::kAlertmanager:
        used = {"url", "url_file", "headers", "labels"};
        break;
    }
    if (sink.kind != core::SinkKind::kLog) {
      used.insert(used.end(), std::begin(kDeliveryKeys), std::end(kDeliveryKeys));
    }
    if (core::UsesTemplate(sink.kind)) used.push_back("template");
    for (const auto& entry : node) {
      const std::string& key = entry.first.Scalar();
      if (key == "name" || key == "kind") continue;
      if (!IsOneOf(key, used) && IsOneOf(key, kSinkKeys)) {
        reader.Error(entry.first, path + "." + key, "not used by sinks of kind " + kind_name);
      }
    }
    if (sink.kind == core::SinkKind::kLog) {
      sinks.push_back(std::move(sink));
      return;
    }

    if (auto url = reader.StringOrFile(node, path, "url")) {
      if (auto problem = core::HttpUrlProblem(*url)) {
        // The URL may come from a secret file: do not echo it.
        reader.Error(node["url"] ? node["url"] : node["url_file"], path + ".url",
                     "invalid URL: " + *problem);
      }
      sink.url = *url;
    } else if (sink.kind == core::SinkKind::kTelegram) {
      sink.url = kTelegramApi;
    } else if (!node["url"] && !node["url_file"]) {
      reader.Error(node, path, "sinks of kind " + kind_name + " need 'url' or 'url_file'");
    }
    if (auto secret = reader.StringOrFile(node, path, "secret")) {
      sink.secret = *secret;
      const YAML::Node& at = node["secret"] ? node["secret"] : node["secret_file"];
      if (sink.kind == core::SinkKind::kWebhook) {
        auto length =
            secret->starts_with("whsec_") ? Base64Length(secret->substr(6)) : std::nullopt;
        if (!length || *length < 24 || *length > 64) {
          reader.Error(at, path + ".secret",
                       "a webhook secret is 'whsec_' followed by 24 to 64 bytes in base64 "
                       "(generate one with: echo whsec_$(head -c 32 /dev/urandom | base64))");
        }
      }
    } else if (sink.kind == core::SinkKind::kTelegram && !node["secret"] && !node["secret_file"]) {
      reader.Error(node, path, "telegram sinks need the bot token in 'secret' or 'secret_file'");
    }
    if (sink.kind == core::SinkKind::kTelegram) {
      if (!node["chat_id"]) {
        reader.Error(node, path, "telegram sinks need 'chat_id'");
      } else if (auto chat = reader.String(node["chat_id"], path + ".chat_id")) {
        sink.chat_id = *chat;
      }
    }
    if (node["headers"]) sink.headers = ReadHeaders(reader, node["headers"], path + ".headers");
    if (node["labels"]) {
      if (auto labels = reader.StringMap(node["labels"], path + ".labels")) {
        for (auto& [key, value] : *labels) sink.labels.emplace(key, std::move(value));
      }
    }
    if (node["template"] && core::UsesTemplate(sink.kind)) {
      ReadTemplate(reader, node["template"], path + ".template", sink.message_template);
    }
    ReadDelivery(reader, node, path, sink);
    sinks.push_back(std::move(sink));
  }

  static void ReadTemplate(YamlReader& reader, const YAML::Node& node, const std::string& path,
                           std::string& message_template) {
    auto text = reader.String(node, path);
    if (!text) return;
    if (text->empty()) {
      reader.Error(node, path,
                   "must not be empty (leave 'template' out for the default, \"" +
                       std::string(core::kDefaultTemplate) + "\")");
    } else if (auto problem = TemplateFieldProblem(*text)) {
      reader.Error(node, path, *problem);
    } else if (auto problem = core::TemplateProblem(*text)) {
      reader.Error(node, path, *problem);
    } else {
      message_template = std::move(*text);
    }
  }

  // The delivery settings of a sink other than `log`, over the kind's defaults in `sink`.
  static void ReadDelivery(YamlReader& reader, const YAML::Node& node, const std::string& path,
                           core::SinkSpec& sink) {
    if (node["concurrency"]) {
      if (auto value = IntegerBetween(reader, node["concurrency"], path, "concurrency", 1,
                                      kMaxSinkConcurrency)) {
        sink.concurrency = static_cast<int>(*value);
      }
    }
    if (node["rate"]) {
      if (auto value = ReadRate(reader, node["rate"], path + ".rate")) sink.rate = *value;
    }
    if (node["burst"]) {
      if (auto value = IntegerBetween(reader, node["burst"], path, "burst", 1, kMaxSinkBurst)) {
        sink.burst = static_cast<int>(*value);
      }
    }
    if (node["timeout"]) {
      if (auto value = DurationBetween(reader, node["timeout"], path, "timeout", kMinSinkTimeout,
                                       kMaxSinkTimeout)) {
        sink.timeout = *value;
      }
    }
    bool retry_ok = true;  // false when retry_backoff is set but invalid
    if (node["retry_backoff"]) {
      auto value = DurationBetween(reader, node["retry_backoff"], path, "retry_backoff",
                                   kMinRetryBackoff, kMaxRetryBackoff);
      if (value) sink.retry_backoff = *value;
      retry_ok = value.has_value();
    }
    if (node["max_backoff"]) {
      const YAML::Node& at = node["max_backoff"];
      auto value =
          DurationBetween(reader, at, path, "max_backoff", kMinRetryBackoff, kMaxSinkBackoff);
      if (value && retry_ok && *value < sink.retry_backoff) {
        reader.Error(at, path + ".max_backoff",
                     "max_backoff " + FormatDuration(*value) + " is shorter than retry_backoff " +
                         FormatDuration(sink.retry_backoff));
      } else if (value) {
        sink.max_backoff = *value;
      }
    } else {
      // Unset, the built-in limit grows to a longer first wait.
      sink.max_backoff = std::max(sink.max_backoff, sink.retry_backoff);
    }
    if (node["max_age"]) {
      if (auto value = DurationBetween(reader, node["max_age"], path, "max_age", kMinAlertAge,
                                       kMaxAlertAge)) {
        sink.max_age = *value;
      }
    }
  }

  // A sink's `rate` (ParseRate), more than 0 and at most kMaxSinkRate per second.
  static std::optional<double> ReadRate(YamlReader& reader, const YAML::Node& node,
                                        const std::string& path) {
    if (!node.IsScalar()) {
      reader.Error(node, path, "expected a rate, got " + std::string(Describe(node)));
      return std::nullopt;
    }
    auto text = reader.String(node, path);
    if (!text) return std::nullopt;
    auto rate = ParseRate(*text);
    if (!rate) {
      reader.Error(node, path,
                   "invalid rate '" + *text +
                       "' (write requests per second, such as 2 or 0.5, or a count per "
                       "duration: 30/min, 1/5s, 100/h)");
      return std::nullopt;
    }
    // "30/min" is shown with its per-second value, which the limits are written in.
    std::string per_second = FormatNumber(*rate) + "/s";
    std::string shown = text->find('/') == std::string::npos || *text == per_second
                            ? *text
                            : *text + " (" + per_second + ")";
    if (*rate <= 0) {
      reader.Error(node, path, "rate " + shown + " must be more than 0");
      return std::nullopt;
    }
    if (*rate > kMaxSinkRate) {
      reader.Error(node, path,
                   "rate " + shown + " is over the " + FormatNumber(kMaxSinkRate) + "/s maximum");
      return std::nullopt;
    }
    return rate;
  }

  void ReadSinks(YamlReader& reader, const YAML::Node& node, std::vector<core::SinkSpec>& sinks) {
    if (node && reader.ExpectList(node, "sinks")) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        ReadSink(reader, node[i], "sinks[" + std::to_string(i) + "]", sinks);
      }
    }
    if (sinks.empty() && !(node && node.size() > 0)) {
      core::SinkSpec log;
      log.name = "log";
      log.kind = core::SinkKind::kLog;
      log.origin = "built-in";
      sinks.push_back(std::move(log));
    }
  }

  const Environment& env_;
  std::vector<core::Diagnostic>& out_;
  SourceSettings defaults_;
  std::map<std::string, std::string> source_origins_;  // name -> "file:line", across files
  std::map<std::string, std::string> sink_origins_;
  std::set<std::string> reported_variables_;  // bad proxy variables already reported
};

}  // namespace

std::size_t EnabledSourceCount(const Config& config) {
  return static_cast<std::size_t>(std::count_if(config.sources.begin(), config.sources.end(),
                                                [](const auto& s) { return s.enabled; }));
}

Environment ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

LoadResult LoadConfigFromString(const std::string& text, const std::filesystem::path& file,
                                const Environment& env) {
  LoadResult result;
  Loader loader(env, result.diagnostics);
  result.config = loader.Load(text, file);
  auto rules = LoadRuleFiles(result.config.rule_files);
  result.diagnostics.insert(result.diagnostics.end(), rules.diagnostics.begin(),
                            rules.diagnostics.end());
  result.config.rules = std::move(rules.rules);
  CheckRuleReferences(result.config, result.config.rules, result.diagnostics);
  return result;
}

LoadResult LoadConfig(const std::filesystem::path& file, const Environment& env) {
  auto text = ReadWholeFile(file);
  if (!text) {
    LoadResult result;
    result.config.file = file;
    result.diagnostics.push_back(FileError(file, "cannot read the config file: " + ErrnoText()));
    return result;
  }
  return LoadConfigFromString(*text, file, env);
}

}  // namespace newsmon::config
