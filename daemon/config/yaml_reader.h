// Reads values of one YAML file into C++ types, reporting every problem as a Diagnostic
// located at the node concerned. Internal to the config module.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/config/text.h"
#include "daemon/core/diagnostic.h"
#include "daemon/core/enum_names.h"
#include "daemon/core/source.h"

namespace newsmon::config {

// Not thread-safe; one reader per file being read. Holds references to `env` and `out`,
// which must outlive it. With an empty `env`, strings are read literally (no ${VAR}).
class YamlReader {
 public:
  YamlReader(std::filesystem::path file, const Environment& env,
             std::vector<core::Diagnostic>& out);

  const std::filesystem::path& file() const { return file_; }
  std::string Origin(const YAML::Node& node) const;  // "file:line"

  // `path` as written when absolute, else joined to this file's directory and made
  // absolute.
  std::filesystem::path Resolve(const std::string& path) const;

  void Error(const YAML::Node& at, const std::string& key, std::string message);
  void Warning(const YAML::Node& at, const std::string& key, std::string message);

  // Checks that `node` is a map whose keys are all in `allowed`; reports each unknown key
  // (with a "did you mean") and each repeated key. False when `node` is not a map.
  bool ExpectMap(const YAML::Node& node, const std::string& path,
                 std::span<const std::string_view> allowed);
  // This reader's file as a YAML map whose keys are all in `allowed`, for files that a
  // config names (`what`: "included file", "rule file"). nullopt after reporting why not:
  // unreadable or invalid (errors), empty (a warning).
  std::optional<YAML::Node> ReadMapFile(std::string_view what,
                                        std::span<const std::string_view> allowed);

  // Checks that `node` is a list (a missing or null node counts as an empty list).
  bool ExpectList(const YAML::Node& node, const std::string& path);

  // Typed values. Each reports an error and returns nullopt when the node has the wrong
  // shape or value. Strings have ${VAR} references expanded.
  std::optional<std::string> String(const YAML::Node& node, const std::string& path);
  std::optional<bool> Bool(const YAML::Node& node, const std::string& path);
  std::optional<std::chrono::milliseconds> Duration(const YAML::Node& node,
                                                    const std::string& path);
  std::optional<std::uint64_t> Size(const YAML::Node& node, const std::string& path);
  // A whole number in decimal, optionally signed ("64", "-1"); no range check.
  std::optional<std::int64_t> Integer(const YAML::Node& node, const std::string& path);
  // A map of string to string, in file order.
  std::optional<std::vector<core::Header>> StringMap(const YAML::Node& node,
                                                     const std::string& path);

  // `map[key]` or the contents of the file named by `map[key_file]` (trailing newline
  // removed); both at once is an error. nullopt when neither is set or on error.
  std::optional<std::string> StringOrFile(const YAML::Node& map, const std::string& path,
                                          const std::string& key);

  template <typename Enum>
  std::optional<Enum> EnumValue(const YAML::Node& node, const std::string& path,
                                std::span<const core::EnumName<Enum>> table) {
    auto text = String(node, path);
    if (!text) return std::nullopt;
    if (auto value = core::ParseEnum(table, *text)) return value;
    std::vector<std::string_view> names;
    for (const auto& entry : table) names.push_back(entry.name);
    UnknownName(node, path, "value", *text, names);
    return std::nullopt;
  }

  // Expands the glob or list of globs in `node` (relative to this file) into sorted,
  // unique paths. A plain path that does not exist is an error; a wildcard matching
  // nothing a warning. Each problem points at its own list entry.
  std::vector<std::filesystem::path> Glob(const YAML::Node& node, const std::string& path);

 private:
  void Report(core::Severity severity, const YAML::Node& at, const std::string& key,
              std::string message);
  void UnknownName(const YAML::Node& at, const std::string& path, std::string_view what,
                   std::string_view name, std::span<const std::string_view> known);
  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view expected);

  std::filesystem::path file_;
  const Environment& env_;
  std::vector<core::Diagnostic>& out_;
};

// The whole content of `file`, or nullopt (errno set) when it cannot be read.
std::optional<std::string> ReadWholeFile(const std::filesystem::path& file);

// A diagnostic about a whole file.
core::Diagnostic FileError(const std::filesystem::path& file, std::string message);
// strerror(errno).
std::string ErrnoText();

// The YAML document in `text`, or nullopt after reporting the syntax error with its place.
std::optional<YAML::Node> ParseYaml(const std::string& text, const std::filesystem::path& file,
                                    std::vector<core::Diagnostic>& out);

// Adds the paths matching `resolved` (the absolute form of `pattern`) to `found`. Returns
// the problem to report, if any (severity and message only): a plain path that does not
// exist is an error, a wildcard matching nothing a warning.
std::optional<core::Diagnostic> GlobInto(const std::string& pattern, const std::string& resolved,
                                         std::set<std::filesystem::path>& found);

// The shape of a node in words, for messages: "a map", "a list", "empty", "a string".
std::string_view Describe(const YAML::Node& node);

}  // namespace newsmon::config
