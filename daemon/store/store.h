// The daemon's durable memory, in one SQLite 3 file (WAL mode, synchronous=FULL): items
// seen per source, each source's poll state, a bounded history of matched items, and the
// alert outbox with its dead letters.
//
// Thread-safety: a Store is used by one thread at a time (the pipeline gives it a thread of
// its own). Other processes (`newsmon outbox ...`) may open the same file at once: SQLite's
// locking and busy_timeout serialise them.
//
// Errors: Open throws StoreError naming the file when the database cannot be opened,
// created, migrated, or fails its quick_check; every other call throws StoreError when
// SQLite fails (disk full, I/O error), after rolling back its transaction. Nothing is ever
// reset silently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/core/alert.h"
#include "daemon/core/feed.h"
#include "daemon/core/poll.h"

struct sqlite3;

namespace newsmon::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StoreOptions {
  std::chrono::milliseconds busy_timeout = std::chrono::seconds(5);  // wait for other writers
  // A seen item is forgotten once its source has been polled successfully for this long
  // without the item in the feed.
  std::chrono::milliseconds seen_retention = std::chrono::hours(24 * 90);
  std::size_t history_limit = 10000;  // matched items kept for the admin API and the CLI
  bool read_only = false;             // CLI readers: no migration, no writes
};

// One item of a successful poll, as the pipeline hands it to the store.
struct PollItem {
  core::Item item;
  // The alerts to queue if the item is new to the store: one per sink, each listing the
  // rules that notify that sink (delivery_id empty: the store assigns it). Empty when no rule
  // matched, or when the pipeline already knows the item (seen in this run's previous poll).
  std::vector<core::Alert> alerts;
};

// Everything one poll writes, applied in one transaction.
struct PollCommit {
  std::string source;
  core::SourceState state;  // the scheduler's state after the poll
  core::WallTime now;
  // The poll produced a feed: `items` is the whole feed (marked seen, last_seen refreshed),
  // and the source's seen items are pruned. False: only the state is saved.
  bool ok = false;
  std::vector<PollItem> items;
  // First sight of the source (no successful poll committed before): alert on its items
  // (true) or only mark them seen (false).
  bool backfill = false;
  // Items published before this are marked seen and not alerted; nullopt = no limit.
  std::optional<core::WallTime> oldest_alertable;
};

struct CommitResult {
  std::size_t new_items = 0;       // items not seen before by the store
  std::size_t alerts_queued = 0;   // outbox rows inserted
  std::size_t suppressed = 0;      // new matched items not alerted: first sight or too old
  bool first_sight = false;        // this was the source's first committed successful poll
  std::vector<std::string> sinks;  // sinks that got outbox rows (sorted, unique)
  std::vector<std::size_t> fresh;  // indices into PollCommit::items of the new items
};

// A queued alert.
struct OutboxEntry {
  std::int64_t id = 0;  // the row; order of insertion
  core::Alert alert;
  core::WallTime created;       // when it was queued (first_seen of the poll)
  core::WallTime next_attempt;  // not sent before
  int attempts = 0;             // failed attempts so far
  int last_status = 0;          // HTTP status of the last failed attempt, 0 = none
  std::string last_error;       // why the last attempt failed (redacted: no URL tokens)
};

// An alert that will not be retried unless a user asks (`newsmon outbox retry`).
struct DeadLetter {
  std::int64_t id = 0;  // the row in the dead-letter table (its own numbering)
  core::Alert alert;
  core::WallTime created;  // when it was first queued
  core::WallTime failed;   // when it was given up
  int attempts = 0;
  int status = 0;      // the last HTTP status, 0 = none
  std::string reason;  // why it was given up, with the response's first bytes when any
};

// A matched item, as the history keeps it.
struct HistoryEntry {
  std::int64_t id = 0;
  std::string source;
  core::Item item;
  std::vector<core::RuleHit> rules;  // every rule that matched (all sinks)
  core::WallTime first_seen;
  bool alerted = false;  // false: first sight or too old, so only recorded
};

struct SinkDisabled {
  std::string sink;
  core::WallTime since;
  std::string reason;
};

class Store {
 public:
  // Opens (creating the file and its directory entries if needed, unless read_only) and
  // migrates to the current schema, then runs PRAGMA quick_check.
  static std::unique_ptr<Store> Open(const std::filesystem::path& file, StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::filesystem::path& file() const { return file_; }
  int schema_version() const;  // the version migrations brought the file to

  // --- sources -----------------------------------------------------------------------
  // Every source's last saved state, by name.
  std::map<std::string, core::SourceState> LoadSourceStates();
  // Applies `commits` in one transaction (group commit: the pipeline batches the polls
  // that finished while the previous transaction was being written); one result each.
  std::vector<CommitResult> CommitPolls(std::span<const PollCommit> commits);
  CommitResult CommitPoll(const PollCommit& commit);  // one
  // Removes state, seen items and history of sources no longer configured; returns how
  // many sources were forgotten. Outbox rows stay (they are still owed).
  std::size_t ForgetSourcesExcept(const std::set<std::string>& configured);

  // --- outbox ------------------------------------------------------------------------
  // Up to `limit` alerts for `sink` due at `now`, oldest first, skipping ids in `exclude`
  // (those already being sent).
  std::vector<OutboxEntry> Due(const std::string& sink, core::WallTime now, std::size_t limit,
                               const std::set<std::int64_t>& exclude = {});
  // The earliest next_attempt of `sink`'s alerts; nullopt when it has none.
  std::optional<core::WallTime> NextDue(const std::string& sink);
  void MarkDelivered(std::int64_t id);
  void MarkFailed(std::int64_t id, core::WallTime next_attempt, int status,
                  const std::string& error);
  // Moves the alert to the dead letters.
  void MoveToDeadLetters(std::int64_t id, core::WallTime now, int status,
                         const std::string& reason);
  // Pending alerts per sink (sinks without any are absent).
  std::map<std::string, std::size_t> PendingCounts();
  std::map<std::string, std::size_t> DeadLetterCounts();
  std::vector<OutboxEntry> ListOutbox(const std::optional<std::string>& sink = {});
  std::vector<DeadLetter> ListDeadLetters(const std::optional<std::string>& sink = {});
  // Puts dead letters back in the outbox, due at `now` with their delivery ids unchanged
  // and attempts reset; re-enables their sinks. By dead-letter id; unknown ids are ignored.
  // Returns how many were requeued.
  std::size_t RetryDeadLetters(std::span<const std::int64_t> ids, core::WallTime now);
  // Every dead letter (of `sink` only, when given); also re-enables the sink(s).
  std::size_t RetryAllDeadLetters(const std::optional<std::string>& sink, core::WallTime now);

  // --- sinks disabled by a 410 Gone ---------------------------------------------------
  void DisableSink(const std::string& sink, core::WallTime now, const std::string& reason);
  void EnableSink(const std::string& sink);
  void EnableAllSinks();  // a config (re)load
  std::vector<SinkDisabled> DisabledSinks();

  // --- history -----------------------------------------------------------------------
  // The most recent matched items, newest first, optionally only those of one rule and/or
  // source.
  std::vector<HistoryEntry> RecentMatches(std::size_t limit,
                                          const std::optional<std::string>& rule = {},
                                          const std::optional<std::string>& source = {});

 private:
  Store(std::filesystem::path file, StoreOptions options);
  std::filesystem::path file_;
  StoreOptions options_;
  sqlite3* db_ = nullptr;
  struct Statements;  // prepared statements, reused
  std::unique_ptr<Statements> statements_;
};

// The store's file under a state directory.
inline std::filesystem::path StoreFile(const std::filesystem::path& state_dir) {
  return state_dir / "newsmon.db";
}

}  // namespace newsmon::store
