#include "daemon/app/rules_cli.h"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/app/cli.h"
#include "daemon/core/diagnostic.h"

namespace newsmon::app {
namespace {

struct LoadedRules {
  std::shared_ptr<const rules::RuleSet> rules;  // null on errors
  std::size_t files = 0;
};

std::string Quoted(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view FieldName(core::Field field) {
  return core::NameOf<core::Field>(core::kFieldNames, field);
}

// Columns `text` takes in a terminal, near enough: one per code point.
std::size_t Width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// "title [0, 10) "Kazakhstan"".
std::string DescribeSpan(const core::Match& m, std::string_view text) {
  std::string out = std::string(FieldName(m.field)) + " [" + std::to_string(m.begin) + ", " +
                    std::to_string(m.end) + ")";
  if (m.end <= text.size()) out += " " + Quoted(text.substr(m.begin, m.end - m.begin));
  return out;
}

// Reads the rules the request names, prints every problem, and compiles them.
LoadedRules Load(const RulesRequest& request, std::ostream& err) {
  std::vector<core::Diagnostic> diagnostics;
  config::Config config;
  std::vector<core::RuleSpec> specs;
  LoadedRules out;
  bool ok = true;
  if (request.config_file) {
    auto loaded = config::LoadConfig(*request.config_file, config::ProcessEnvironment());
    config = std::move(loaded.config);
    for (auto& d : loaded.diagnostics) {
      // With --rules, the config's own rule files are not used: their problems do not count.
      bool from_rule_file = std::any_of(config.rule_files.begin(), config.rule_files.end(),
                                        [&](const auto& file) { return file.string() == d.file; });
      if (request.rule_globs.empty() || !from_rule_file) diagnostics.push_back(std::move(d));
    }
    specs = std::move(config.rules);
    out.files = config.rule_files.size();
  }
  if (!request.rule_globs.empty()) {
    auto files = config::ExpandGlobs(request.rule_globs, diagnostics);
    if (files.empty()) {
      diagnostics.push_back({.key = "--rules", .message = "no rule file matches"});
    }
    auto read = config::LoadRuleFiles(files);
    diagnostics.insert(diagnostics.end(), read.diagnostics.begin(), read.diagnostics.end());
    specs = std::move(read.rules);
    out.files = files.size();
    if (request.config_file) config::CheckRuleReferences(config, specs, diagnostics);
  }
  if (core::HasErrors(diagnostics)) ok = false;
  if (ok) {
    auto built = rules::Build(std::move(specs));
    diagnostics.insert(diagnostics.end(), built.diagnostics.begin(), built.diagnostics.end());
    out.rules = std::move(built.rules);
  }
  for (const auto& d : diagnostics) err << core::Format(d) << '\n';
  if (!out.rules) {
    std::size_t errors = core::CountErrors(diagnostics);
    err << "newsmon rules: " << errors << (errors == 1 ? " error" : " errors") << '\n';
  }
  return out;
}

void PrintResult(const RulesRequest& request, std::string_view text,
                 const std::vector<core::Match>& matches, const rules::RuleSet& rules,
                 std::ostream& out) {
  if (request.json) {
    nlohmann::ordered_json line;
    line["text"] = std::string(text);
    line["matches"] = nlohmann::ordered_json::array();
    for (const auto& m : matches) {
      line["matches"].push_back(
          {{"rule", m.rule}, {"field", FieldName(m.field)}, {"span", {m.begin, m.end}}});
    }
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return;
  }
  out << text << '\n';
  if (matches.empty()) {
    out << "  no rule matched\n";
    return;
  }
  for (const auto& m : matches) {
    out << "  " << m.rule;
    if (request.explain) {
      const core::RuleSpec* spec = rules.Find(m.rule);
      out << " (" << core::NameOf<core::RuleSeverity>(core::kRuleSeverityNames, spec->severity)
          << ", " << spec->file << ':' << spec->line << "): " << DescribeSpan(m, text) << '\n'
          << "    " << text << '\n'
          << "    " << std::string(Width(text.substr(0, m.begin)), ' ')
          << std::string(std::max<std::size_t>(1, Width(text.substr(m.begin, m.end - m.begin))),
                         '^');
    }
    out << '\n';
  }
}

}  // namespace

std::shared_ptr<const rules::RuleSet> BuildRules(const config::Config& config,
                                                 std::vector<core::Diagnostic>& diagnostics) {
  auto built = rules::Build(config.rules);
  diagnostics.insert(diagnostics.end(), built.diagnostics.begin(), built.diagnostics.end());
  if (!built.ok()) return nullptr;
  for (const auto& failure : built.rules->CheckExamples()) {
    diagnostics.push_back(
        {.severity = core::Severity::kWarning,
         .file = failure.file,
         .line = failure.line,
         .key = "rule '" + failure.rule + "'",
         .message = std::string(failure.expected_match ? "example should match but does not: "
                                                       : "example should not match but does: ") +
                    Quoted(failure.text) + " (run 'newsmon rules check')"});
  }
  return built.rules;
}

int RulesTest(const RulesRequest& request, std::istream& in, std::ostream& out, std::ostream& err) {
  auto loaded = Load(request, err);
  if (!loaded.rules) return kExitUsage;
  auto run = [&](std::string_view text) {
    rules::FieldTexts texts{};
    texts[static_cast<std::size_t>(request.field)] = text;
    PrintResult(request, text, loaded.rules->Match(texts, request.source), *loaded.rules, out);
  };
  if (!request.texts.empty()) {
    for (const auto& text : request.texts) run(text);
  } else {
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      run(line);
    }
  }
  return kExitOk;
}

int RulesCheck(const RulesRequest& request, std::ostream& out, std::ostream& err) {
  auto loaded = Load(request, err);
  if (!loaded.rules) return kExitUsage;
  std::size_t examples = 0;
  for (const auto& spec : loaded.rules->specs()) {
    examples += spec.examples_match.size() + spec.examples_no_match.size();
  }
  auto failures = loaded.rules->CheckExamples();
  for (const auto& f : failures) {
    core::Diagnostic d{.file = f.file, .line = f.line, .key = "rule '" + f.rule + "'"};
    if (f.expected_match) {
      d.message = "example should match but does not: " + Quoted(f.text);
    } else {
      d.message = "example should not match but does: " + Quoted(f.text) + ", at " +
                  DescribeSpan(f.matches.front(), f.text);
    }
    err << core::Format(d) << '\n';
  }
  std::size_t rule_count = loaded.rules->specs().size();
  if (!failures.empty()) {
    err << "newsmon rules check: " << failures.size() << " of " << examples << " examples failed\n";
    return kExitUsage;
  }
  out << "OK: " << rule_count << (rule_count == 1 ? " rule" : " rules") << " in " << loaded.files
      << (loaded.files == 1 ? " file" : " files") << ", " << examples << " examples pass\n";
  return kExitOk;
}

}  // namespace newsmon::app
