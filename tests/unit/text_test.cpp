#include "daemon/config/text.h"

#include <gtest/gtest.h>

#include <map>

namespace newsmon::config {
namespace {

Environment FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string Expand(std::string_view text, const Environment& env) {
  std::string error;
  auto out = ExpandVariables(text, env, error);
  return out ? *out : "ERROR: " + error;
}

TEST(ExpandVariablesTest, ReplacesSetVariables) {
  auto env = FakeEnv({{"HOST", "example.org"}, {"EMPTY", ""}});
  EXPECT_EQ(Expand("https://${HOST}/feed", env), "https://example.org/feed");
  EXPECT_EQ(Expand("${HOST}${HOST}", env), "example.orgexample.org");
  EXPECT_EQ(Expand("${EMPTY}", env), "");
  EXPECT_EQ(Expand("no variables", env), "no variables");
}

TEST(ExpandVariablesTest, FallbackAppliesWhenUnsetOrEmpty) {
  auto env = FakeEnv({{"SET", "x"}, {"EMPTY", ""}});
  EXPECT_EQ(Expand("${SET:-y}", env), "x");
  EXPECT_EQ(Expand("${UNSET:-/var/lib/newsmon}", env), "/var/lib/newsmon");
  EXPECT_EQ(Expand("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(Expand("${UNSET:-}", env), "");
}

TEST(ExpandVariablesTest, DollarsThatAreNotReferencesStayLiteral) {
  auto env = FakeEnv({});
  EXPECT_EQ(Expand("cost $5", env), "cost $5");
  EXPECT_EQ(Expand("$$", env), "$");
  EXPECT_EQ(Expand("$${HOME}", env), "${HOME}");
  EXPECT_EQ(Expand("trailing $", env), "trailing $");
}

TEST(ExpandVariablesTest, ReportsMissingAndMalformedReferences) {
  auto env = FakeEnv({});
  EXPECT_EQ(Expand("${TOKEN}", env),
            "ERROR: environment variable TOKEN is not set (write ${TOKEN:-default} for a "
            "fallback)");
  EXPECT_EQ(Expand("${TOKEN", env), "ERROR: unterminated '${' (write '$$' for a literal '$')");
  EXPECT_EQ(Expand("${1X}", env), "ERROR: invalid variable name '1X' in '${1X}'");
  EXPECT_EQ(Expand("${}", env), "ERROR: invalid variable name '' in '${}'");
}

TEST(ClosestNameTest, SuggestsNearMisspellingsOnly) {
  constexpr std::string_view kKeys[] = {"interval", "timeout", "url", "name", "kind"};
  EXPECT_EQ(ClosestName("intreval", kKeys), "interval");  // transposition
  EXPECT_EQ(ClosestName("intervall", kKeys), "interval");
  EXPECT_EQ(ClosestName("timout", kKeys), "timeout");
  EXPECT_EQ(ClosestName("ulr", kKeys), "url");
  EXPECT_EQ(ClosestName("colour", kKeys), std::nullopt);
  EXPECT_EQ(ClosestName("x", kKeys), std::nullopt);
}

TEST(IsValidNameTest, AllowsLabelSafeNames) {
  EXPECT_TRUE(IsValidName("bbc-asia"));
  EXPECT_TRUE(IsValidName("caliber.az_en"));
  EXPECT_TRUE(IsValidName("9news"));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("-leading"));
  EXPECT_FALSE(IsValidName("has space"));
  EXPECT_FALSE(IsValidName("квн"));
  EXPECT_FALSE(IsValidName(std::string(65, 'a')));
  EXPECT_TRUE(IsValidName(std::string(64, 'a')));
}

}  // namespace
}  // namespace newsmon::config
