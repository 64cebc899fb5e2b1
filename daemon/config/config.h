// The daemon's configuration: YAML files read once into plain, validated structs.
//
// LoadConfig reads the main file and the files it includes, reports every problem it finds
// (not only the first) with file, line and key, and resolves relative paths against the
// directory of the file that names them. A Config it returns without errors is complete:
// every default applied, every value in range, every secret read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/diagnostic.h"
#include "daemon/core/enum_names.h"
#include "daemon/core/poll.h"
#include "daemon/core/rule.h"
#include "daemon/core/sink.h"
#include "daemon/core/source.h"

namespace newsmon::config {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };
enum class LogFormat { kText, kJson };

inline constexpr core::EnumName<LogLevel> kLogLevelNames[] = {
    {LogLevel::kTrace, "trace"}, {LogLevel::kDebug, "debug"}, {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},   {LogLevel::kError, "error"}, {LogLevel::kCritical, "critical"},
    {LogLevel::kOff, "off"},
};
inline constexpr core::EnumName<LogFormat> kLogFormatNames[] = {
    {LogFormat::kText, "text"},
    {LogFormat::kJson, "json"},
};

struct LogSettings {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;  // text for people, json for log shippers
};

// The admin server's address (metrics, health, read API).
inline constexpr std::uint16_t kDefaultAdminPort = 9787;
struct ListenAddress {
  std::string host = "127.0.0.1";          // an IP literal; loopback only unless set
  std::uint16_t port = kDefaultAdminPort;  // 0 = any free port (tests)
};

// The store (SQLite under state_dir).
struct StoreSettings {
  // A seen item is forgotten once its source has been polled successfully this long without
  // it in the feed (default 90 days, at least 1 day).
  std::chrono::milliseconds seen_retention = std::chrono::hours(24 * 90);
  std::size_t history_limit = 10000;  // matched items kept for the API and CLI (>= 100)
};

struct Config {
  std::filesystem::path file;                            // the main config file, as given
  std::filesystem::path state_dir = "/var/lib/newsmon";  // SQLite state lives here
  ListenAddress listen;
  // Bearer token the admin server requires for /metrics and /api/*, read at load from the
  // file `admin_token_file` names (trailing newline dropped); empty = none (default). A
  // secret: never logged or printed.
  std::string admin_token;
  LogSettings log;
  std::vector<std::filesystem::path> rule_files;  // resolved from `rules:` globs, sorted
  std::vector<core::RuleSpec> rules;              // read from rule_files, in file order
  std::vector<core::SinkSpec> sinks;              // a single `log` sink when none is set
  std::vector<core::Source> sources;              // `sources:` then included files, in order
  core::PollLimits polling;                       // concurrency limits of the poll loop
  StoreSettings store;                            // `store:`
};

// How many of the configured sources are enabled.
std::size_t EnabledSourceCount(const Config& config);

// Looks up an environment variable for `${VAR}` expansion; nullopt when unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
Environment ProcessEnvironment();

struct LoadResult {
  Config config;                              // complete only when ok()
  std::vector<core::Diagnostic> diagnostics;  // errors and warnings, in reading order
  bool ok() const { return !core::HasErrors(diagnostics); }
};

// Reads `file` and everything it includes. Never throws for bad input: every problem is a
// diagnostic. Thread-compatible; reads files and the environment, nothing else.
LoadResult LoadConfig(const std::filesystem::path& file, const Environment& env);

// As LoadConfig, with the main file's text given; `file` names it in diagnostics and
// anchors its relative paths. For tests and fuzzing.
LoadResult LoadConfigFromString(const std::string& text, const std::filesystem::path& file,
                                const Environment& env);

struct RuleFilesResult {
  std::vector<core::RuleSpec> rules;          // complete only when ok()
  std::vector<core::Diagnostic> diagnostics;  // errors and warnings, in reading order
  bool ok() const { return !core::HasErrors(diagnostics); }
};

// Reads rule files, each a YAML map with one key, `rules:`, a list of rules (README, "Rules").
// Checks their shape: known keys, types, field and severity names, unique names across all
// files, at least one keyword or pattern. Strings are read literally (no ${VAR}: regexes use
// '$'). Regexes and phrases are checked when the rules are compiled (rules::Build).
RuleFilesResult LoadRuleFiles(std::span<const std::filesystem::path> files);

// Reports every rule's `sources` and `notify` entry that names no source or sink of `config`.
void CheckRuleReferences(const Config& config, std::span<const core::RuleSpec> rules,
                         std::vector<core::Diagnostic>& out);

// Expands glob patterns given on the command line, relative to the current directory, into
// sorted, unique paths; problems as for the config's `rules:` globs.
std::vector<std::filesystem::path> ExpandGlobs(std::span<const std::string> patterns,
                                               std::vector<core::Diagnostic>& out);

}  // namespace newsmon::config
