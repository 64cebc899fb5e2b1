#include "daemon/config/yaml_reader.h"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "daemon/config/units.h"

namespace newsmon::config {
namespace {

bool HasWildcard(const std::string& pattern) {
  return pattern.find_first_of("*?[") != std::string::npos;
}

}  // namespace

std::optional<std::string> ReadWholeFile(const std::filesystem::path& file) {
  // A directory opens fine and then fails every read, which libstdc++'s filebuf reports by
  // throwing (whatever the stream's exception mask): refuse it first, catch the rest.
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    errno = EISDIR;  // what callers report
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return std::nullopt;
  }
}

core::Diagnostic FileError(const std::filesystem::path& file, std::string message) {
  return core::Diagnostic{.file = file.string(), .message = std::move(message)};
}

std::string ErrnoText() { return std::strerror(errno); }

std::optional<YAML::Node> ParseYaml(const std::string& text, const std::filesystem::path& file,
                                    std::vector<core::Diagnostic>& out) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    core::Diagnostic d = FileError(file, "invalid YAML: " + e.msg);
    if (e.mark.line >= 0) d.line = e.mark.line + 1;
    if (e.mark.column >= 0) d.column = e.mark.column + 1;
    out.push_back(std::move(d));
    return std::nullopt;
  }
}

std::optional<core::Diagnostic> GlobInto(const std::string& pattern, const std::string& resolved,
                                         std::set<std::filesystem::path>& found) {
  glob_t matches{};
  // No GLOB_ERR: a wildcard under a directory that does not exist is "no match".
  int rc = ::glob(resolved.c_str(), 0, nullptr, &matches);
  std::optional<core::Diagnostic> problem;
  if (rc == 0) {
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) found.insert(matches.gl_pathv[i]);
  } else if (rc == GLOB_NOMATCH && HasWildcard(pattern)) {
    problem = core::Diagnostic{
        .severity = core::Severity::kWarning,
        .message = "'" + pattern + "' matches no file (looked for " + resolved + ")"};
  } else if (rc == GLOB_NOMATCH) {
    problem = core::Diagnostic{.message = "file '" + pattern + "' does not exist (looked for " +
                                          resolved + ")"};
  } else {
    problem = core::Diagnostic{.message = "cannot list '" + resolved + "'"};
  }
  ::globfree(&matches);
  return problem;
}

std::string_view Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "empty";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "a string";
}

YamlReader::YamlReader(std::filesystem::path file, const Environment& env,
                       std::vector<core::Diagnostic>& out)
    : file_(std::move(file)), env_(env), out_(out) {}

std::string YamlReader::Origin(const YAML::Node& node) const {
  std::string origin = file_.string();
  if (node.IsDefined() && node.Mark().line >= 0) {
    origin += ':' + std::to_string(node.Mark().line + 1);
  }
  return origin;
}

std::filesystem::path YamlReader::Resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal();
  // Absolute, so the daemon does not depend on its working directory later.
  return std::filesystem::absolute(file_.parent_path() / p).lexically_normal();
}

void YamlReader::Report(core::Severity severity, const YAML::Node& at, const std::string& key,
                        std::string message) {
  core::Diagnostic d{
      .severity = severity, .file = file_.string(), .key = key, .message = std::move(message)};
  if (at.IsDefined() && at.Mark().line >= 0) {
    d.line = at.Mark().line + 1;
    d.column = at.Mark().column + 1;
  }
  out_.push_back(std::move(d));
}

void YamlReader::Error(const YAML::Node& at, const std::string& key, std::string message) {
  Report(core::Severity::kError, at, key, std::move(message));
}

void YamlReader::Warning(const YAML::Node& at, const std::string& key, std::string message) {
  Report(core::Severity::kWarning, at, key, std::move(message));
}

void YamlReader::UnknownName(const YAML::Node& at, const std::string& path, std::string_view what,
                             std::string_view name, std::span<const std::string_view> known) {
  std::string message = "unknown " + std::string(what) + " '" + std::string(name) + "'";
  if (auto suggestion = ClosestName(name, known)) {
    message += " (did you mean '" + std::string(*suggestion) + "'?)";
  } else {
    message += " (expected one of:";
    for (std::string_view k : known) message += ' ' + std::string(k);
    message += ')';
  }
  Error(at, path, std::move(message));
}

bool YamlReader::ExpectMap(const YAML::Node& node, const std::string& path,
                           std::span<const std::string_view> allowed) {
  if (!node.IsMap()) {
    Error(node, path, "expected a map of keys, got " + std::string(Describe(node)));
    return false;
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const YAML::Node& key_node = entry.first;
    if (!key_node.IsScalar()) {
      Error(key_node, path, "keys must be plain names, got " + std::string(Describe(key_node)));
      continue;
    }
    const std::string& key = key_node.Scalar();
    std::string key_path = path.empty() ? key : path + "." + key;
    if (!seen.insert(key).second) {
      Error(key_node, key_path, "key appears twice in the same map");
      continue;
    }
    if (!IsOneOf(key, allowed)) {
      UnknownName(key_node, key_path, "key", key, allowed);
    }
  }
  return true;
}

std::optional<YAML::Node> YamlReader::ReadMapFile(std::string_view what,
                                                  std::span<const std::string_view> allowed) {
  auto text = ReadWholeFile(file_);
  if (!text) {
    out_.push_back(FileError(file_, "cannot read " + std::string(what) + ": " + ErrnoText()));
    return std::nullopt;
  }
  auto root = ParseYaml(*text, file_, out_);
  if (!root) return std::nullopt;
  if (!root->IsDefined() || root->IsNull()) {
    Warning(*root, "", std::string(what) + " is empty");
    return std::nullopt;
  }
  if (!ExpectMap(*root, "", allowed)) return std::nullopt;
  return root;
}

bool YamlReader::ExpectList(const YAML::Node& node, const std::string& path) {
  if (!node.IsDefined() || node.IsNull() || node.IsSequence()) return true;
  Error(node, path, "expected a list, got " + std::string(Describe(node)));
  return false;
}

std::optional<std::string> YamlReader::Scalar(const YAML::Node& node, const std::string& path,
                                              std::string_view expected) {
  if (!node.IsScalar()) {
    Error(node, path, "expected " + std::string(expected) + ", got " + std::string(Describe(node)));
    return std::nullopt;
  }
  if (!env_) return node.Scalar();  // a file read literally (rule files)
  std::string error;
  auto expanded = ExpandVariables(node.Scalar(), env_, error);
  if (!expanded) Error(node, path, error);
  return expanded;
}

std::optional<std::string> YamlReader::String(const YAML::Node& node, const std::string& path) {
  return Scalar(node, path, "a string");
}

std::optional<bool> YamlReader::Bool(const YAML::Node& node, const std::string& path) {
  auto text = Scalar(node, path, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  Error(node, path, "expected true or false, got '" + *text + "'");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> YamlReader::Duration(const YAML::Node& node,
                                                              const std::string& path) {
  auto text = Scalar(node, path, "a duration");
  if (!text) return std::nullopt;
  auto value = ParseDuration(*text);
  if (!value) {
    Error(node, path,
          "invalid duration '" + *text + "' (write a number and a unit: 90s, 5m, 1h, 1h30m)");
  }
  return value;
}

std::optional<std::uint64_t> YamlReader::Size(const YAML::Node& node, const std::string& path) {
  auto text = Scalar(node, path, "a size");
  if (!text) return std::nullopt;
  auto value = ParseSize(*text);
  if (!value) {
    Error(node, path, "invalid size '" + *text + "' (write e.g. 512KiB, 10MiB, 1GiB or bytes)");
  }
  return value;
}

std::optional<std::int64_t> YamlReader::Integer(const YAML::Node& node, const std::string& path) {
  auto text = Scalar(node, path, "a whole number");
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  if (begin != end && *begin == '+') ++begin;  // from_chars takes '-' but not '+'
  auto [stop, ec] = std::from_chars(begin, end, value);
  if (begin == end || ec != std::errc() || stop != end) {
    Error(node, path, "expected a whole number, got '" + *text + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<core::Header>> YamlReader::StringMap(const YAML::Node& node,
                                                               const std::string& path) {
  if (!node.IsMap()) {
    Error(node, path, "expected a map of names to values, got " + std::string(Describe(node)));
    return std::nullopt;
  }
  std::vector<core::Header> values;
  bool ok = true;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      Error(entry.first, path, "names must be strings, got " + std::string(Describe(entry.first)));
      ok = false;
      continue;
    }
    const std::string& name = entry.first.Scalar();
    std::string entry_path = path + "." + name;
    if (std::any_of(values.begin(), values.end(), [&](const auto& v) { return v.first == name; })) {
      Error(entry.first, entry_path, "appears twice in the same map");
      ok = false;
      continue;
    }
    auto value = String(entry.second, entry_path);
    if (value) {
      values.emplace_back(name, std::move(*value));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return values;
}

std::optional<std::string> YamlReader::StringOrFile(const YAML::Node& map, const std::string& path,
                                                    const std::string& key) {
  const std::string file_key = key + "_file";
  const YAML::Node direct = map[key];
  const YAML::Node from_file = map[file_key];
  if (direct.IsDefined() && from_file.IsDefined()) {
    Error(from_file, path + "." + file_key,
          "set either '" + key + "' or '" + file_key + "', not both");
    return std::nullopt;
  }
  if (direct.IsDefined()) return String(direct, path + "." + key);
  if (!from_file.IsDefined()) return std::nullopt;
  auto name = String(from_file, path + "." + file_key);
  if (!name) return std::nullopt;
  std::filesystem::path resolved = Resolve(*name);
  auto content = ReadWholeFile(resolved);
  if (!content) {
    Error(from_file, path + "." + file_key, "cannot read '" + resolved.string() + "'");
    return std::nullopt;
  }
  while (!content->empty() && (content->back() == '\n' || content->back() == '\r')) {
    content->pop_back();
  }
  if (content->empty()) {
    Error(from_file, path + "." + file_key, "'" + resolved.string() + "' is empty");
    return std::nullopt;
  }
  return content;
}

std::vector<std::filesystem::path> YamlReader::Glob(const YAML::Node& node,
                                                    const std::string& path) {
  std::vector<std::pair<YAML::Node, std::string>> entries;  // pattern node, key path
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      entries.emplace_back(node[i], path + "[" + std::to_string(i) + "]");
    }
  } else if (node.IsScalar()) {
    entries.emplace_back(node, path);
  } else {
    Error(node, path, "expected a path or a list of paths, got " + std::string(Describe(node)));
  }
  std::set<std::filesystem::path> found;
  for (const auto& [entry, entry_path] : entries) {
    auto pattern = String(entry, entry_path);
    if (!pattern) continue;
    if (auto problem = GlobInto(*pattern, Resolve(*pattern).string(), found)) {
      Report(problem->severity, entry, entry_path, std::move(problem->message));
    }
  }
  return {found.begin(), found.end()};
}

}  // namespace newsmon::config
