// store: a real SQLite file in a temporary directory. Opening (WAL, schema, refusal of
// broken or foreign files), poll commits (first sight, backfill, age limit, retention,
// history), the outbox with its dead letters and disabled sinks, and readers beside the
// writer.
#include "daemon/store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "daemon/core/alert.h"
#include "daemon/core/feed.h"
#include "daemon/core/poll.h"
#include "daemon/core/rule.h"
#include "tests/support/temp_dir.h"

namespace newsmon::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using core::WallTime;

const WallTime kT0 = sys_days{2024y / March / 1} + 9h;

// ---------------------------------------------------------------------------------------
// Helpers.

// A second connection of our own, to look at the file as SQLite sees it.
class RawDb {
 public:
  explicit RawDb(const fs::path& file) {
    EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  // The first column of every row, as text ("NULL" for NULL).
  std::vector<std::string> Column(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    std::vector<std::string> rows;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    while (sqlite3_step(statement) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(statement, 0);
      rows.push_back(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(statement);
    return rows;
  }
  std::string Text(const std::string& sql) {
    auto rows = Column(sql);
    return rows.empty() ? "<no row>" : rows[0];
  }
  std::int64_t Int(const std::string& sql) { return std::stoll(Text(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

std::string ReadBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

core::Item MakeItem(const std::string& id, std::optional<core::TimePoint> published = {}) {
  core::Item item;
  item.id = id;
  item.title = "Title of " + id;
  item.link = "https://example.com/" + id;
  item.published = published;
  item.source = "src";
  return item;
}

core::RuleHit Hit(const std::string& rule, core::RuleSeverity severity = {}) {
  core::RuleHit hit;
  hit.rule = rule;
  hit.severity = severity;
  hit.field = core::Field::kTitle;
  hit.begin = 0;
  hit.end = 5;
  hit.text = "Title";
  return hit;
}

// One alert per sink, each with `rules`.
PollItem Matched(core::Item item, const std::vector<std::string>& sinks,
                 const std::vector<std::string>& rules = {"r1"}, WallTime first_seen = kT0) {
  PollItem poll_item{.item = std::move(item)};
  for (const auto& sink : sinks) {
    core::Alert alert;
    alert.sink = sink;
    alert.source = poll_item.item.source;
    alert.source_url = "https://example.com/feed.xml";
    alert.item = poll_item.item;
    for (const auto& rule : rules) alert.rules.push_back(Hit(rule));
    alert.first_seen = first_seen;
    poll_item.alerts.push_back(std::move(alert));
  }
  return poll_item;
}

PollItem Unmatched(core::Item item) { return PollItem{.item = std::move(item)}; }

PollCommit Ok(const std::string& source, WallTime now, std::vector<PollItem> items,
              bool backfill = false) {
  PollCommit commit;
  commit.source = source;
  commit.now = now;
  commit.ok = true;
  commit.state.last_poll = now;
  commit.state.last_success = now;
  commit.state.last_outcome = core::PollOutcome::kOk;
  commit.state.interval = minutes(5);
  commit.items = std::move(items);
  commit.backfill = backfill;
  return commit;
}

void ExpectSameItem(const core::Item& got, const core::Item& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.title, want.title);
  EXPECT_EQ(got.link, want.link);
  EXPECT_EQ(got.published, want.published);
  EXPECT_EQ(got.summary, want.summary);
  EXPECT_EQ(got.author, want.author);
  EXPECT_EQ(got.categories, want.categories);
  EXPECT_EQ(got.source, want.source);
}

void ExpectSameRules(const std::vector<core::RuleHit>& got,
                     const std::vector<core::RuleHit>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].rule, want[i].rule);
    EXPECT_EQ(got[i].severity, want[i].severity);
    EXPECT_EQ(got[i].labels, want[i].labels);
    EXPECT_EQ(got[i].field, want[i].field);
    EXPECT_EQ(got[i].begin, want[i].begin);
    EXPECT_EQ(got[i].end, want[i].end);
    EXPECT_EQ(got[i].text, want[i].text);
  }
}

// Everything but the delivery id, which the store assigns.
void ExpectSameAlert(const core::Alert& got, const core::Alert& want) {
  EXPECT_EQ(got.sink, want.sink);
  EXPECT_EQ(got.source, want.source);
  EXPECT_EQ(got.source_url, want.source_url);
  ExpectSameItem(got.item, want.item);
  ExpectSameRules(got.rules, want.rules);
  EXPECT_EQ(got.first_seen, want.first_seen);
  EXPECT_EQ(got.test, want.test);
}

std::vector<std::string> Titles(const std::vector<HistoryEntry>& entries) {
  std::vector<std::string> ids;
  for (const auto& entry : entries) ids.push_back(entry.item.id);
  return ids;
}

std::vector<std::string> ItemIds(const std::vector<OutboxEntry>& entries) {
  std::vector<std::string> ids;
  for (const auto& entry : entries) ids.push_back(entry.alert.item.id);
  return ids;
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore(StoreOptions options = {}) {
    return Store::Open(file_, options);
  }
  // Queues one alert per item for `sink` (backfilled first sight of `source`).
  void Queue(Store& store, const std::string& source, const std::string& sink,
             const std::vector<std::string>& item_ids, WallTime now = kT0) {
    std::vector<PollItem> items;
    for (const auto& id : item_ids) items.push_back(Matched(MakeItem(id), {sink}));
    CommitResult result = store.CommitPoll(Ok(source, now, std::move(items), true));
    ASSERT_EQ(result.alerts_queued, item_ids.size());
  }
  std::int64_t Count(const std::string& table) {
    return RawDb(file_).Int("SELECT count(*) FROM " + table);
  }

  test::TempDir dir_;
  fs::path file_ = StoreFile(dir_.path());
};

// ---------------------------------------------------------------------------------------
// Opening.

TEST_F(StoreTest, OpenCreatesSchemaInWalMode) {
  auto store = OpenStore();
  EXPECT_EQ(store->file(), file_);
  EXPECT_EQ(store->schema_version(), 1);
  RawDb raw(file_);
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 1);
  EXPECT_EQ(raw.Int("PRAGMA application_id"), 0x6e6d6f6e);
  EXPECT_EQ(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"),
            (std::vector<std::string>{"dead_letters", "history", "history_rules", "outbox", "seen",
                                      "sinks_disabled", "sources", "sqlite_sequence"}));
  EXPECT_TRUE(fs::exists(file_.string() + "-wal"));
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  {
    auto store = OpenStore();
    Queue(*store, "src", "hook", {"a", "b"});
    store->DisableSink("mail", kT0, "410 Gone");
  }
  EXPECT_FALSE(fs::exists(file_.string() + "-wal"));  // checkpointed on close
  auto store = OpenStore();
  EXPECT_EQ(store->schema_version(), 1);
  auto states = store->LoadSourceStates();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states["src"].last_poll, kT0);
  EXPECT_EQ(ItemIds(store->ListOutbox()), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(store->DisabledSinks().size(), 1u);
  EXPECT_EQ(store->DisabledSinks()[0].reason, "410 Gone");
  EXPECT_EQ(store->RecentMatches(10).size(), 2u);
  // Still seen: the same items are not new after the restart.
  CommitResult again = store->CommitPoll(Ok("src", kT0 + 1min, {Matched(MakeItem("a"), {"hook"})}));
  EXPECT_EQ(again.new_items, 0u);
  EXPECT_FALSE(again.first_sight);
}

TEST_F(StoreTest, GarbageFileIsRefusedAndLeftAlone) {
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not a database, just some text\n";
  WriteBytes(file_, garbage);
  try {
    OpenStore();
    FAIL() << "opened a text file";
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()),
              "state database " + file_.string() +
                  ": file is not a database (move it aside to start with empty state, or "
                  "restore a backup)");
  }
  EXPECT_EQ(ReadBytes(file_), garbage);
}

TEST_F(StoreTest, CorruptDatabaseFailsQuickCheckAndIsLeftAlone) {
  {
    auto store = OpenStore();
    std::vector<PollItem> items;
    for (int i = 0; i < 3000; ++i) {
      items.push_back(Unmatched(MakeItem("https://example.com/a/long/item/id/" + std::to_string(i) +
                                         std::string(60, 'x'))));
    }
    store->CommitPoll(Ok("src", kT0, std::move(items)));
  }
  std::string bytes = ReadBytes(file_);
  ASSERT_GT(bytes.size(), 40u * 4096);
  // Three pages in the middle of the file (the seen table's b-tree) overwritten.
  std::size_t page = 4096;
  std::size_t start = (bytes.size() / page / 2) * page;
  for (std::size_t i = start; i < start + 3 * page; ++i) {
    bytes[i] = static_cast<char>((i * 7919) & 0xff);
  }
  WriteBytes(file_, bytes);

  try {
    OpenStore();
    FAIL() << "opened a corrupt file";
  } catch (const StoreError& error) {
    std::string message = error.what();
    EXPECT_TRUE(message.starts_with("state database " + file_.string() + ": quick_check failed: "))
        << message;
    EXPECT_TRUE(
        message.ends_with(" (move it aside to start with empty state, or restore a backup)"))
        << message;
  }
  EXPECT_EQ(ReadBytes(file_), bytes);
}

TEST_F(StoreTest, TruncatedDatabaseIsRefusedAndLeftAlone) {
  {
    auto store = OpenStore();
    std::vector<PollItem> items;
    for (int i = 0; i < 2000; ++i) {
      items.push_back(Unmatched(MakeItem("item-" + std::to_string(i) + std::string(80, 'y'))));
    }
    store->CommitPoll(Ok("src", kT0, std::move(items)));
  }
  std::string bytes = ReadBytes(file_);
  bytes.resize(bytes.size() / 2);
  WriteBytes(file_, bytes);
  try {
    OpenStore();
    FAIL() << "opened a truncated file";
  } catch (const StoreError& error) {
    std::string message = error.what();
    EXPECT_TRUE(message.starts_with("state database " + file_.string() + ": ")) << message;
    EXPECT_TRUE(
        message.ends_with(" (move it aside to start with empty state, or restore a backup)"))
        << message;
  }
  EXPECT_EQ(ReadBytes(file_), bytes);
}

TEST_F(StoreTest, ParentThatIsAFileIsRefused) {
  fs::path file = dir_.Write("not-a-dir", "x") / "newsmon.db";
  try {
    Store::Open(file);
    FAIL() << "opened " << file;
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()), "state database " + file.string() +
                                             ": unable to open database file: " +
                                             file.parent_path().string() + " is not a directory");
  }
}

TEST_F(StoreTest, MissingDirectoryIsRefused) {
  fs::path file = dir_.path() / "missing" / "newsmon.db";
  try {
    Store::Open(file);
    FAIL() << "opened " << file;
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()), "state database " + file.string() +
                                             ": unable to open database file: directory " +
                                             file.parent_path().string() + " does not exist");
  }
  EXPECT_FALSE(fs::exists(file.parent_path()));
}

TEST_F(StoreTest, ReadOnlyDirectoryIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes to read-only directories";
  fs::path locked = dir_.path() / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  try {
    Store::Open(locked / "newsmon.db");
    ADD_FAILURE() << "opened a file in a read-only directory";
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()), "state database " + (locked / "newsmon.db").string() +
                                             ": unable to open database file: directory " +
                                             locked.string() + " is not writable");
  }
  EXPECT_FALSE(fs::exists(locked / "newsmon.db"));
  fs::permissions(locked, fs::perms::owner_all);
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
  OpenStore().reset();
  RawDb(file_).Exec("PRAGMA user_version = 7");
  try {
    OpenStore();
    FAIL() << "opened a newer schema";
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()),
              "state database " + file_.string() +
                  ": created by a newer newsmon: schema 7, this build knows up to 1");
  }
  EXPECT_EQ(RawDb(file_).Int("PRAGMA user_version"), 7);
}

TEST_F(StoreTest, AnotherProgramsDatabaseIsRefused) {
  RawDb(file_).Exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')");
  try {
    OpenStore();
    FAIL() << "opened a foreign database";
  } catch (const StoreError& error) {
    EXPECT_NE(std::string(error.what()).find(": not a newsmon state database"), std::string::npos)
        << error.what();
  }
  RawDb raw(file_);
  EXPECT_EQ(raw.Column("SELECT name FROM sqlite_schema"), std::vector<std::string>{"notes"});
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 0);
}

TEST_F(StoreTest, ReadOnlyOpenOfMissingFileFails) {
  try {
    OpenStore({.read_only = true});
    FAIL() << "opened a missing file";
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()),
              "state database " + file_.string() + ": unable to open database file: no such file");
  }
  EXPECT_FALSE(fs::exists(file_));
}

// ---------------------------------------------------------------------------------------
// Sources.

TEST_F(StoreTest, SourceStateRoundTripsEveryField) {
  core::SourceState full;
  full.etag = "W/\"abc\"";
  full.last_modified = "Fri, 01 Mar 2024 08:00:00 GMT";
  full.last_poll = kT0 + 1ms;
  full.last_success = kT0 - 1h + 7ms;
  full.last_failure = kT0 - 2h;
  full.last_outcome = core::PollOutcome::kHttp429;
  full.last_error = "https://example.com/feed.xml: 429 Too Many Requests";
  full.consecutive_failures = 3;
  full.next_poll = kT0 + 15min + 250ms;
  full.interval = 900250ms;
  {
    auto store = OpenStore();
    PollCommit commit{.source = "full", .state = full, .now = kT0};
    store->CommitPoll(commit);
    store->CommitPoll(PollCommit{.source = "empty", .now = kT0});
  }
  auto states = OpenStore()->LoadSourceStates();
  ASSERT_EQ(states.size(), 2u);
  const core::SourceState& got = states.at("full");
  EXPECT_EQ(got.etag, full.etag);
  EXPECT_EQ(got.last_modified, full.last_modified);
  EXPECT_EQ(got.last_poll, full.last_poll);
  EXPECT_EQ(got.last_success, full.last_success);
  EXPECT_EQ(got.last_failure, full.last_failure);
  EXPECT_EQ(got.last_outcome, full.last_outcome);
  EXPECT_EQ(got.last_error, full.last_error);
  EXPECT_EQ(got.consecutive_failures, 3);
  EXPECT_EQ(got.next_poll, full.next_poll);
  EXPECT_EQ(got.interval, 900250ms);

  const core::SourceState& empty = states.at("empty");
  EXPECT_EQ(empty.etag, "");
  EXPECT_EQ(empty.last_modified, "");
  EXPECT_EQ(empty.last_poll, std::nullopt);
  EXPECT_EQ(empty.last_success, std::nullopt);
  EXPECT_EQ(empty.last_failure, std::nullopt);
  EXPECT_EQ(empty.last_outcome, std::nullopt);
  EXPECT_EQ(empty.last_error, "");
  EXPECT_EQ(empty.consecutive_failures, 0);
  EXPECT_EQ(empty.next_poll, std::nullopt);
  EXPECT_EQ(empty.interval, 0ms);
}

TEST_F(StoreTest, EveryOutcomeNameRoundTrips) {
  auto store = OpenStore();
  for (const auto& [outcome, name] : core::kPollOutcomeNames) {
    PollCommit commit{.source = std::string(name), .now = kT0};
    commit.state.last_outcome = outcome;
    store->CommitPoll(commit);
  }
  auto states = store->LoadSourceStates();
  ASSERT_EQ(states.size(), std::size(core::kPollOutcomeNames));
  for (const auto& [outcome, name] : core::kPollOutcomeNames) {
    EXPECT_EQ(states.at(std::string(name)).last_outcome, outcome) << name;
  }
  EXPECT_EQ(RawDb(file_).Text("SELECT last_outcome FROM sources WHERE name = 'http_4xx'"),
            "http_4xx");
}

TEST_F(StoreTest, LaterStateReplacesEarlier) {
  auto store = OpenStore();
  PollCommit failed{.source = "src", .now = kT0};
  failed.state.consecutive_failures = 2;
  failed.state.last_error = "timeout";
  failed.state.etag = "old";
  store->CommitPoll(failed);
  PollCommit ok = Ok("src", kT0 + 1min, {});
  ok.state.etag = "new";
  store->CommitPoll(ok);
  auto states = store->LoadSourceStates();
  EXPECT_EQ(states.at("src").etag, "new");
  EXPECT_EQ(states.at("src").consecutive_failures, 0);
  EXPECT_EQ(states.at("src").last_error, "");
}

// ---------------------------------------------------------------------------------------
// Poll commits.

std::vector<PollItem> MatchedItems(int count, const std::vector<std::string>& sinks,
                                   const std::string& prefix = "item") {
  std::vector<PollItem> items;
  for (int i = 0; i < count; ++i) {
    items.push_back(Matched(MakeItem(prefix + std::to_string(i)), sinks));
  }
  return items;
}

TEST_F(StoreTest, FirstSightWithoutBackfillOnlyRecords) {
  auto store = OpenStore();
  CommitResult result = store->CommitPoll(Ok("src", kT0, MatchedItems(50, {"hook"}), false));
  EXPECT_TRUE(result.first_sight);
  EXPECT_EQ(result.new_items, 50u);
  EXPECT_EQ(result.suppressed, 50u);
  EXPECT_EQ(result.alerts_queued, 0u);
  EXPECT_TRUE(result.sinks.empty());
  EXPECT_TRUE(store->ListOutbox().empty());
  auto history = store->RecentMatches(100);
  ASSERT_EQ(history.size(), 50u);
  for (const auto& entry : history) {
    EXPECT_FALSE(entry.alerted);
    EXPECT_EQ(entry.source, "src");
    EXPECT_EQ(entry.first_seen, kT0);
  }
  EXPECT_EQ(history.front().item.id, "item49");  // newest first
  EXPECT_EQ(history.back().item.id, "item0");
  EXPECT_EQ(Count("seen"), 50);
  EXPECT_EQ(RawDb(file_).Int("SELECT first_ok FROM sources"), kT0.time_since_epoch().count());
}

TEST_F(StoreTest, FirstSightWithBackfillAlerts) {
  auto store = OpenStore();
  CommitResult result = store->CommitPoll(Ok("src", kT0, MatchedItems(50, {"hook"}), true));
  EXPECT_TRUE(result.first_sight);
  EXPECT_EQ(result.new_items, 50u);
  EXPECT_EQ(result.suppressed, 0u);
  EXPECT_EQ(result.alerts_queued, 50u);
  EXPECT_EQ(result.sinks, std::vector<std::string>{"hook"});
  auto outbox = store->ListOutbox();
  ASSERT_EQ(outbox.size(), 50u);
  EXPECT_EQ(outbox.front().alert.item.id, "item0");  // feed order
  EXPECT_EQ(outbox.back().alert.item.id, "item49");
  for (const auto& entry : outbox) {
    EXPECT_EQ(entry.created, kT0);
    EXPECT_EQ(entry.next_attempt, kT0);
    EXPECT_EQ(entry.attempts, 0);
    EXPECT_EQ(entry.last_status, 0);
    EXPECT_EQ(entry.last_error, "");
  }
  auto history = store->RecentMatches(100);
  ASSERT_EQ(history.size(), 50u);
  for (const auto& entry : history) EXPECT_TRUE(entry.alerted);
}

TEST_F(StoreTest, SameItemsAgainAreNotNew) {
  auto store = OpenStore();
  store->CommitPoll(Ok("src", kT0, MatchedItems(10, {"hook"}), true));
  CommitResult again = store->CommitPoll(Ok("src", kT0 + 5min, MatchedItems(10, {"hook"})));
  EXPECT_FALSE(again.first_sight);
  EXPECT_EQ(again.new_items, 0u);
  EXPECT_TRUE(again.fresh.empty());
  EXPECT_EQ(again.alerts_queued, 0u);
  EXPECT_EQ(again.suppressed, 0u);
  EXPECT_EQ(store->ListOutbox().size(), 10u);
  EXPECT_EQ(store->RecentMatches(100).size(), 10u);
  // The same item id in another source is another item.
  CommitResult other = store->CommitPoll(Ok("other", kT0, MatchedItems(10, {"hook"}), true));
  EXPECT_EQ(other.new_items, 10u);
  // An id twice in one feed counts once.
  CommitResult twice = store->CommitPoll(
      Ok("src", kT0 + 10min,
         {Matched(MakeItem("dup"), {"hook"}), Matched(MakeItem("dup"), {"hook"})}));
  EXPECT_EQ(twice.new_items, 1u);
  EXPECT_EQ(twice.fresh, std::vector<std::size_t>{0});
  EXPECT_EQ(twice.alerts_queued, 1u);
  // `fresh` lists the new items by their place in the feed.
  CommitResult mixed =
      store->CommitPoll(Ok("src", kT0 + 15min,
                           {Matched(MakeItem("item3"), {"hook"}), Matched(MakeItem("n1"), {}),
                            Matched(MakeItem("dup"), {"hook"}), Matched(MakeItem("n2"), {})}));
  EXPECT_EQ(mixed.fresh, (std::vector<std::size_t>{1, 3}));
}

TEST_F(StoreTest, SecondOkPollIsNotFirstSight) {
  auto store = OpenStore();
  // A failed poll first: the source has a row, but no successful poll yet.
  PollCommit failed{.source = "src", .now = kT0};
  failed.state.last_outcome = core::PollOutcome::kTimeout;
  CommitResult failure = store->CommitPoll(failed);
  EXPECT_FALSE(failure.first_sight);
  EXPECT_EQ(RawDb(file_).Text("SELECT first_ok FROM sources"), "NULL");

  CommitResult first = store->CommitPoll(Ok("src", kT0 + 1min, MatchedItems(3, {"hook"}, "a")));
  EXPECT_TRUE(first.first_sight);
  EXPECT_EQ(first.suppressed, 3u);
  CommitResult second =
      store->CommitPoll(Ok("src", kT0 + 2min, MatchedItems(2, {"hook", "mail"}, "b")));
  EXPECT_FALSE(second.first_sight);
  EXPECT_EQ(second.new_items, 2u);
  EXPECT_EQ(second.suppressed, 0u);
  EXPECT_EQ(second.alerts_queued, 4u);
  EXPECT_EQ(second.sinks, (std::vector<std::string>{"hook", "mail"}));
  // first_ok stays at the first success.
  EXPECT_EQ(RawDb(file_).Int("SELECT first_ok FROM sources"),
            (kT0 + 1min).time_since_epoch().count());
}

TEST_F(StoreTest, FailedPollSavesOnlyState) {
  auto store = OpenStore();
  PollCommit failed{.source = "src", .now = kT0, .ok = false, .items = MatchedItems(3, {"hook"})};
  CommitResult result = store->CommitPoll(failed);
  EXPECT_EQ(result.new_items, 0u);
  EXPECT_EQ(result.alerts_queued, 0u);
  EXPECT_EQ(Count("seen"), 0);
  EXPECT_EQ(Count("sources"), 1);
}

TEST_F(StoreTest, OldestAlertableSuppressesOldItemsButNotUndated) {
  auto store = OpenStore();
  store->CommitPoll(Ok("src", kT0, {}));  // not first sight any more
  core::TimePoint limit = floor<seconds>(kT0 - 24h);
  PollCommit commit = Ok(
      "src", kT0 + 1min,
      {Matched(MakeItem("old", limit - 1s), {"hook"}), Matched(MakeItem("edge", limit), {"hook"}),
       Matched(MakeItem("new", limit + 1h), {"hook"}), Matched(MakeItem("undated"), {"hook"}),
       Unmatched(MakeItem("plain"))});
  commit.oldest_alertable = limit;
  CommitResult result = store->CommitPoll(commit);
  EXPECT_FALSE(result.first_sight);
  EXPECT_EQ(result.new_items, 5u);
  EXPECT_EQ(result.suppressed, 1u);
  EXPECT_EQ(result.alerts_queued, 3u);
  EXPECT_EQ(ItemIds(store->ListOutbox()), (std::vector<std::string>{"edge", "new", "undated"}));
  auto history = store->RecentMatches(10);
  ASSERT_EQ(Titles(history), (std::vector<std::string>{"undated", "new", "edge", "old"}));
  EXPECT_FALSE(history[3].alerted);
  EXPECT_TRUE(history[0].alerted);
  // Marked seen all the same: the old item never alerts later.
  PollCommit again = Ok("src", kT0 + 2min, {Matched(MakeItem("old", limit - 1s), {"hook"})});
  EXPECT_EQ(store->CommitPoll(again).new_items, 0u);
}

TEST_F(StoreTest, OneAlertPerItemAndSinkWithUniqueDeliveryIds) {
  auto store = OpenStore();
  CommitResult result =
      store->CommitPoll(Ok("src", kT0, MatchedItems(10, {"mail", "hook", "chat"}), true));
  EXPECT_EQ(result.alerts_queued, 30u);
  EXPECT_EQ(result.sinks, (std::vector<std::string>{"chat", "hook", "mail"}));
  auto outbox = store->ListOutbox();
  ASSERT_EQ(outbox.size(), 30u);
  std::set<std::string> ids;
  const std::regex shape("nm_[0-7][0-9a-hjkmnp-tv-z]{25}");
  for (const auto& entry : outbox) {
    EXPECT_TRUE(std::regex_match(entry.alert.delivery_id, shape)) << entry.alert.delivery_id;
    ids.insert(entry.alert.delivery_id);
  }
  EXPECT_EQ(ids.size(), 30u);
  EXPECT_EQ(store->ListOutbox("hook").size(), 10u);
  EXPECT_EQ(outbox[0].alert.sink, "mail");  // alerts in the order given, item by item
  EXPECT_EQ(outbox[1].alert.sink, "hook");
  EXPECT_EQ(outbox[2].alert.sink, "chat");
  EXPECT_EQ(outbox[3].alert.item.id, "item1");
  EXPECT_EQ(store->PendingCounts(),
            (std::map<std::string, std::size_t>{{"chat", 10}, {"hook", 10}, {"mail", 10}}));
  EXPECT_EQ(RawDb(file_).Column("SELECT DISTINCT source FROM outbox"),
            std::vector<std::string>{"src"});
}

TEST_F(StoreTest, AlertRoundTripsExactly) {
  core::Item item;
  item.id = "urn:uuid:1234";
  item.title = "Grève générale — «тест» \"quoted\" \\ back\tslash\n日本語 😀";
  item.link = "https://example.com/a?b=c&d=e";
  item.published = floor<seconds>(sys_days{1969y / July / 20} + 20h + 17min);
  item.summary = "";
  item.author = "Ann <ann@example.com>";
  item.categories = {"world", "politics", "économie"};
  item.source = "src";

  core::Alert full;
  full.sink = "hook";
  full.source = "src";
  full.source_url = "https://example.com/feed.xml";
  full.item = item;
  core::RuleHit hit1 = Hit("strike", core::RuleSeverity::kCritical);
  hit1.labels = {{"team", "news"}, {"area", "eu"}, {"team", "dup keeps order"}};
  hit1.field = core::Field::kCategories;
  hit1.begin = 7;
  hit1.end = 15;
  hit1.text = "politics";
  core::RuleHit hit2 = Hit("info-rule", core::RuleSeverity::kInfo);
  hit2.field = core::Field::kAuthor;
  full.rules = {hit1, hit2};
  full.first_seen = kT0 + 123ms;
  full.test = true;

  core::Alert bare;
  bare.sink = "hook";
  bare.source = "src";
  bare.item.id = "bare";
  bare.item.title = "t";
  bare.first_seen = kT0;

  auto store = OpenStore();
  store->CommitPoll(
      Ok("src", kT0,
         {PollItem{.item = item, .alerts = {full}}, PollItem{.item = bare.item, .alerts = {bare}}},
         true));
  auto outbox = store->ListOutbox();
  ASSERT_EQ(outbox.size(), 2u);
  ExpectSameAlert(outbox[0].alert, full);
  ExpectSameAlert(outbox[1].alert, bare);
  EXPECT_EQ(outbox[1].alert.item.link, std::nullopt);
  EXPECT_EQ(outbox[1].alert.item.published, std::nullopt);
  EXPECT_EQ(outbox[1].alert.item.summary, std::nullopt);
  EXPECT_EQ(outbox[1].alert.item.author, std::nullopt);
  EXPECT_EQ(outbox[0].alert.item.summary, std::optional<std::string>(""));

  auto history = store->RecentMatches(10);
  ASSERT_EQ(history.size(), 2u);
  ExpectSameItem(history[1].item, item);
  ExpectSameRules(history[1].rules, full.rules);
}

TEST_F(StoreTest, HistoryRulesAreTheUnionOfTheAlertsRules) {
  auto store = OpenStore();
  PollItem item = Matched(MakeItem("x"), {"hook", "mail"});
  item.alerts[0].rules = {Hit("b"), Hit("a")};
  item.alerts[1].rules = {Hit("a"), Hit("c")};
  store->CommitPoll(Ok("src", kT0, {item}, true));
  auto history = store->RecentMatches(1);
  ASSERT_EQ(history.size(), 1u);
  std::vector<std::string> rules;
  for (const auto& hit : history[0].rules) rules.push_back(hit.rule);
  EXPECT_EQ(rules, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(store->RecentMatches(10, "c").size(), 1u);
}

TEST_F(StoreTest, InvalidUtf8IsReplacedNotThrown) {
  auto store = OpenStore();
  core::Item item = MakeItem("bad");
  item.title = std::string("a\xff\xfe") + "b";
  store->CommitPoll(Ok("src", kT0, {Matched(item, {"hook"})}, true));
  auto outbox = store->ListOutbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].alert.item.title,
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
}

// ---------------------------------------------------------------------------------------
// Outbox.

TEST_F(StoreTest, DueOrderLimitExcludeAndNextAttempt) {
  auto store = OpenStore();
  Queue(*store, "src", "hook", {"a", "b", "c", "d", "e"});
  Queue(*store, "src2", "mail", {"m"});
  auto all = store->ListOutbox("hook");
  ASSERT_EQ(all.size(), 5u);

  EXPECT_TRUE(store->Due("hook", kT0 - 1ms, 10).empty());
  EXPECT_EQ(ItemIds(store->Due("hook", kT0, 10)),
            (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(ItemIds(store->Due("hook", kT0, 2)), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(store->Due("hook", kT0, 0).empty());
  EXPECT_EQ(ItemIds(store->Due("hook", kT0, 2, {all[0].id, all[2].id})),
            (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(ItemIds(store->Due("mail", kT0, 10)), std::vector<std::string>{"m"});
  EXPECT_TRUE(store->Due("nobody", kT0, 10).empty());

  // b backs off: the others pass it, it comes back when due.
  store->MarkFailed(all[1].id, kT0 + 30s, 503, "503 Service Unavailable");
  EXPECT_EQ(ItemIds(store->Due("hook", kT0 + 10s, 10)),
            (std::vector<std::string>{"a", "c", "d", "e"}));
  EXPECT_EQ(ItemIds(store->Due("hook", kT0 + 30s, 2)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(store->NextDue("hook"), kT0);
  for (const auto& entry : all) {
    if (entry.id != all[1].id) store->MarkDelivered(entry.id);
  }
  EXPECT_EQ(store->NextDue("hook"), kT0 + 30s);
  EXPECT_EQ(store->NextDue("nobody"), std::nullopt);
  store->MarkDelivered(all[1].id);
  EXPECT_EQ(store->NextDue("hook"), std::nullopt);
  EXPECT_EQ(store->PendingCounts(), (std::map<std::string, std::size_t>{{"mail", 1}}));
  store->MarkDelivered(all[1].id);  // unknown by now: nothing happens
}

TEST_F(StoreTest, MarkFailedCountsAttempts) {
  auto store = OpenStore();
  Queue(*store, "src", "hook", {"a"});
  std::int64_t id = store->ListOutbox()[0].id;
  store->MarkFailed(id, kT0 + 10s, 500, "first");
  store->MarkFailed(id, kT0 + 40s, 0, "connection refused");
  auto outbox = store->ListOutbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].id, id);
  EXPECT_EQ(outbox[0].attempts, 2);
  EXPECT_EQ(outbox[0].next_attempt, kT0 + 40s);
  EXPECT_EQ(outbox[0].last_status, 0);
  EXPECT_EQ(outbox[0].last_error, "connection refused");
  EXPECT_EQ(outbox[0].created, kT0);
}

TEST_F(StoreTest, DeadLettersAndRetryKeepTheDeliveryId) {
  auto store = OpenStore();
  Queue(*store, "src", "hook", {"a", "b"});
  auto outbox = store->ListOutbox();
  store->MarkFailed(outbox[0].id, kT0 + 10s, 500, "boom");
  store->MoveToDeadLetters(outbox[0].id, kT0 + 1h, 400, "400 Bad Request: {\"error\"");
  store->DisableSink("hook", kT0 + 1h, "410 Gone");

  EXPECT_EQ(ItemIds(store->ListOutbox()), std::vector<std::string>{"b"});
  auto letters = store->ListDeadLetters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].alert.delivery_id, outbox[0].alert.delivery_id);
  ExpectSameAlert(letters[0].alert, outbox[0].alert);
  EXPECT_EQ(letters[0].created, kT0);
  EXPECT_EQ(letters[0].failed, kT0 + 1h);
  EXPECT_EQ(letters[0].attempts, 2);
  EXPECT_EQ(letters[0].status, 400);
  EXPECT_EQ(letters[0].reason, "400 Bad Request: {\"error\"");
  EXPECT_EQ(store->DeadLetterCounts(), (std::map<std::string, std::size_t>{{"hook", 1}}));
  EXPECT_TRUE(store->ListDeadLetters("mail").empty());

  std::vector<std::int64_t> ids = {letters[0].id, 9999, letters[0].id};
  EXPECT_EQ(store->RetryDeadLetters(ids, kT0 + 2h), 1u);
  EXPECT_TRUE(store->ListDeadLetters().empty());
  EXPECT_TRUE(store->DisabledSinks().empty());
  auto requeued = store->ListOutbox();
  ASSERT_EQ(requeued.size(), 2u);
  EXPECT_EQ(requeued[1].alert.delivery_id, outbox[0].alert.delivery_id);
  EXPECT_GT(requeued[1].id, outbox[1].id);  // a new row, at the back
  EXPECT_EQ(requeued[1].attempts, 0);
  EXPECT_EQ(requeued[1].last_status, 0);
  EXPECT_EQ(requeued[1].last_error, "");
  EXPECT_EQ(requeued[1].created, kT0);
  EXPECT_EQ(requeued[1].next_attempt, kT0 + 2h);
  EXPECT_EQ(store->DeadLetterCounts(), (std::map<std::string, std::size_t>{}));
}

TEST_F(StoreTest, RetryAllDeadLettersPerSinkAndAll) {
  auto store = OpenStore();
  Queue(*store, "src", "hook", {"h1", "h2"});
  Queue(*store, "src2", "mail", {"m1"});
  for (const auto& entry : store->ListOutbox()) {
    store->MoveToDeadLetters(entry.id, kT0 + 1min, 410, "gone");
  }
  store->DisableSink("hook", kT0, "410");
  store->DisableSink("mail", kT0, "410");
  EXPECT_EQ(store->DeadLetterCounts(),
            (std::map<std::string, std::size_t>{{"hook", 2}, {"mail", 1}}));

  EXPECT_EQ(store->RetryAllDeadLetters("hook", kT0 + 1h), 2u);
  EXPECT_EQ(ItemIds(store->ListOutbox()), (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(store->DeadLetterCounts(), (std::map<std::string, std::size_t>{{"mail", 1}}));
  ASSERT_EQ(store->DisabledSinks().size(), 1u);
  EXPECT_EQ(store->DisabledSinks()[0].sink, "mail");

  store->DisableSink("other", kT0, "410");
  EXPECT_EQ(store->RetryAllDeadLetters(std::nullopt, kT0 + 2h), 1u);
  EXPECT_EQ(ItemIds(store->ListOutbox()), (std::vector<std::string>{"h1", "h2", "m1"}));
  EXPECT_TRUE(store->ListDeadLetters().empty());
  EXPECT_TRUE(store->DisabledSinks().empty());
  EXPECT_EQ(store->RetryAllDeadLetters(std::nullopt, kT0 + 3h), 0u);
}

TEST_F(StoreTest, RetryKeepsAnOutboxRowWithTheSameDeliveryId) {
  auto store = OpenStore();
  Queue(*store, "src", "hook", {"a"});
  auto entry = store->ListOutbox()[0];
  store->MoveToDeadLetters(entry.id, kT0, 500, "x");
  // Should not happen: the same delivery id back in the outbox by other means.
  RawDb(file_).Exec(
      "INSERT INTO outbox (delivery_id, sink, source, alert, created, next_attempt, attempts, "
      "last_status, last_error) SELECT delivery_id, sink, source, alert, created, 5, 3, 0, '' "
      "FROM dead_letters");
  EXPECT_EQ(store->RetryAllDeadLetters(std::nullopt, kT0 + 1h), 1u);
  auto outbox = store->ListOutbox();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].attempts, 3);
  EXPECT_TRUE(store->ListDeadLetters().empty());
}

TEST_F(StoreTest, DisabledSinks) {
  auto store = OpenStore();
  EXPECT_TRUE(store->DisabledSinks().empty());
  store->DisableSink("mail", kT0, "410 Gone from https://mail.example/...");
  store->DisableSink("hook", kT0 + 1s, "410 Gone");
  store->DisableSink("hook", kT0 + 2s, "again");  // already disabled: the first stays
  auto disabled = store->DisabledSinks();
  ASSERT_EQ(disabled.size(), 2u);
  EXPECT_EQ(disabled[0].sink, "hook");
  EXPECT_EQ(disabled[0].since, kT0 + 1s);
  EXPECT_EQ(disabled[0].reason, "410 Gone");
  EXPECT_EQ(disabled[1].sink, "mail");
  store->EnableSink("hook");
  store->EnableSink("unknown");
  ASSERT_EQ(store->DisabledSinks().size(), 1u);
  store->EnableAllSinks();
  EXPECT_TRUE(store->DisabledSinks().empty());
}

// ---------------------------------------------------------------------------------------
// Retention, history, forgetting.

TEST_F(StoreTest, RetentionForgetsItemsGoneFromTheFeed) {
  auto store = OpenStore({.seen_retention = hours(24 * 10)});
  store->CommitPoll(Ok("src", kT0, {Unmatched(MakeItem("stays")), Unmatched(MakeItem("goes"))}));
  RawDb raw(file_);
  auto last_seen = [&](const std::string& id) {
    return raw.Int("SELECT last_seen FROM seen WHERE item_id = '" + id + "'");
  };
  auto ms = [](WallTime t) { return t.time_since_epoch().count(); };

  // Within the hour: last_seen is not rewritten.
  store->CommitPoll(Ok("src", kT0 + 30min, {Unmatched(MakeItem("stays"))}));
  EXPECT_EQ(last_seen("stays"), ms(kT0));
  // Later: refreshed.
  store->CommitPoll(Ok("src", kT0 + 5 * 24h, {Unmatched(MakeItem("stays"))}));
  EXPECT_EQ(last_seen("stays"), ms(kT0 + 5 * 24h));
  EXPECT_EQ(last_seen("goes"), ms(kT0));

  // Another source's polls do not prune this one's items.
  store->CommitPoll(Ok("other", kT0 + 11 * 24h, {}));
  EXPECT_EQ(Count("seen"), 2);
  // A failed poll prunes nothing.
  store->CommitPoll(PollCommit{.source = "src", .now = kT0 + 11 * 24h});
  EXPECT_EQ(Count("seen"), 2);

  // 11 days on: "goes" (last seen 11 days ago) is forgotten, "stays" (6 days) is not.
  CommitResult result =
      store->CommitPoll(Ok("src", kT0 + 11 * 24h, {Unmatched(MakeItem("stays"))}));
  EXPECT_EQ(result.new_items, 0u);
  EXPECT_EQ(raw.Column("SELECT item_id FROM seen WHERE source = 'src'"),
            std::vector<std::string>{"stays"});
  // Should it come back, it is new again.
  result = store->CommitPoll(
      Ok("src", kT0 + 12 * 24h, {Unmatched(MakeItem("stays")), Unmatched(MakeItem("goes"))}));
  EXPECT_EQ(result.new_items, 1u);
}

TEST_F(StoreTest, ShortRetentionStillKeepsItemsInTheFeed) {
  auto store = OpenStore({.seen_retention = minutes(10)});
  store->CommitPoll(Ok("src", kT0, {Unmatched(MakeItem("a"))}));
  for (int i = 1; i <= 12; ++i) {
    CommitResult result = store->CommitPoll(Ok("src", kT0 + i * 4min, {Unmatched(MakeItem("a"))}));
    EXPECT_EQ(result.new_items, 0u) << i;
  }
}

TEST_F(StoreTest, HistoryIsBoundedAndFiltered) {
  auto store = OpenStore({.history_limit = 5});
  store->CommitPoll(Ok("a", kT0, {Matched(MakeItem("a1"), {"hook"}, {"r1"})}, true));
  store->CommitPoll(Ok("b", kT0, {Matched(MakeItem("b1"), {"hook"}, {"r2"})}, true));
  store->CommitPoll(Ok("a", kT0 + 1min,
                       {Matched(MakeItem("a2"), {"hook"}, {"r1", "r2"}),
                        Matched(MakeItem("a3"), {"hook"}, {"r2"}), Unmatched(MakeItem("a4"))}));
  store->CommitPoll(
      Ok("b", kT0 + 1min,
         {Matched(MakeItem("b2"), {"hook"}, {"r1"}), Matched(MakeItem("b3"), {"hook"}, {"r3"}),
          Matched(MakeItem("b4"), {"hook"}, {"r1"})}));
  // 7 matched items, 5 kept: a1 and b1 went, with their rule rows.
  EXPECT_EQ(Titles(store->RecentMatches(100)),
            (std::vector<std::string>{"b4", "b3", "b2", "a3", "a2"}));
  EXPECT_EQ(Count("history_rules"), 6);
  EXPECT_EQ(Titles(store->RecentMatches(2)), (std::vector<std::string>{"b4", "b3"}));
  EXPECT_EQ(Titles(store->RecentMatches(100, "r1")), (std::vector<std::string>{"b4", "b2", "a2"}));
  EXPECT_EQ(Titles(store->RecentMatches(1, "r1")), (std::vector<std::string>{"b4"}));
  EXPECT_EQ(Titles(store->RecentMatches(100, "r2")), (std::vector<std::string>{"a3", "a2"}));
  EXPECT_EQ(Titles(store->RecentMatches(100, std::nullopt, "a")),
            (std::vector<std::string>{"a3", "a2"}));
  EXPECT_EQ(Titles(store->RecentMatches(100, "r1", "a")), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(Titles(store->RecentMatches(100, "r1", "b")), (std::vector<std::string>{"b4", "b2"}));
  EXPECT_TRUE(store->RecentMatches(100, "nope").empty());
  EXPECT_TRUE(store->RecentMatches(100, "r%").empty());  // a name, not a pattern
  EXPECT_TRUE(store->RecentMatches(0).empty());
  auto b4 = store->RecentMatches(1)[0];
  EXPECT_EQ(b4.source, "b");
  EXPECT_EQ(b4.first_seen, kT0 + 1min);
  EXPECT_TRUE(b4.alerted);
}

TEST_F(StoreTest, ForgetSourcesExceptKeepsTheOutbox) {
  auto store = OpenStore();
  Queue(*store, "a", "hook", {"a1"});
  Queue(*store, "b", "hook", {"b1", "b2"});
  Queue(*store, "c", "mail", {"c1"});
  EXPECT_EQ(store->ForgetSourcesExcept({"a", "unknown"}), 2u);
  auto states = store->LoadSourceStates();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_TRUE(states.contains("a"));
  EXPECT_EQ(Titles(store->RecentMatches(10)), std::vector<std::string>{"a1"});
  EXPECT_EQ(RawDb(file_).Column("SELECT DISTINCT source FROM seen"), std::vector<std::string>{"a"});
  EXPECT_EQ(Count("history_rules"), 1);
  EXPECT_EQ(ItemIds(store->ListOutbox()), (std::vector<std::string>{"a1", "b1", "b2", "c1"}));
  EXPECT_EQ(store->ForgetSourcesExcept({"a"}), 0u);
  // b comes back: a first sight again.
  CommitResult again = store->CommitPoll(Ok("b", kT0 + 1h, MatchedItems(1, {"hook"})));
  EXPECT_TRUE(again.first_sight);
  EXPECT_EQ(again.new_items, 1u);
}

// ---------------------------------------------------------------------------------------
// Readers, failures.

TEST_F(StoreTest, ReadOnlyReaderSeesCommittedRowsBesideTheWriter) {
  auto writer = OpenStore();
  Queue(*writer, "src", "hook", {"a"});
  auto reader = OpenStore({.read_only = true});
  EXPECT_EQ(reader->schema_version(), 1);
  EXPECT_EQ(ItemIds(reader->ListOutbox()), std::vector<std::string>{"a"});
  EXPECT_EQ(reader->LoadSourceStates().size(), 1u);
  Queue(*writer, "src", "hook", {"b"}, kT0 + 1min);
  EXPECT_EQ(ItemIds(reader->ListOutbox()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reader->PendingCounts(), (std::map<std::string, std::size_t>{{"hook", 2}}));
  try {
    reader->DisableSink("hook", kT0, "no");
    FAIL() << "a read-only store wrote";
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()), "state database " + file_.string() +
                                             ": disabling a sink: attempt to write a "
                                             "readonly database");
  }
  EXPECT_TRUE(writer->DisabledSinks().empty());
}

TEST_F(StoreTest, ReadOnlyOpenDoesNotMigrate) {
  RawDb(file_).Exec("PRAGMA user_version = 0");  // an empty SQLite file
  try {
    OpenStore({.read_only = true});
    FAIL();
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()),
              "state database " + file_.string() +
                  ": schema 0, this build needs 1 (start the daemon once to migrate it)");
  }
  EXPECT_EQ(RawDb(file_).Int("SELECT count(*) FROM sqlite_schema"), 0);
}

TEST_F(StoreTest, FailedCommitLeavesNothingHalfWritten) {
  auto store = OpenStore();
  std::vector<PollCommit> commits;
  commits.push_back(Ok("good", kT0, MatchedItems(5, {"hook"}), true));
  commits.push_back(Ok("bad", kT0, MatchedItems(5, {"hook"}, "bad"), true));
  commits.back().state.consecutive_failures = -1;  // the schema's CHECK refuses it
  try {
    store->CommitPolls(commits);
    FAIL() << "committed";
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()), "state database " + file_.string() +
                                             ": committing polls: CHECK constraint failed: "
                                             "consecutive_failures >= 0");
  }
  for (const char* table : {"sources", "seen", "history", "history_rules", "outbox"}) {
    EXPECT_EQ(Count(table), 0) << table;
  }
  // The store goes on: the good commit alone goes through, as a first sight still.
  std::vector<CommitResult> results = store->CommitPolls(std::span(commits).first(1));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].first_sight);
  EXPECT_EQ(results[0].alerts_queued, 5u);
}

TEST_F(StoreTest, FailureMidCommitRollsBackEverything) {
  auto store = OpenStore();
  store->CommitPoll(Ok("src", kT0, {Unmatched(MakeItem("old"))}));
  // Fault injection: the outbox insert fails after the state, seen and history rows of the
  // same transaction were written.
  RawDb(file_).Exec(
      "CREATE TRIGGER fail BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'injected'); END");
  PollCommit commit = Ok(
      "src", kT0 + 2h,
      {Unmatched(MakeItem("old")), Unmatched(MakeItem("n1")), Matched(MakeItem("n2"), {"hook"})});
  commit.state.etag = "changed";
  EXPECT_THROW(store->CommitPoll(commit), StoreError);
  RawDb raw(file_);
  EXPECT_EQ(raw.Column("SELECT item_id FROM seen ORDER BY item_id"),
            std::vector<std::string>{"old"});
  EXPECT_EQ(raw.Int("SELECT last_seen FROM seen"), kT0.time_since_epoch().count());
  EXPECT_EQ(raw.Text("SELECT etag FROM sources"), "");
  EXPECT_EQ(Count("history"), 0);
  raw.Exec("DROP TRIGGER fail");
  CommitResult result = store->CommitPoll(commit);
  EXPECT_EQ(result.new_items, 2u);
  EXPECT_EQ(result.alerts_queued, 1u);
}

TEST_F(StoreTest, BusyWriterTimesOut) {
  auto store = OpenStore({.busy_timeout = milliseconds(50)});
  RawDb other(file_);
  other.Exec("BEGIN IMMEDIATE");
  try {
    store->CommitPoll(Ok("src", kT0, {}));
    FAIL() << "committed under another writer's lock";
  } catch (const StoreError& error) {
    EXPECT_EQ(std::string(error.what()),
              "state database " + file_.string() + ": committing polls: database is locked");
  }
  other.Exec("ROLLBACK");
  EXPECT_TRUE(store->CommitPoll(Ok("src", kT0, {})).first_sight);
}

}  // namespace
}  // namespace newsmon::store
