// Reads rule files into core::RuleSpec. The rule language's shape lives here; what the
// phrases and regexes mean is the rules module's business.
#include <algorithm>
#include <map>

#include "daemon/config/config.h"
#include "daemon/config/text.h"
#include "daemon/config/yaml_reader.h"

namespace newsmon::config {
namespace {

constexpr std::string_view kFileKeys[] = {"rules"};
constexpr std::string_view kRuleKeys[] = {
    "name",   "description", "keywords", "patterns", "all",    "none", "case_sensitive",
    "fields", "sources",     "severity", "labels",   "notify", "tests"};
constexpr std::string_view kTestKeys[] = {"match", "no_match"};

int LineOf(const YAML::Node& node) {
  return node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
}

// Prometheus and Alertmanager label names.
bool IsLabelName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// "rule 'x': fields" once the rule has a name, "rules[2].fields" before.
std::string Key(const std::string& rule_path, std::string_view key) {
  return rule_path + (rule_path.starts_with("rule '") ? ": " : ".") + std::string(key);
}

class RuleFileReader {
 public:
  RuleFileReader(std::vector<core::RuleSpec>& rules, std::vector<core::Diagnostic>& out)
      : rules_(rules), out_(out) {}

  void Read(const std::filesystem::path& file) {
    YamlReader reader(file, literal_, out_);
    auto parsed = reader.ReadMapFile("rule file", kFileKeys);
    if (!parsed) return;
    const YAML::Node& root = *parsed;
    const YAML::Node& list = root["rules"];
    if (!list || list.IsNull() || (list.IsSequence() && list.size() == 0)) {
      reader.Warning(root, "rules", "no rules in this file");
      return;
    }
    if (!reader.ExpectList(list, "rules")) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
      ReadRule(reader, list[i], "rules[" + std::to_string(i) + "]");
    }
  }

 private:
  void ReadRule(YamlReader& reader, const YAML::Node& node, const std::string& index_path) {
    if (!reader.ExpectMap(node, index_path, kRuleKeys)) return;
    core::RuleSpec rule;
    rule.file = reader.file().string();
    rule.line = LineOf(node);
    std::size_t errors_before = core::CountErrors(out_);

    std::string path = index_path;
    if (!node["name"]) {
      reader.Error(node, path, "a rule needs a name");
    } else if (auto name = reader.String(node["name"], path + ".name")) {
      if (!IsValidName(*name)) {
        reader.Error(node["name"], path + ".name",
                     "'" + *name +
                         "' is not a valid rule name (a letter or digit, then letters, digits, "
                         "'_', '.', '-'; at most 64 characters)");
      } else {
        rule.name = *name;
        rule.line = LineOf(node["name"]);
        path = "rule '" + rule.name + "'";
        auto [it, fresh] = origins_.emplace(rule.name, reader.Origin(node["name"]));
        if (!fresh) {
          reader.Error(node["name"], path, "duplicate rule name; first defined at " + it->second);
        }
      }
    }
    if (node["description"]) {
      rule.description = reader.String(node["description"], Key(path, "description")).value_or("");
    }
    rule.keywords = Entries(reader, node["keywords"], Key(path, "keywords"));
    rule.patterns = Entries(reader, node["patterns"], Key(path, "patterns"));
    rule.all = Entries(reader, node["all"], Key(path, "all"));
    rule.none = Entries(reader, node["none"], Key(path, "none"));
    if (node["case_sensitive"]) {
      rule.case_sensitive =
          reader.Bool(node["case_sensitive"], Key(path, "case_sensitive")).value_or(false);
    }
    if (node["fields"]) rule.fields = Fields(reader, node["fields"], Key(path, "fields"));
    rule.sources = Names(reader, node["sources"], Key(path, "sources"));
    rule.notify = Names(reader, node["notify"], Key(path, "notify"));
    if (node["severity"]) {
      rule.severity = reader
                          .EnumValue<core::RuleSeverity>(node["severity"], Key(path, "severity"),
                                                         core::kRuleSeverityNames)
                          .value_or(rule.severity);
    }
    if (node["labels"]) {
      if (auto labels = reader.StringMap(node["labels"], Key(path, "labels"))) {
        for (const auto& [name, value] : *labels) {
          if (!IsLabelName(name)) {
            reader.Error(node["labels"][name], Key(path, "labels.") + name,
                         "label names are letters, digits and '_', not starting with a digit");
          }
        }
        rule.labels = std::move(*labels);
      }
    }
    if (node["tests"] && reader.ExpectMap(node["tests"], Key(path, "tests"), kTestKeys)) {
      rule.examples_match = Entries(reader, node["tests"]["match"], Key(path, "tests.match"));
      rule.examples_no_match =
          Entries(reader, node["tests"]["no_match"], Key(path, "tests.no_match"));
    }
    if (rule.keywords.empty() && rule.patterns.empty()) {
      reader.Error(node, path, "has no keywords and no patterns, so it can never fire");
    }
    if (core::CountErrors(out_) == errors_before) rules_.push_back(std::move(rule));
  }

  // A string or a list of strings, each with its line. Empty strings are errors.
  std::vector<core::RuleEntry> Entries(YamlReader& reader, const YAML::Node& node,
                                       const std::string& path) {
    std::vector<core::RuleEntry> entries;
    if (!node || node.IsNull()) return entries;
    auto add = [&](const YAML::Node& item, const std::string& item_path) {
      auto text = reader.String(item, item_path);
      if (!text) return;
      if (text->empty()) {
        reader.Error(item, item_path, "must not be empty");
        return;
      }
      entries.push_back({.text = std::move(*text), .line = LineOf(item)});
    };
    if (node.IsScalar()) {
      add(node, path);
    } else if (reader.ExpectList(node, path)) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        add(node[i], path + "[" + std::to_string(i) + "]");
      }
    }
    return entries;
  }

  std::vector<std::string> Names(YamlReader& reader, const YAML::Node& node,
                                 const std::string& path) {
    std::vector<std::string> names;
    for (auto& entry : Entries(reader, node, path)) {
      if (std::find(names.begin(), names.end(), entry.text) == names.end()) {
        names.push_back(std::move(entry.text));
      }
    }
    return names;
  }

  std::vector<core::Field> Fields(YamlReader& reader, const YAML::Node& node,
                                  const std::string& path) {
    std::vector<std::pair<YAML::Node, std::string>> items;  // node, key path
    if (node.IsScalar()) {
      items.emplace_back(node, path);
    } else if (reader.ExpectList(node, path)) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        items.emplace_back(node[i], path + "[" + std::to_string(i) + "]");
      }
    } else {
      return {};
    }
    if (items.empty()) {
      reader.Error(node, path,
                   "an empty list reads nothing; leave `fields` out for title and summary");
    }
    std::vector<core::Field> fields;
    for (const auto& [item, item_path] : items) {
      auto field = reader.EnumValue<core::Field>(item, item_path, core::kFieldNames);
      if (!field) continue;
      if (std::find(fields.begin(), fields.end(), *field) != fields.end()) {
        reader.Error(item, item_path, "field listed twice");
      } else {
        fields.push_back(*field);
      }
    }
    return fields;
  }

  std::vector<core::RuleSpec>& rules_;
  std::vector<core::Diagnostic>& out_;
  std::map<std::string, std::string> origins_;  // rule name -> "file:line", across files
  const Environment literal_;                   // empty: strings are read without ${VAR}
};

// Reports `name` (at `at` in `rule`) unless it is one of `known`.
void CheckName(const core::RuleSpec& rule, std::string_view what, const std::string& name,
               std::span<const std::string_view> known, std::vector<core::Diagnostic>& out) {
  if (IsOneOf(name, known)) return;
  std::string message = "unknown " + std::string(what) + " '" + name + "'";
  if (auto close = ClosestName(name, known)) {
    message += " (did you mean '" + std::string(*close) + "'?)";
  }
  out.push_back(core::Diagnostic{.file = rule.file,
                                 .line = rule.line,
                                 .key = "rule '" + rule.name + "'",
                                 .message = std::move(message)});
}

}  // namespace

RuleFilesResult LoadRuleFiles(std::span<const std::filesystem::path> files) {
  RuleFilesResult result;
  RuleFileReader reader(result.rules, result.diagnostics);
  for (const auto& file : files) reader.Read(file);
  return result;
}

void CheckRuleReferences(const Config& config, std::span<const core::RuleSpec> rules,
                         std::vector<core::Diagnostic>& out) {
  std::vector<std::string_view> sources;
  for (const auto& s : config.sources) sources.push_back(s.name);
  std::vector<std::string_view> sinks;
  for (const auto& s : config.sinks) sinks.push_back(s.name);
  for (const auto& rule : rules) {
    for (const auto& name : rule.sources) CheckName(rule, "source", name, sources, out);
    for (const auto& name : rule.notify) CheckName(rule, "sink", name, sinks, out);
  }
}

std::vector<std::filesystem::path> ExpandGlobs(std::span<const std::string> patterns,
                                               std::vector<core::Diagnostic>& out) {
  std::set<std::filesystem::path> found;
  for (const auto& pattern : patterns) {
    // Relative patterns stay relative, so messages name files as the user wrote them.
    if (auto problem = GlobInto(pattern, pattern, found)) out.push_back(std::move(*problem));
  }
  return {found.begin(), found.end()};
}

}  // namespace newsmon::config
