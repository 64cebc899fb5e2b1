// `newsmon rules test` and `newsmon rules check`: try rules on headlines, and compile every
// rule and run its own examples.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/rule.h"
#include "daemon/rules/rules.h"

namespace newsmon::app {

struct RulesRequest {
  std::optional<std::string> config_file;   // sources and sinks (and rules unless rule_globs)
  std::vector<std::string> rule_globs;      // rule files to use instead of the config's
  core::Field field = core::Field::kTitle;  // test: what each text is
  std::string source;                       // test: the source it comes from; empty = none
  bool explain = false;                     // test: print each match's span and text
  bool json = false;                        // test: one JSON object per text and line
  std::vector<std::string> texts;           // test: empty = each line of stdin
};

int RulesTest(const RulesRequest& request, std::istream& in, std::ostream& out, std::ostream& err);
int RulesCheck(const RulesRequest& request, std::ostream& out, std::ostream& err);

// Compiles the config's rules, adding compile errors to `diagnostics` and each failing rule
// example as a warning. Null when a rule has errors.
std::shared_ptr<const rules::RuleSet> BuildRules(const config::Config& config,
                                                 std::vector<core::Diagnostic>& diagnostics);

}  // namespace newsmon::app
