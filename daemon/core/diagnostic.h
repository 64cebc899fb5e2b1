// A problem found in user input (a config file, a rule file, a source), located precisely
// enough for the user to fix it without guessing.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace newsmon::core {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;     // path as the user named it; empty when the input is not a file
  int line = 0;         // 1-based; 0 when unknown
  int column = 0;       // 1-based; 0 when unknown
  std::string key;      // where in the document, e.g. "sources[2].interval"; may be empty
  std::string message;  // what is wrong and, where we can tell, how to fix it
};

// "file:line:column: error: key: message", leaving out the parts that are unknown.
std::string Format(const Diagnostic& diagnostic);

std::size_t CountErrors(const std::vector<Diagnostic>& diagnostics);
inline bool HasErrors(const std::vector<Diagnostic>& diagnostics) {
  return CountErrors(diagnostics) > 0;
}

}  // namespace newsmon::core
