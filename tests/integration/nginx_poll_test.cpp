// The poll loop against a real nginx on 127.0.0.1 serving fixture feeds of each format:
// nginx compresses them (gzip on for the feed types), marks its ETags weak because of it
// (W/"…"), and still answers the conditional second poll with 304.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/pipeline/poll_loop.h"
#include "daemon/rules/rules.h"
#include "tests/support/nginx.h"
#include "tests/support/poll_harness.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

namespace fs = std::filesystem;
using core::PollOutcome;
using std::chrono::milliseconds;
using std::chrono::seconds;

const fs::path kFixtures = fs::path(NEWSMON_SOURCE_DIR) / "tests/fixtures/parse";

// A fixture served under its own name; nginx's type for it comes from the extension.
struct Served {
  std::string source;  // source name
  std::string file;    // in tests/fixtures/parse/
};

const std::vector<Served> kFeeds = {
    {"rss", "rss20_plain.xml"},    // text/xml
    {"atom", "atom10_feed.atom"},  // application/atom+xml
    {"json", "jsonfeed11.json"},   // application/feed+json
    {"rdf", "rdf_rss10.rdf"},      // application/rdf+xml
};

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The item count the fixture's .expected.json records.
std::size_t ExpectedItems(const std::string& file) {
  fs::path expected = kFixtures / fs::path(file).replace_extension(".expected.json");
  auto json = nlohmann::json::parse(ReadFile(expected));
  return json.at("items").size();
}

std::string OutcomeName(PollOutcome outcome) {
  return std::string(core::NameOf<PollOutcome>(core::kPollOutcomeNames, outcome));
}

class NginxPollTest : public ::testing::Test, protected test::PollHarness {
 protected:
  void TearDown() override {
    if (loop_) loop_->Stop();
    if (nginx_) {
      EXPECT_TRUE(nginx_->Stop()) << "nginx did not shut down by itself";
    }
  }

  // A source that may reach 127.0.0.1 only, polled first right away and every 200 ms.
  void Add(const std::string& name, const std::string& url) {
    core::Source source;
    source.name = name;
    source.url = url;
    source.interval = milliseconds(200);
    source.timeout = seconds(5);
    source.connect_timeout = seconds(2);
    source.allow_private_networks.cidrs = {"127.0.0.1/32"};
    AddNow(source);
  }

  test::TempDir dir_;
  std::optional<test::Nginx> nginx_;
};

TEST_F(NginxPollTest, FirstPollIsGzippedAndTheSecondNotModified) {
  nginx_.emplace(dir_.path());
  ASSERT_TRUE(nginx_->ok()) << nginx_->error();
  for (const auto& feed : kFeeds) fs::copy_file(kFixtures / feed.file, nginx_->root() / feed.file);

  core::RuleSpec rule;
  rule.name = "khorgos";
  rule.keywords = {{"Khorgos", 1}};
  auto built = rules::Build({rule});
  ASSERT_TRUE(built.ok());
  MakeLoop(built.rules);
  std::map<std::string, std::vector<std::string>> etags;  // the stored ETag after each poll
  loop_->OnPoll([&](const pipeline::PollEvent& event) {
    events_.push_back(event);
    etags[event.source].push_back(loop_->State(event.source)->etag);
  });
  for (const auto& feed : kFeeds) Add(feed.source, nginx_->Url("/" + feed.file));
  loop_->Start();
  ASSERT_TRUE(RunUntil([&] {
    for (const auto& feed : kFeeds) {
      if (EventsOf(feed.source).size() < 2) return false;
    }
    return true;
  }));

  for (const auto& feed : kFeeds) {
    SCOPED_TRACE(feed.file);
    const auto events = EventsOf(feed.source);
    const pipeline::PollEvent& first = events[0];
    ASSERT_EQ(OutcomeName(first.outcome), "ok") << first.error;
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.items, ExpectedItems(feed.file));
    EXPECT_EQ(first.new_items, first.items);
    EXPECT_EQ(first.warnings, 0U);
    // Compressed on the wire: fewer body bytes came than the file holds.
    const auto size = fs::file_size(kFixtures / feed.file);
    EXPECT_GT(first.wire_bytes, 0U);
    EXPECT_LT(first.wire_bytes, size);

    const pipeline::PollEvent& second = events[1];
    EXPECT_EQ(OutcomeName(second.outcome), "not_modified") << second.error;
    EXPECT_EQ(second.status, 304);
    EXPECT_EQ(second.wire_bytes, 0U);

    // gzip made the 200's validator weak, and the 304 still matched it. The 304 carries the
    // strong form (nginx weakens only what its gzip filter compresses); it is the same tag.
    const std::string& from_200 = etags[feed.source][0];
    EXPECT_TRUE(from_200.starts_with("W/\"")) << from_200;
    const std::string& from_304 = etags[feed.source][1];
    EXPECT_TRUE(from_304 == from_200 || "W/" + from_304 == from_200) << from_304;
    const core::SourceState* state = loop_->State(feed.source);
    EXPECT_FALSE(state->last_modified.empty());
    EXPECT_EQ(state->consecutive_failures, 0);
  }
  ASSERT_EQ(EventsOf("rss")[0].matched.size(), 1U);
  EXPECT_EQ(EventsOf("rss")[0].matched[0].matches[0].rule, "khorgos");

  // nginx's own record: each file once as a 200 that gzip compressed, then as 304s. A line
  // is written after its response went out: complete once nginx has shut down.
  loop_->Stop();
  ASSERT_TRUE(nginx_->Stop());
  const std::string log = ReadFile(nginx_->access_log());
  for (const auto& feed : kFeeds) {
    SCOPED_TRACE(feed.file);
    std::istringstream lines(log);
    int full = 0, not_modified = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.find("GET /" + feed.file + " ") != 0) continue;
      std::istringstream fields(line.substr(line.find(" HTTP/1.1 ") + 10));
      std::string status, bytes, ratio;
      fields >> status >> bytes >> ratio;
      if (status == "200") {
        ++full;
        EXPECT_NE(ratio, "-") << line;  // "-" when the body went out uncompressed
      } else if (status == "304") {
        ++not_modified;
      } else {
        ADD_FAILURE() << line;
      }
    }
    EXPECT_EQ(full, 1);
    EXPECT_GE(not_modified, 1);
  }
}

TEST_F(NginxPollTest, AChangedFileIsFetchedAgainWithItsNewItem) {
  nginx_.emplace(dir_.path());
  ASSERT_TRUE(nginx_->ok()) << nginx_->error();
  const std::string original = ReadFile(kFixtures / "rss20_plain.xml");
  std::ofstream(nginx_->root() / "feed.xml", std::ios::binary) << original;

  MakeLoop();
  Add("rss", nginx_->Url("/feed.xml"));
  loop_->Start();
  ASSERT_TRUE(RunUntil(
      [&] { return events_.size() >= 2 && events_.back().outcome == PollOutcome::kNotModified; }));

  // One more item: the size changes, and with it nginx's ETag, even within the same second
  // (when If-Modified-Since alone would still say not modified).
  std::string changed = original;
  changed.insert(changed.find("</channel>"),
                 "<item><title>Aktau port adds a ferry berth</title>"
                 "<guid>https://silkroad-monitor.example/2023/09/27/aktau-berth</guid></item>\n");
  // Renamed into place, so nginx never serves a half-written file.
  std::ofstream(nginx_->root() / "feed.xml.new", std::ios::binary) << changed;
  fs::rename(nginx_->root() / "feed.xml.new", nginx_->root() / "feed.xml");
  const std::size_t before = events_.size();
  ASSERT_TRUE(RunUntil([&] {
    return events_.size() > before && events_.back().outcome != PollOutcome::kNotModified;
  }));
  const pipeline::PollEvent& event = events_.back();
  EXPECT_EQ(OutcomeName(event.outcome), "ok") << event.error;
  EXPECT_EQ(event.items, 3U);
  EXPECT_EQ(event.new_items, 1U);
}

}  // namespace
}  // namespace newsmon
