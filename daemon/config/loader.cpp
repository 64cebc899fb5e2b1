// Turns YAML documents into a validated Config. The reading helpers live in yaml_reader;
// this file knows the config language: which keys exist, what they mean, how they combine.
#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/config/text.h"
#include "daemon/config/units.h"
#include "daemon/config/yaml_reader.h"
#include "daemon/core/time.h"
#include "daemon/core/url.h"

namespace newsmon::config {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::string_view kTopKeys[] = {"state_dir", "listen", "log",     "defaults",
                                         "rules",     "sinks",  "include", "sources"};
constexpr std::string_view kLogKeys[] = {"level", "format"};
constexpr std::string_view kIncludeKeys[] = {"sources"};
// Per-source settings: valid in `defaults` and in each source, where the source's own wins.
constexpr std::string_view kSettingKeys[] = {"kind",     "enabled",    "interval", "timeout",
                                             "max_body", "user_agent", "headers",  "html"};
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
constexpr std::string_view kSinkKeys[] = {"name",        "kind",    "url",     "url_file", "secret",
                                          "secret_file", "chat_id", "headers", "labels"};

constexpr milliseconds kMinInterval = 10s;
constexpr milliseconds kMinTimeout = 1s;
constexpr std::uint64_t kMinBody = 1024;
constexpr std::uint64_t kMaxBody = 1ULL << 30;
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

// Settings given in `defaults` or in a source; unset fields fall through to the next level.
struct SourceSettings {
  std::optional<core::SourceKind> kind;
  std::optional<bool> enabled;
  std::optional<milliseconds> interval;
  std::optional<milliseconds> timeout;
  std::optional<std::uint64_t> max_body;
  std::optional<std::string> user_agent;
  std::vector<core::Header> headers;
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
    if (doc["log"]) ReadLog(reader, doc["log"], config.log);
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
    if (node["timeout"]) {
      s.timeout = DurationAtLeast(reader, node["timeout"], path, "timeout", kMinTimeout);
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
    // An unset timeout is the built-in one, shortened to fit a shorter interval; a timeout
    // the user set is checked against the interval instead.
    source.timeout =
        own.timeout.value_or(defaults_.timeout.value_or(std::min(source.timeout, source.interval)));
    source.max_body = own.max_body.value_or(defaults_.max_body.value_or(source.max_body));
    source.user_agent = own.user_agent.value_or(defaults_.user_agent.value_or(source.user_agent));
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
    if (!node["url"]) {
      reader.Error(node, path, "missing required key 'url'");
    } else if (auto url = reader.String(node["url"], path + ".url")) {
      if (auto problem = core::HttpUrlProblem(*url)) {
        reader.Error(node["url"], path + ".url", "invalid URL '" + *url + "': " + *problem);
      }
      source.url = *url;
    }
    if (source.timeout > source.interval) {
      reader.Error(node, path,
                   "timeout " + FormatDuration(source.timeout) + " is longer than interval " +
                       FormatDuration(source.interval));
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
    sinks.push_back(std::move(sink));
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
