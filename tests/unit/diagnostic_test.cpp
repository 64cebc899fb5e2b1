#include "daemon/core/diagnostic.h"

#include <gtest/gtest.h>

namespace newsmon::core {
namespace {

TEST(DiagnosticTest, FormatsEveryKnownPart) {
  Diagnostic d{.file = "a.yaml", .line = 3, .column = 7, .key = "sources[0].url", .message = "bad"};
  EXPECT_EQ(Format(d), "a.yaml:3:7: error: sources[0].url: bad");
}

TEST(DiagnosticTest, LeavesOutUnknownParts) {
  EXPECT_EQ(Format({.severity = Severity::kWarning, .file = "a.yaml", .message = "empty"}),
            "a.yaml: warning: empty");
  EXPECT_EQ(Format({.file = "a.yaml", .line = 2, .message = "x"}), "a.yaml:2: error: x");
  EXPECT_EQ(Format({.message = "no file"}), "error: no file");
}

TEST(DiagnosticTest, HasErrorsIgnoresWarnings) {
  EXPECT_FALSE(HasErrors({}));
  EXPECT_FALSE(HasErrors({{.severity = Severity::kWarning, .message = "w"}}));
  EXPECT_TRUE(HasErrors({{.severity = Severity::kWarning}, {.severity = Severity::kError}}));
}

}  // namespace
}  // namespace newsmon::core
