#include "daemon/store/store.h"

#include <sqlite3.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "daemon/core/enum_names.h"
#include "daemon/core/rule.h"

namespace newsmon::store {
namespace {

namespace fs = std::filesystem;
using core::WallTime;
using Json = nlohmann::json;

constexpr std::string_view kBrokenFileHint =
    "move it aside to start with empty state, or restore a backup";

// PRAGMA application_id of our files ("nmon"), so another program's SQLite file is refused
// instead of having our tables added to it.
constexpr std::int32_t kApplicationId = 0x6e6d6f6e;

// kMigrations[i] takes a file from user_version i to i + 1, in a transaction of its own.
// Append only: a released script never changes.
constexpr const char* kMigrations[] = {
    // 1: the first schema. Times are INTEGER milliseconds since the Unix epoch; alerts,
    // items and rule hits are JSON (see the *ToJson functions below).
    R"sql(
CREATE TABLE sources (
  name TEXT PRIMARY KEY NOT NULL,
  etag TEXT NOT NULL,
  last_modified TEXT NOT NULL,
  last_poll INTEGER,
  last_success INTEGER,
  last_failure INTEGER,
  last_outcome TEXT,                 -- a core::kPollOutcomeNames name
  last_error TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL CHECK (consecutive_failures >= 0),
  next_poll INTEGER,
  interval_ms INTEGER NOT NULL CHECK (interval_ms >= 0),
  first_ok INTEGER                   -- when the first successful poll was committed
);

CREATE TABLE seen (
  source TEXT NOT NULL,
  item_id TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,        -- refreshed at most hourly while the item is in the feed
  PRIMARY KEY (source, item_id)
) WITHOUT ROWID;
CREATE INDEX seen_by_last_seen ON seen (source, last_seen);

CREATE TABLE history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  item_id TEXT NOT NULL,
  item TEXT NOT NULL,                -- core::Item as JSON
  rules TEXT NOT NULL,               -- JSON array of core::RuleHit, all sinks
  first_seen INTEGER NOT NULL,
  alerted INTEGER NOT NULL
);
CREATE INDEX history_by_source ON history (source, id);

-- The rule names of each history row, for RecentMatches(rule).
CREATE TABLE history_rules (
  rule TEXT NOT NULL,
  history_id INTEGER NOT NULL REFERENCES history (id) ON DELETE CASCADE,
  PRIMARY KEY (rule, history_id)
) WITHOUT ROWID;
CREATE INDEX history_rules_by_history ON history_rules (history_id);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT UNIQUE NOT NULL,
  sink TEXT NOT NULL,
  source TEXT NOT NULL,
  alert TEXT NOT NULL,               -- core::Alert as JSON
  created INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  last_status INTEGER NOT NULL,
  last_error TEXT NOT NULL
);
CREATE INDEX outbox_by_sink ON outbox (sink, next_attempt);  -- NextDue
-- Due: a sink's rows in id order with next_attempt at hand, so a backlog is not sorted (nor
-- its alerts read) on every call.
CREATE INDEX outbox_due ON outbox (sink, id, next_attempt);

CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL,
  sink TEXT NOT NULL,
  source TEXT NOT NULL,
  alert TEXT NOT NULL,               -- core::Alert as JSON
  created INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX dead_letters_by_sink ON dead_letters (sink, id);

CREATE TABLE sinks_disabled (
  sink TEXT PRIMARY KEY NOT NULL,
  since INTEGER NOT NULL,
  reason TEXT NOT NULL
);

PRAGMA application_id = 1852665710;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));
static_assert(kApplicationId == 1852665710, "kMigrations[0] writes the id as a literal");

// ---------------------------------------------------------------------------------------
// SQLite plumbing.

// A connection and what it is doing, for error messages.
struct Db {
  sqlite3* handle;
  const fs::path& file;
  std::string_view what;  // "committing polls"; empty while opening
};

std::string Prefix(const fs::path& file) { return "state database " + file.string() + ": "; }

std::string Describe(const Db& db, int rc) {
  std::string message = Prefix(db.file);
  if (!db.what.empty()) message.append(db.what).append(": ");
  message += db.handle != nullptr ? sqlite3_errmsg(db.handle) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      message.append(" (").append(kBrokenFileHint).append(")");
      break;
    case SQLITE_READONLY:
      if (db.what.empty()) message += " (newsmon needs to write the file and its directory)";
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_PERM:
      if (int error = db.handle != nullptr ? sqlite3_system_errno(db.handle) : 0; error != 0) {
        message.append(": ").append(std::strerror(error));
      }
      break;
    default:
      break;
  }
  return message;
}

[[noreturn]] void Fail(const Db& db, int rc) { throw StoreError(Describe(db, rc)); }

[[noreturn]] void Fail(const Db& db, std::string_view message) {
  std::string text = Prefix(db.file);
  if (!db.what.empty()) text.append(db.what).append(": ");
  throw StoreError(text.append(message));
}

// A prepared statement, prepared on first use and finalized with its owner.
class CachedStatement {
 public:
  explicit CachedStatement(const char* sql) : sql_(sql) {}
  ~CachedStatement() { sqlite3_finalize(statement_); }
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;

  sqlite3_stmt* Get(const Db& db) {
    if (statement_ == nullptr) {
      int rc =
          sqlite3_prepare_v3(db.handle, sql_, -1, SQLITE_PREPARE_PERSISTENT, &statement_, nullptr);
      if (rc != SQLITE_OK) Fail(db, rc);
    }
    return statement_;
  }

 private:
  const char* sql_;
  sqlite3_stmt* statement_ = nullptr;
};

std::int64_t Millis(WallTime time) { return time.time_since_epoch().count(); }
WallTime FromMillis(std::int64_t millis) { return WallTime(std::chrono::milliseconds(millis)); }

std::int64_t ClampToInt64(std::size_t value) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(value, kMax));
}

// One execution of a statement: bind, step, read columns. Resets the statement (and drops
// its bindings) when it goes out of scope, so the cached statement is ready for the next.
class Query {
 public:
  Query(const Db& db, CachedStatement& statement) : db_(db), statement_(statement.Get(db)) {}
  ~Query() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Int(int index, std::int64_t value) {
    return Check(sqlite3_bind_int64(statement_, index, value));
  }
  Query& Text(int index, std::string_view value) {
    // A null pointer would bind NULL: an empty string_view may have one.
    const char* data = value.data() != nullptr ? value.data() : "";
    return Check(
        sqlite3_bind_text64(statement_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  Query& Time(int index, WallTime value) { return Int(index, Millis(value)); }
  Query& Time(int index, const std::optional<WallTime>& value) {
    return value ? Time(index, *value) : Null(index);
  }
  Query& OptionalText(int index, const std::optional<std::string>& value) {
    return value ? Text(index, std::string_view(*value)) : Null(index);
  }
  Query& Null(int index) { return Check(sqlite3_bind_null(statement_, index)); }

  // True when a row is ready to read.
  bool Step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Fail(db_, rc);
  }
  // Runs a statement that returns no rows of interest; returns the rows it changed.
  int Run() {
    while (Step()) {
    }
    return sqlite3_changes(db_.handle);
  }

  bool IsNull(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  std::int64_t ColumnInt(int column) const { return sqlite3_column_int64(statement_, column); }
  std::string ColumnText(int column) const {
    const auto* text = sqlite3_column_text(statement_, column);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
  }
  WallTime ColumnTime(int column) const { return FromMillis(ColumnInt(column)); }
  std::optional<WallTime> ColumnOptionalTime(int column) const {
    if (IsNull(column)) return std::nullopt;
    return ColumnTime(column);
  }

 private:
  Query& Check(int rc) {
    if (rc != SQLITE_OK) Fail(db_, rc);
    return *this;
  }

  const Db& db_;
  sqlite3_stmt* statement_;
};

void Exec(const Db& db, const char* sql) {
  int rc = sqlite3_exec(db.handle, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) Fail(db, rc);
}

// The first column of every row of a one-off statement, as text.
std::vector<std::string> Rows(const Db& db, const char* sql) {
  CachedStatement statement(sql);
  Query query(db, statement);
  std::vector<std::string> rows;
  while (query.Step()) rows.push_back(query.ColumnText(0));
  return rows;
}

std::int64_t IntPragma(const Db& db, const char* sql) {
  CachedStatement statement(sql);
  Query query(db, statement);
  if (!query.Step()) Fail(db, std::string(sql) + " returned nothing");
  return query.ColumnInt(0);
}

// BEGIN IMMEDIATE (the write lock up front: no deadlock between two writers upgrading);
// rolled back unless committed, also when SQLite already rolled back by itself.
class Transaction {
 public:
  explicit Transaction(const Db& db) : db_(db) { Exec(db_, "BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!committed_ && sqlite3_get_autocommit(db_.handle) == 0) {
      sqlite3_exec(db_.handle, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void Commit() {
    Exec(db_, "COMMIT");
    committed_ = true;
  }

 private:
  const Db& db_;
  bool committed_ = false;
};

// ---------------------------------------------------------------------------------------
// Opening and migrating.

// Why SQLite could not open (or create) the file. Its own errno is of little help: when
// creating fails it retries read-only, which reports ENOENT whatever the first failure was.
std::string WhyCannotOpen(const fs::path& file, bool read_only) {
  fs::path directory = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::error_code error;
  fs::file_status status = fs::status(directory, error);
  if (!fs::exists(status)) return "directory " + directory.string() + " does not exist";
  if (!fs::is_directory(status)) return directory.string() + " is not a directory";
  bool exists = fs::exists(file, error);
  if (!read_only && !exists && ::access(directory.c_str(), W_OK | X_OK) != 0) {
    return "directory " + directory.string() + " is not writable";
  }
  if (!exists) return "no such file";
  if (::access(file.c_str(), read_only ? R_OK : R_OK | W_OK) != 0) {
    return std::string(read_only ? "not readable: " : "not readable and writable: ") +
           std::strerror(errno);
  }
  return {};
}

void CheckIntegrity(const Db& db) {
  std::vector<std::string> rows = Rows(db, "PRAGMA quick_check(3)");
  if (rows.size() == 1 && rows[0] == "ok") return;
  std::string problems;
  for (const auto& row : rows) {
    for (char c : row) {
      if (c == '\n') {
        problems += "; ";
      } else {
        problems += c;
      }
    }
    problems += "; ";
  }
  if (problems.empty()) problems = "no answer; ";
  problems.resize(problems.size() - 2);
  Fail(db, "quick_check failed: " + problems + " (" + std::string(kBrokenFileHint) + ")");
}

void CheckApplicationId(const Db& db, std::int64_t version) {
  std::int64_t id = IntPragma(db, "PRAGMA application_id");
  if (id == kApplicationId) return;
  if (id == 0 && version == 0) {
    // A new file, or another program's: ours only if it holds nothing yet.
    if (IntPragma(db, "SELECT count(*) FROM sqlite_master") == 0) return;
  }
  Fail(db,
       "not a newsmon state database (it holds another program's data; point state_dir "
       "elsewhere)");
}

void Migrate(const Db& db, bool read_only) {
  auto too_new = [&](std::int64_t version) {
    if (version > kSchemaVersion) {
      Fail(db, "created by a newer newsmon: schema " + std::to_string(version) +
                   ", this build knows up to " + std::to_string(kSchemaVersion));
    }
  };
  std::int64_t version = IntPragma(db, "PRAGMA user_version");
  CheckApplicationId(db, version);
  too_new(version);
  if (version == kSchemaVersion) return;
  if (read_only) {
    Fail(db, "schema " + std::to_string(version) + ", this build needs " +
                 std::to_string(kSchemaVersion) + " (start the daemon once to migrate it)");
  }
  while (true) {
    Transaction transaction(db);
    // Another process may have migrated while this one waited for the lock.
    version = IntPragma(db, "PRAGMA user_version");
    too_new(version);
    if (version == kSchemaVersion) break;
    std::string what = "migrating to schema " + std::to_string(version + 1);
    Db step{db.handle, db.file, what};
    Exec(step, kMigrations[version]);
    Exec(step, ("PRAGMA user_version = " + std::to_string(version + 1)).c_str());
    transaction.Commit();
  }
}

// ---------------------------------------------------------------------------------------
// JSON.

template <typename Enum, std::size_t N>
std::string Name(const core::EnumName<Enum> (&table)[N], Enum value) {
  return std::string(core::NameOf<Enum>(table, value));
}

template <typename Enum, std::size_t N>
Enum Parse(const core::EnumName<Enum> (&table)[N], const Json& json, const char* what) {
  auto name = json.get<std::string>();
  if (auto value = core::ParseEnum<Enum>(table, name)) return *value;
  throw std::invalid_argument(std::string("unknown ") + what + " \"" + name + "\"");
}

Json OptionalJson(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

std::optional<std::string> OptionalString(const Json& json) {
  if (json.is_null()) return std::nullopt;
  return json.get<std::string>();
}

Json ItemToJson(const core::Item& item) {
  return Json{
      {"id", item.id},
      {"title", item.title},
      {"link", OptionalJson(item.link)},
      {"published",
       item.published ? Json(item.published->time_since_epoch().count()) : Json(nullptr)},
      {"summary", OptionalJson(item.summary)},
      {"author", OptionalJson(item.author)},
      {"categories", item.categories},
      {"source", item.source},
  };
}

core::Item ItemFromJson(const Json& json) {
  core::Item item;
  item.id = json.at("id").get<std::string>();
  item.title = json.at("title").get<std::string>();
  item.link = OptionalString(json.at("link"));
  if (const Json& published = json.at("published"); !published.is_null()) {
    item.published = core::TimePoint(std::chrono::seconds(published.get<std::int64_t>()));
  }
  item.summary = OptionalString(json.at("summary"));
  item.author = OptionalString(json.at("author"));
  item.categories = json.at("categories").get<std::vector<std::string>>();
  item.source = json.at("source").get<std::string>();
  return item;
}

Json RulesToJson(const std::vector<core::RuleHit>& rules) {
  Json array = Json::array();
  for (const auto& hit : rules) {
    Json labels = Json::array();
    for (const auto& [name, value] : hit.labels) labels.push_back(Json::array({name, value}));
    array.push_back(Json{
        {"rule", hit.rule},
        {"severity", Name(core::kRuleSeverityNames, hit.severity)},
        {"labels", std::move(labels)},
        {"field", Name(core::kFieldNames, hit.field)},
        {"begin", hit.begin},
        {"end", hit.end},
        {"text", hit.text},
    });
  }
  return array;
}

std::vector<core::RuleHit> RulesFromJson(const Json& json) {
  std::vector<core::RuleHit> rules;
  for (const Json& entry : json) {
    core::RuleHit hit;
    hit.rule = entry.at("rule").get<std::string>();
    hit.severity = Parse(core::kRuleSeverityNames, entry.at("severity"), "severity");
    for (const Json& label : entry.at("labels")) {
      hit.labels.emplace_back(label.at(0).get<std::string>(), label.at(1).get<std::string>());
    }
    hit.field = Parse(core::kFieldNames, entry.at("field"), "field");
    hit.begin = entry.at("begin").get<std::size_t>();
    hit.end = entry.at("end").get<std::size_t>();
    hit.text = entry.at("text").get<std::string>();
    rules.push_back(std::move(hit));
  }
  return rules;
}

Json AlertToJson(const core::Alert& alert) {
  return Json{
      {"delivery_id", alert.delivery_id},
      {"sink", alert.sink},
      {"source", alert.source},
      {"source_url", alert.source_url},
      {"item", ItemToJson(alert.item)},
      {"rules", RulesToJson(alert.rules)},
      {"first_seen", Millis(alert.first_seen)},
      {"test", alert.test},
  };
}

core::Alert AlertFromJson(const Json& json) {
  core::Alert alert;
  alert.delivery_id = json.at("delivery_id").get<std::string>();
  alert.sink = json.at("sink").get<std::string>();
  alert.source = json.at("source").get<std::string>();
  alert.source_url = json.at("source_url").get<std::string>();
  alert.item = ItemFromJson(json.at("item"));
  alert.rules = RulesFromJson(json.at("rules"));
  alert.first_seen = FromMillis(json.at("first_seen").get<std::int64_t>());
  alert.test = json.at("test").get<bool>();
  return alert;
}

// Invalid UTF-8 (which parse never lets through) becomes U+FFFD instead of throwing.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Reads a JSON column we wrote; a row that does not read back is damage, reported as such.
template <typename T, typename Convert>
T FromColumn(const Db& db, const Query& query, int column, std::string_view what, Convert convert) {
  std::string text = query.ColumnText(column);
  try {
    return convert(Json::parse(text));
  } catch (const std::exception& error) {  // nlohmann's exceptions and our own
    Fail(db, std::string(what) + " does not read back (" + error.what() + ")");
  }
}

// ---------------------------------------------------------------------------------------
// Delivery ids.

// "nm_" + 26 lowercase Crockford base32 characters of 128 random bits (the first character
// carries the top 3 bits, so it is 0-7).
std::string NewDeliveryId(const Db& db) {
  std::array<unsigned char, 16> bytes{};
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t got = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      Fail(db, std::string("getrandom: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(got);
  }
  unsigned __int128 value = 0;
  for (unsigned char byte : bytes) value = (value << 8) | byte;
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string id = "nm_";
  id.reserve(3 + 26);
  for (int shift = 125; shift >= 0; shift -= 5) {
    id += kAlphabet[static_cast<unsigned>(value >> shift) & 31];
  }
  return id;
}

// ---------------------------------------------------------------------------------------
// The cached statements (Store::Statements derives from this so the helpers below can use
// it: the nested type is private).

struct StatementCache {
  // sources
  CachedStatement source_has_first_ok{"SELECT first_ok IS NOT NULL FROM sources WHERE name = ?1"};
  CachedStatement upsert_source{R"sql(
INSERT INTO sources (name, etag, last_modified, last_poll, last_success, last_failure,
                     last_outcome, last_error, consecutive_failures, next_poll, interval_ms,
                     first_ok)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT (name) DO UPDATE SET
  etag = excluded.etag, last_modified = excluded.last_modified,
  last_poll = excluded.last_poll, last_success = excluded.last_success,
  last_failure = excluded.last_failure, last_outcome = excluded.last_outcome,
  last_error = excluded.last_error, consecutive_failures = excluded.consecutive_failures,
  next_poll = excluded.next_poll, interval_ms = excluded.interval_ms,
  first_ok = coalesce(sources.first_ok, excluded.first_ok))sql"};
  CachedStatement load_sources{
      "SELECT name, etag, last_modified, last_poll, last_success, last_failure, last_outcome, "
      "last_error, consecutive_failures, next_poll, interval_ms FROM sources"};
  CachedStatement source_names{"SELECT name FROM sources"};
  CachedStatement delete_source{"DELETE FROM sources WHERE name = ?1"};
  CachedStatement delete_source_seen{"DELETE FROM seen WHERE source = ?1"};
  CachedStatement delete_source_history{"DELETE FROM history WHERE source = ?1"};

  // seen and history
  CachedStatement insert_seen{
      "INSERT INTO seen (source, item_id, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3) "
      "ON CONFLICT DO NOTHING"};
  CachedStatement refresh_seen{
      "UPDATE seen SET last_seen = ?3 WHERE source = ?1 AND item_id = ?2 AND last_seen < ?4"};
  CachedStatement prune_seen{"DELETE FROM seen WHERE source = ?1 AND last_seen < ?2"};
  CachedStatement insert_history{
      "INSERT INTO history (source, item_id, item, rules, first_seen, alerted) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
  CachedStatement insert_history_rule{
      "INSERT INTO history_rules (rule, history_id) VALUES (?1, ?2)"};
  CachedStatement prune_history{
      "DELETE FROM history WHERE id <= (SELECT max(id) FROM history) - ?1"};
  CachedStatement recent{
      "SELECT id, source, item, rules, first_seen, alerted FROM history "
      "ORDER BY id DESC LIMIT ?1"};
  CachedStatement recent_of_source{
      "SELECT id, source, item, rules, first_seen, alerted FROM history WHERE source = ?2 "
      "ORDER BY id DESC LIMIT ?1"};
  CachedStatement recent_of_rule{
      "SELECT h.id, h.source, h.item, h.rules, h.first_seen, h.alerted "
      "FROM history_rules r JOIN history h ON h.id = r.history_id WHERE r.rule = ?2 "
      "ORDER BY r.history_id DESC LIMIT ?1"};
  CachedStatement recent_of_rule_and_source{
      "SELECT h.id, h.source, h.item, h.rules, h.first_seen, h.alerted "
      "FROM history_rules r JOIN history h ON h.id = r.history_id "
      "WHERE r.rule = ?2 AND h.source = ?3 ORDER BY r.history_id DESC LIMIT ?1"};

  // outbox
  CachedStatement insert_outbox{
      "INSERT INTO outbox (delivery_id, sink, source, alert, created, next_attempt, attempts, "
      "last_status, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0, 0, '')"};
  CachedStatement due{
      "SELECT id, alert, created, next_attempt, attempts, last_status, last_error FROM outbox "
      "INDEXED BY outbox_due WHERE sink = ?1 AND next_attempt <= ?2 ORDER BY id LIMIT ?3"};
  CachedStatement next_due{"SELECT min(next_attempt) FROM outbox WHERE sink = ?1"};
  CachedStatement delete_outbox{"DELETE FROM outbox WHERE id = ?1"};
  CachedStatement mark_failed{
      "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2, last_status = ?3, "
      "last_error = ?4 WHERE id = ?1"};
  CachedStatement outbox_to_dead_letters{
      "INSERT INTO dead_letters (delivery_id, sink, source, alert, created, failed, attempts, "
      "status, reason) SELECT delivery_id, sink, source, alert, created, ?2, attempts + 1, ?3, "
      "?4 FROM outbox WHERE id = ?1"};
  CachedStatement pending_counts{"SELECT sink, count(*) FROM outbox GROUP BY sink"};
  CachedStatement list_outbox{
      "SELECT id, alert, created, next_attempt, attempts, last_status, last_error FROM outbox "
      "WHERE ?1 IS NULL OR sink = ?1 ORDER BY id"};

  // dead letters
  CachedStatement dead_letter_counts{"SELECT sink, count(*) FROM dead_letters GROUP BY sink"};
  CachedStatement list_dead_letters{
      "SELECT id, alert, created, failed, attempts, status, reason FROM dead_letters "
      "WHERE ?1 IS NULL OR sink = ?1 ORDER BY id"};
  CachedStatement dead_letter_sink{"SELECT sink FROM dead_letters WHERE id = ?1"};
  // An outbox row with the same delivery id (which should not exist) wins: DO NOTHING.
  CachedStatement dead_letter_to_outbox{
      "INSERT INTO outbox (delivery_id, sink, source, alert, created, next_attempt, attempts, "
      "last_status, last_error) SELECT delivery_id, sink, source, alert, created, ?2, 0, 0, '' "
      "FROM dead_letters WHERE id = ?1 ON CONFLICT (delivery_id) DO NOTHING"};
  CachedStatement delete_dead_letter{"DELETE FROM dead_letters WHERE id = ?1"};
  CachedStatement all_dead_letters_to_outbox{
      "INSERT INTO outbox (delivery_id, sink, source, alert, created, next_attempt, attempts, "
      "last_status, last_error) SELECT delivery_id, sink, source, alert, created, ?2, 0, 0, '' "
      "FROM dead_letters WHERE ?1 IS NULL OR sink = ?1 ORDER BY id "
      "ON CONFLICT (delivery_id) DO NOTHING"};
  CachedStatement delete_dead_letters{"DELETE FROM dead_letters WHERE ?1 IS NULL OR sink = ?1"};

  // sinks
  CachedStatement disable_sink{
      "INSERT INTO sinks_disabled (sink, since, reason) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (sink) DO NOTHING"};
  CachedStatement enable_sink{"DELETE FROM sinks_disabled WHERE sink = ?1"};
  CachedStatement enable_all_sinks{"DELETE FROM sinks_disabled"};
  CachedStatement disabled_sinks{"SELECT sink, since, reason FROM sinks_disabled ORDER BY sink"};
};

OutboxEntry ReadOutboxEntry(const Db& db, const Query& query) {
  OutboxEntry entry;
  entry.id = query.ColumnInt(0);
  entry.alert = FromColumn<core::Alert>(db, query, 1, "outbox row " + std::to_string(entry.id),
                                        AlertFromJson);
  entry.created = query.ColumnTime(2);
  entry.next_attempt = query.ColumnTime(3);
  entry.attempts = static_cast<int>(query.ColumnInt(4));
  entry.last_status = static_cast<int>(query.ColumnInt(5));
  entry.last_error = query.ColumnText(6);
  return entry;
}

// The union of the alerts' rules by rule name, in first-seen order.
std::vector<core::RuleHit> RulesOf(const std::vector<core::Alert>& alerts) {
  std::vector<core::RuleHit> rules;
  for (const auto& alert : alerts) {
    for (const auto& hit : alert.rules) {
      bool known = std::any_of(rules.begin(), rules.end(),
                               [&](const core::RuleHit& seen) { return seen.rule == hit.rule; });
      if (!known) rules.push_back(hit);
    }
  }
  return rules;
}

void RecordHistory(const Db& db, StatementCache& statements, const PollCommit& commit,
                   const PollItem& poll_item, bool alerted) {
  std::vector<core::RuleHit> rules = RulesOf(poll_item.alerts);
  Query insert(db, statements.insert_history);
  insert.Text(1, commit.source)
      .Text(2, poll_item.item.id)
      .Text(3, Dump(ItemToJson(poll_item.item)))
      .Text(4, Dump(RulesToJson(rules)))
      .Time(5, commit.now)
      .Int(6, alerted ? 1 : 0)
      .Run();
  std::int64_t history_id = sqlite3_last_insert_rowid(db.handle);
  for (const auto& hit : rules) {
    Query(db, statements.insert_history_rule).Text(1, hit.rule).Int(2, history_id).Run();
  }
}

CommitResult ApplyCommit(const Db& db, StatementCache& statements, const StoreOptions& options,
                         const PollCommit& commit, bool& history_written) {
  CommitResult result;
  if (commit.ok) {
    Query first_ok(db, statements.source_has_first_ok);
    first_ok.Text(1, commit.source);
    result.first_sight = !first_ok.Step() || first_ok.ColumnInt(0) == 0;
  }

  const core::SourceState& state = commit.state;
  Query upsert(db, statements.upsert_source);
  upsert.Text(1, commit.source)
      .Text(2, state.etag)
      .Text(3, state.last_modified)
      .Time(4, state.last_poll)
      .Time(5, state.last_success)
      .Time(6, state.last_failure);
  if (state.last_outcome) {
    upsert.Text(7, core::NameOf<core::PollOutcome>(core::kPollOutcomeNames, *state.last_outcome));
  } else {
    upsert.Null(7);
  }
  upsert.Text(8, state.last_error)
      .Int(9, state.consecutive_failures)
      .Time(10, state.next_poll)
      .Int(11, state.interval.count());
  if (result.first_sight) {
    upsert.Time(12, commit.now);
  } else {
    upsert.Null(12);
  }
  upsert.Run();
  if (!commit.ok) return result;

  // Refreshing last_seen hourly keeps writes low; the prune below still never forgets an
  // item that is in the feed, as long as the retention is over twice the refresh age.
  const std::chrono::milliseconds refresh_age =
      std::min<std::chrono::milliseconds>(std::chrono::hours(1), options.seen_retention / 2);
  std::set<std::string> sinks;
  for (std::size_t index = 0; index < commit.items.size(); ++index) {
    const PollItem& poll_item = commit.items[index];
    const core::Item& item = poll_item.item;
    int inserted = Query(db, statements.insert_seen)
                       .Text(1, commit.source)
                       .Text(2, item.id)
                       .Time(3, commit.now)
                       .Run();
    if (inserted == 0) {
      Query(db, statements.refresh_seen)
          .Text(1, commit.source)
          .Text(2, item.id)
          .Time(3, commit.now)
          .Time(4, commit.now - refresh_age)
          .Run();
      continue;
    }
    ++result.new_items;
    result.fresh.push_back(index);
    if (poll_item.alerts.empty()) continue;

    history_written = true;
    bool too_old =
        item.published && commit.oldest_alertable && *item.published < *commit.oldest_alertable;
    if ((result.first_sight && !commit.backfill) || too_old) {
      ++result.suppressed;
      RecordHistory(db, statements, commit, poll_item, false);
      continue;
    }
    for (const core::Alert& queued : poll_item.alerts) {
      core::Alert alert = queued;
      alert.delivery_id = NewDeliveryId(db);
      Query(db, statements.insert_outbox)
          .Text(1, alert.delivery_id)
          .Text(2, alert.sink)
          .Text(3, commit.source)
          .Text(4, Dump(AlertToJson(alert)))
          .Time(5, commit.now)
          .Run();
      ++result.alerts_queued;
      sinks.insert(alert.sink);
    }
    RecordHistory(db, statements, commit, poll_item, true);
  }
  Query(db, statements.prune_seen)
      .Text(1, commit.source)
      .Time(2, commit.now - options.seen_retention)
      .Run();
  result.sinks.assign(sinks.begin(), sinks.end());
  return result;
}

std::map<std::string, std::size_t> Counts(const Db& db, CachedStatement& statement) {
  std::map<std::string, std::size_t> counts;
  Query query(db, statement);
  while (query.Step()) counts[query.ColumnText(0)] = static_cast<std::size_t>(query.ColumnInt(1));
  return counts;
}

HistoryEntry ReadHistoryEntry(const Db& db, const Query& query) {
  HistoryEntry entry;
  entry.id = query.ColumnInt(0);
  entry.source = query.ColumnText(1);
  std::string row = "history row " + std::to_string(entry.id);
  entry.item = FromColumn<core::Item>(db, query, 2, row, ItemFromJson);
  entry.rules = FromColumn<std::vector<core::RuleHit>>(db, query, 3, row, RulesFromJson);
  entry.first_seen = query.ColumnTime(4);
  entry.alerted = query.ColumnInt(5) != 0;
  return entry;
}

}  // namespace

struct Store::Statements : StatementCache {};

Store::Store(fs::path file, StoreOptions options)
    : file_(std::move(file)),
      options_(std::move(options)),
      statements_(std::make_unique<Statements>()) {}

Store::~Store() {
  statements_.reset();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

std::unique_ptr<Store> Store::Open(const fs::path& file, StoreOptions options) {
  std::unique_ptr<Store> store(new Store(file, options));
  // From here on a throw closes the connection in ~Store.
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(store->file_.c_str(), &store->db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db{store->db_, store->file_, ""};
  if ((rc & 0xff) == SQLITE_CANTOPEN) {
    std::string why = WhyCannotOpen(store->file_, options.read_only);
    if (!why.empty()) Fail(db, std::string(sqlite3_errstr(rc)) + ": " + why);
  }
  if (rc != SQLITE_OK) Fail(db, rc);
  sqlite3_extended_result_codes(store->db_, 1);
  auto busy_ms =
      std::clamp<std::int64_t>(options.busy_timeout.count(), 0, std::numeric_limits<int>::max());
  sqlite3_busy_timeout(store->db_, static_cast<int>(busy_ms));

  if (!options.read_only) {
    std::vector<std::string> mode = Rows(db, "PRAGMA journal_mode = WAL");
    if (mode.size() != 1 || mode[0] != "wal") {
      Fail(db, "cannot switch to WAL mode (journal_mode is \"" +
                   (mode.empty() ? std::string() : mode[0]) + "\")");
    }
  }
  Exec(db, "PRAGMA synchronous = FULL");
  Exec(db, "PRAGMA foreign_keys = ON");
  CheckIntegrity(db);
  Migrate(db, options.read_only);
  return store;
}

int Store::schema_version() const {
  Db db{db_, file_, "reading the schema version"};
  return static_cast<int>(IntPragma(db, "PRAGMA user_version"));
}

// --- sources -------------------------------------------------------------------------

std::map<std::string, core::SourceState> Store::LoadSourceStates() {
  Db db{db_, file_, "loading source states"};
  std::map<std::string, core::SourceState> states;
  Query query(db, statements_->load_sources);
  while (query.Step()) {
    core::SourceState state;
    state.etag = query.ColumnText(1);
    state.last_modified = query.ColumnText(2);
    state.last_poll = query.ColumnOptionalTime(3);
    state.last_success = query.ColumnOptionalTime(4);
    state.last_failure = query.ColumnOptionalTime(5);
    if (!query.IsNull(6)) {
      // A name this build does not know reads as "no outcome" rather than failing the start.
      state.last_outcome =
          core::ParseEnum<core::PollOutcome>(core::kPollOutcomeNames, query.ColumnText(6));
    }
    state.last_error = query.ColumnText(7);
    state.consecutive_failures = static_cast<int>(query.ColumnInt(8));
    state.next_poll = query.ColumnOptionalTime(9);
    state.interval = std::chrono::milliseconds(query.ColumnInt(10));
    states.emplace(query.ColumnText(0), std::move(state));
  }
  return states;
}

std::vector<CommitResult> Store::CommitPolls(std::span<const PollCommit> commits) {
  Db db{db_, file_, "committing polls"};
  std::vector<CommitResult> results;
  results.reserve(commits.size());
  Transaction transaction(db);
  bool history_written = false;
  for (const PollCommit& commit : commits) {
    results.push_back(ApplyCommit(db, *statements_, options_, commit, history_written));
  }
  if (history_written) {
    // Ids only grow, so the newest history_limit rows are those above max(id) - limit (fewer
    // when ForgetSourcesExcept left gaps: cheap, and close enough for a bound).
    Query(db, statements_->prune_history).Int(1, ClampToInt64(options_.history_limit)).Run();
  }
  transaction.Commit();
  return results;
}

CommitResult Store::CommitPoll(const PollCommit& commit) {
  return CommitPolls(std::span<const PollCommit>(&commit, 1)).front();
}

std::size_t Store::ForgetSourcesExcept(const std::set<std::string>& configured) {
  Db db{db_, file_, "forgetting sources"};
  Transaction transaction(db);
  std::vector<std::string> forget;
  {
    Query names(db, statements_->source_names);
    while (names.Step()) {
      std::string name = names.ColumnText(0);
      if (!configured.contains(name)) forget.push_back(std::move(name));
    }
  }
  for (const auto& name : forget) {
    Query(db, statements_->delete_source_seen).Text(1, name).Run();
    Query(db, statements_->delete_source_history).Text(1, name).Run();
    Query(db, statements_->delete_source).Text(1, name).Run();
  }
  transaction.Commit();
  return forget.size();
}

// --- outbox --------------------------------------------------------------------------

std::vector<OutboxEntry> Store::Due(const std::string& sink, core::WallTime now, std::size_t limit,
                                    const std::set<std::int64_t>& exclude) {
  Db db{db_, file_, "reading due alerts"};
  std::vector<OutboxEntry> due;
  if (limit == 0) return due;
  std::size_t fetch = limit > std::numeric_limits<std::size_t>::max() - exclude.size()
                          ? std::numeric_limits<std::size_t>::max()
                          : limit + exclude.size();
  Query query(db, statements_->due);
  query.Text(1, sink).Time(2, now).Int(3, ClampToInt64(fetch));
  while (due.size() < limit && query.Step()) {
    if (exclude.contains(query.ColumnInt(0))) continue;
    due.push_back(ReadOutboxEntry(db, query));
  }
  return due;
}

std::optional<core::WallTime> Store::NextDue(const std::string& sink) {
  Db db{db_, file_, "reading the next due alert"};
  Query query(db, statements_->next_due);
  query.Text(1, sink);
  if (!query.Step()) return std::nullopt;
  return query.ColumnOptionalTime(0);
}

void Store::MarkDelivered(std::int64_t id) {
  Db db{db_, file_, "removing a delivered alert"};
  Query(db, statements_->delete_outbox).Int(1, id).Run();
}

void Store::MarkFailed(std::int64_t id, core::WallTime next_attempt, int status,
                       const std::string& error) {
  Db db{db_, file_, "recording a failed delivery"};
  Query(db, statements_->mark_failed)
      .Int(1, id)
      .Time(2, next_attempt)
      .Int(3, status)
      .Text(4, error)
      .Run();
}

void Store::MoveToDeadLetters(std::int64_t id, core::WallTime now, int status,
                              const std::string& reason) {
  Db db{db_, file_, "moving an alert to the dead letters"};
  Transaction transaction(db);
  Query(db, statements_->outbox_to_dead_letters)
      .Int(1, id)
      .Time(2, now)
      .Int(3, status)
      .Text(4, reason)
      .Run();
  Query(db, statements_->delete_outbox).Int(1, id).Run();
  transaction.Commit();
}

std::map<std::string, std::size_t> Store::PendingCounts() {
  Db db{db_, file_, "counting pending alerts"};
  return Counts(db, statements_->pending_counts);
}

std::map<std::string, std::size_t> Store::DeadLetterCounts() {
  Db db{db_, file_, "counting dead letters"};
  return Counts(db, statements_->dead_letter_counts);
}

std::vector<OutboxEntry> Store::ListOutbox(const std::optional<std::string>& sink) {
  Db db{db_, file_, "listing the outbox"};
  std::vector<OutboxEntry> entries;
  Query query(db, statements_->list_outbox);
  query.OptionalText(1, sink);
  while (query.Step()) entries.push_back(ReadOutboxEntry(db, query));
  return entries;
}

std::vector<DeadLetter> Store::ListDeadLetters(const std::optional<std::string>& sink) {
  Db db{db_, file_, "listing dead letters"};
  std::vector<DeadLetter> letters;
  Query query(db, statements_->list_dead_letters);
  query.OptionalText(1, sink);
  while (query.Step()) {
    DeadLetter letter;
    letter.id = query.ColumnInt(0);
    letter.alert = FromColumn<core::Alert>(db, query, 1, "dead letter " + std::to_string(letter.id),
                                           AlertFromJson);
    letter.created = query.ColumnTime(2);
    letter.failed = query.ColumnTime(3);
    letter.attempts = static_cast<int>(query.ColumnInt(4));
    letter.status = static_cast<int>(query.ColumnInt(5));
    letter.reason = query.ColumnText(6);
    letters.push_back(std::move(letter));
  }
  return letters;
}

std::size_t Store::RetryDeadLetters(std::span<const std::int64_t> ids, core::WallTime now) {
  Db db{db_, file_, "requeueing dead letters"};
  Transaction transaction(db);
  std::size_t requeued = 0;
  for (std::int64_t id : ids) {
    std::string sink;
    {
      Query query(db, statements_->dead_letter_sink);
      query.Int(1, id);
      if (!query.Step()) continue;  // unknown, or listed twice
      sink = query.ColumnText(0);
    }
    Query(db, statements_->dead_letter_to_outbox).Int(1, id).Time(2, now).Run();
    Query(db, statements_->delete_dead_letter).Int(1, id).Run();
    Query(db, statements_->enable_sink).Text(1, sink).Run();
    ++requeued;
  }
  transaction.Commit();
  return requeued;
}

std::size_t Store::RetryAllDeadLetters(const std::optional<std::string>& sink, core::WallTime now) {
  Db db{db_, file_, "requeueing dead letters"};
  Transaction transaction(db);
  Query(db, statements_->all_dead_letters_to_outbox).OptionalText(1, sink).Time(2, now).Run();
  int requeued = Query(db, statements_->delete_dead_letters).OptionalText(1, sink).Run();
  if (sink) {
    Query(db, statements_->enable_sink).Text(1, *sink).Run();
  } else {
    Query(db, statements_->enable_all_sinks).Run();
  }
  transaction.Commit();
  return static_cast<std::size_t>(requeued);
}

// --- sinks ---------------------------------------------------------------------------

void Store::DisableSink(const std::string& sink, core::WallTime now, const std::string& reason) {
  Db db{db_, file_, "disabling a sink"};
  Query(db, statements_->disable_sink).Text(1, sink).Time(2, now).Text(3, reason).Run();
}

void Store::EnableSink(const std::string& sink) {
  Db db{db_, file_, "enabling a sink"};
  Query(db, statements_->enable_sink).Text(1, sink).Run();
}

void Store::EnableAllSinks() {
  Db db{db_, file_, "enabling all sinks"};
  Query(db, statements_->enable_all_sinks).Run();
}

std::vector<SinkDisabled> Store::DisabledSinks() {
  Db db{db_, file_, "listing disabled sinks"};
  std::vector<SinkDisabled> sinks;
  Query query(db, statements_->disabled_sinks);
  while (query.Step()) {
    sinks.push_back(
        {.sink = query.ColumnText(0), .since = query.ColumnTime(1), .reason = query.ColumnText(2)});
  }
  return sinks;
}

// --- history -------------------------------------------------------------------------

std::vector<HistoryEntry> Store::RecentMatches(std::size_t limit,
                                               const std::optional<std::string>& rule,
                                               const std::optional<std::string>& source) {
  Db db{db_, file_, "reading the match history"};
  CachedStatement& statement =
      rule ? (source ? statements_->recent_of_rule_and_source : statements_->recent_of_rule)
           : (source ? statements_->recent_of_source : statements_->recent);
  Query query(db, statement);
  query.Int(1, ClampToInt64(limit));
  if (rule) {
    query.Text(2, *rule);
    if (source) query.Text(3, *source);
  } else if (source) {
    query.Text(2, *source);
  }
  std::vector<HistoryEntry> entries;
  while (query.Step()) entries.push_back(ReadHistoryEntry(db, query));
  return entries;
}

}  // namespace newsmon::store
