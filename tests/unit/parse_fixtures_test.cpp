// parse::Parse against the fixture corpus in tests/fixtures/parse: each source document
// <name>.<ext> sits next to <name>.expected.json, which says what a correct parser makes of
// it (the options to parse it with, then the error, or the charset, warnings, feed metadata
// and every item field). One test per fixture, named after it; a mismatch names the
// fixture, the item and the field, with the expected and actual values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "daemon/core/feed.h"
#include "daemon/core/source.h"
#include "daemon/core/time.h"
#include "daemon/parse/parse.h"

namespace newsmon::parse {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kExpectedSuffix = ".expected.json";
constexpr std::string_view kSourceExtensions[] = {".xml", ".rss",  ".atom",
                                                  ".rdf", ".json", ".html"};

fs::path FixtureDir() { return fs::path(NEWSMON_SOURCE_DIR) / "tests" / "fixtures" / "parse"; }

bool IsExpectedFile(const fs::path& path) {
  return path.filename().string().ends_with(kExpectedSuffix);
}

// The source documents (not the expectations), sorted so test order is stable.
std::vector<std::string> ListFixtures() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(FixtureDir(), ec)) {
    const fs::path& path = entry.path();
    if (!entry.is_regular_file() || IsExpectedFile(path)) continue;
    if (std::ranges::find(kSourceExtensions, path.extension().string()) !=
        std::end(kSourceExtensions)) {
      names.push_back(path.filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// "rss20_basic.rss" -> "rss20_basic".
std::string StemOf(std::string_view file) { return fs::path(file).stem().string(); }

fs::path ExpectedPathOf(std::string_view file) {
  return FixtureDir() / (StemOf(file) + std::string(kExpectedSuffix));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json ReadExpected(std::string_view file) { return json::parse(ReadFile(ExpectedPathOf(file))); }

// For messages: JSON text, with invalid UTF-8 shown as U+FFFD rather than throwing.
std::string Show(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json ToJson(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

json ToJson(const std::optional<core::TimePoint>& value) {
  return value ? json(core::FormatRfc3339(*value)) : json(nullptr);
}

std::string_view KindName(core::SourceKind kind) {
  return core::NameOf<core::SourceKind>(core::kSourceKindNames, kind);
}

// parse::Options from the "options" object, owning the strings the Options view.
struct OwnedOptions {
  std::string url;
  std::string content_type;
  std::optional<core::HtmlSelectors> html;
  Options options;

  explicit OwnedOptions(const json& spec) {
    if (spec.is_null()) return;
    if (spec.contains("kind")) {
      auto kind = core::ParseEnum<core::SourceKind>(core::kSourceKindNames,
                                                    spec.at("kind").get<std::string>());
      if (!kind) throw std::runtime_error("unknown kind " + Show(spec.at("kind")));
      options.kind = *kind;
    }
    url = spec.value("url", "");
    content_type = spec.value("content_type", "");
    options.url = url;
    options.content_type = content_type;
    if (spec.contains("html")) {
      const json& h = spec.at("html");
      core::HtmlSelectors selectors;
      selectors.item = h.value("item", "");
      selectors.title = h.value("title", "");
      selectors.link = h.value("link", "");
      selectors.date = h.value("date", "");
      selectors.summary = h.value("summary", "");
      selectors.date_format = h.value("date_format", "");
      selectors.timezone = h.value("timezone", "UTC");
      html = std::move(selectors);
      options.html = &*html;
    }
  }
  OwnedOptions(const OwnedOptions&) = delete;
  OwnedOptions& operator=(const OwnedOptions&) = delete;
};

// Collects every difference of one fixture, so a run shows them all at once.
class Diff {
 public:
  explicit Diff(std::string fixture) : fixture_(std::move(fixture)) {}

  void Check(const std::string& where, const json& expected, const json& actual) {
    if (expected != actual) {
      problems_ << fixture_ << ": " << where << "\n    expected: " << Show(expected)
                << "\n    actual:   " << Show(actual) << "\n";
    }
  }
  void Note(const std::string& message) { problems_ << fixture_ << ": " << message << "\n"; }

  std::string Report() const { return problems_.str(); }

 private:
  std::string fixture_;
  std::ostringstream problems_;
};

// The expected value of `key`, which every expected item and feed object must spell out.
const json& Field(const json& object, const char* key, const std::string& where, Diff& diff) {
  static const json kMissing = "<missing from the expected file>";
  if (!object.contains(key)) {
    diff.Note(where + " field " + key + " is missing from the expected file");
    return kMissing;
  }
  return object.at(key);
}

void CheckFeed(const json& expected, const core::Feed& feed, Diff& diff) {
  auto check = [&](const char* key, const json& actual) {
    diff.Check(std::string("feed.") + key, Field(expected, key, "feed", diff), actual);
  };
  check("format", std::string(KindName(feed.format)));
  check("title", feed.title);
  check("link", ToJson(feed.link));
  check("self_link", ToJson(feed.self_link));
  check("hub_link", ToJson(feed.hub_link));
  check("ttl_minutes", feed.ttl ? json(feed.ttl->count()) : json(nullptr));
}

void CheckItem(const json& expected, const core::Item& item, std::size_t index, Diff& diff) {
  // Items are counted from 0; the expected title says which one it is at a glance.
  const std::string where =
      "item[" + std::to_string(index) + "] " + Show(expected.value("title", json("?"))) + ":";
  auto check = [&](const char* key, const json& actual) {
    diff.Check(where + " field " + key, Field(expected, key, where, diff), actual);
  };
  check("id", item.id);
  check("title", item.title);
  check("link", ToJson(item.link));
  check("published", ToJson(item.published));
  check("summary", ToJson(item.summary));
  check("author", ToJson(item.author));
  check("categories", item.categories);
}

class ParseFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParseFixtureTest, MatchesExpected) {
  const std::string& file = GetParam();
  const json expected = ReadExpected(file);
  OwnedOptions owned(expected.value("options", json::object()));
  const Result result = Parse(ReadFile(FixtureDir() / file), owned.options);

  Diff diff(file);
  std::ostringstream warnings;
  for (const auto& warning : result.warnings) warnings << "\n    warning: " << warning;

  const json& error = expected.value("error", json(nullptr));
  if (!error.is_null()) {
    const auto want = error.get<std::string>();
    if (result.ok()) {
      diff.Note("expected an error containing " + Show(want) + ", but it parsed with " +
                std::to_string(result.feed->items.size()) + " items");
    } else if (result.error.find(want) == std::string::npos) {
      diff.Check("error (substring)", want, result.error);
    }
  } else if (!result.ok()) {
    diff.Note("expected no error, got " + Show(result.error));
  }

  if (expected.contains("charset")) diff.Check("charset", expected.at("charset"), result.charset);
  if (expected.contains("warnings") && expected.at("warnings") != json(result.warnings.size())) {
    diff.Check("warning count", expected.at("warnings"), result.warnings.size());
    diff.Note("warnings were:" + (result.warnings.empty() ? " none" : warnings.str()));
  }

  if (error.is_null() && result.ok()) {
    const core::Feed& feed = *result.feed;
    CheckFeed(expected.value("feed", json::object()), feed, diff);
    const json& items = expected.value("items", json::array());
    diff.Check("item count", items.size(), feed.items.size());
    if (items.size() != feed.items.size()) {
      std::ostringstream titles;
      for (const auto& item : feed.items) titles << "\n    actual item: " << Show(item.title);
      diff.Note("items were:" + (feed.items.empty() ? " none" : titles.str()));
    }
    for (std::size_t i = 0; i < std::min(items.size(), feed.items.size()); ++i) {
      CheckItem(items[i], feed.items[i], i, diff);
    }
  }

  const std::string report = diff.Report();
  EXPECT_TRUE(report.empty()) << expected.value("about", "") << "\n" << report;
}

// Test names may hold only letters, digits and '_'.
std::string TestNameOf(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = StemOf(info.param);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParseFixtureTest, ::testing::ValuesIn(ListFixtures()),
                         TestNameOf);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ParseFixtureTest);

constexpr std::string_view kTopKeys[] = {"about",    "options", "error", "charset",
                                         "warnings", "feed",    "items"};
constexpr std::string_view kOptionKeys[] = {"kind", "url", "content_type", "html"};
constexpr std::string_view kHtmlKeys[] = {"item",    "title",       "link",    "date",
                                          "summary", "date_format", "timezone"};

// The keys of `object` that are not in `known`, space-separated; "" when there are none.
std::string UnknownKeys(const json& object, std::span<const std::string_view> known) {
  std::string unknown;
  for (const auto& [key, value] : object.items()) {
    if (std::ranges::find(known, key) == known.end()) unknown += (unknown.empty() ? "" : " ") + key;
  }
  return unknown;
}

TEST(ParseFixtureCorpus, IsLargeCompleteAndCoversEveryFormatAndCharset) {
  const std::vector<std::string> fixtures = ListFixtures();
  EXPECT_GE(fixtures.size(), 60u);

  std::set<std::string> stems, formats, charsets;
  for (const auto& file : fixtures) {
    EXPECT_TRUE(stems.insert(StemOf(file)).second) << "two sources named " << StemOf(file);
    ASSERT_TRUE(fs::exists(ExpectedPathOf(file))) << file << " has no " << kExpectedSuffix;
    json expected;
    ASSERT_NO_THROW(expected = ReadExpected(file)) << ExpectedPathOf(file);
    EXPECT_TRUE(expected.contains("about")) << file << ": say what the fixture covers";
    // A misspelt key would be ignored silently and the fixture would test less than it says.
    EXPECT_EQ(UnknownKeys(expected, kTopKeys), "") << file;
    const json options = expected.value("options", json::object());
    EXPECT_EQ(UnknownKeys(options, kOptionKeys), "") << file << " options";
    EXPECT_EQ(UnknownKeys(options.value("html", json::object()), kHtmlKeys), "") << file << " html";
    if (expected.contains("feed")) formats.insert(expected["feed"].value("format", ""));
    if (expected.contains("charset")) charsets.insert(expected["charset"].get<std::string>());
  }
  for (const auto& entry : fs::directory_iterator(FixtureDir())) {
    if (!IsExpectedFile(entry.path())) continue;
    std::string stem = entry.path().filename().string();
    stem.resize(stem.size() - kExpectedSuffix.size());
    EXPECT_TRUE(stems.contains(stem)) << entry.path() << " has no source document";
  }
  for (const char* format : {"rss", "rdf", "atom", "json", "html"}) {
    EXPECT_TRUE(formats.contains(format)) << "no fixture of format " << format;
  }
  for (const char* charset :
       {"UTF-8", "UTF-16LE", "UTF-16BE", "windows-1251", "KOI8-R", "windows-1252"}) {
    EXPECT_TRUE(charsets.contains(charset)) << "no fixture in charset " << charset;
  }
}

}  // namespace
}  // namespace newsmon::parse
