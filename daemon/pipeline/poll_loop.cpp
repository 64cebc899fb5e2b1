#include "daemon/pipeline/poll_loop.h"

#include <spdlog/logger.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>
#include <optional>

#include "daemon/fetch/fetch.h"
#include "daemon/parse/parse.h"
#include "daemon/pipeline/store_worker.h"
#include "daemon/rules/rules.h"
#include "daemon/schedule/scheduler.h"

namespace newsmon::pipeline {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

std::string_view OutcomeName(core::PollOutcome outcome) {
  return core::NameOf<core::PollOutcome>(core::kPollOutcomeNames, outcome);
}

// Item ids seen in a source's previous poll, as hashes: 8 bytes per item, so tens of
// thousands of sources fit in a few megabytes. (The store keeps the durable record.)
using SeenIds = std::vector<std::size_t>;

// What parsing a poll's body hands back to the loop.
struct Parsed {
  SeenIds seen;                        // the feed's item ids, sorted
  std::vector<store::PollItem> items;  // with a store: the whole feed, alerts on new matches
  // With a store: the matched new items, with their indices into `items`.
  std::vector<std::pair<std::size_t, MatchedItem>> matched;
};

// One alert per sink some matched rule notifies (a rule without `notify` notifies every
// sink), each listing the rules that notify that sink.
std::vector<core::Alert> BuildAlerts(const core::Item& item,
                                     const std::vector<core::Match>& matches,
                                     const rules::RuleSet& rules, const core::Source& source,
                                     const std::vector<std::string>& sinks,
                                     core::WallTime first_seen) {
  std::string scratch;
  rules::FieldTexts texts = rules::TextsOf(item, scratch);
  std::vector<core::RuleHit> hits;
  std::vector<const core::RuleSpec*> specs;
  for (const auto& match : matches) {
    const core::RuleSpec* spec = rules.Find(match.rule);
    std::string_view text = texts[static_cast<std::size_t>(match.field)];
    std::size_t begin = std::min(match.begin, text.size());
    std::size_t end = std::clamp(match.end, begin, text.size());
    hits.push_back({.rule = match.rule,
                    .severity = spec ? spec->severity : core::RuleSeverity::kWarning,
                    .labels = spec ? spec->labels : decltype(spec->labels){},
                    .field = match.field,
                    .begin = begin,
                    .end = end,
                    .text = std::string(text.substr(begin, end - begin))});
    specs.push_back(spec);
  }
  std::vector<core::Alert> alerts;
  for (const auto& sink : sinks) {
    core::Alert alert;
    for (std::size_t i = 0; i < hits.size(); ++i) {
      const auto* spec = specs[i];
      if (spec && !spec->notify.empty() &&
          std::find(spec->notify.begin(), spec->notify.end(), sink) == spec->notify.end()) {
        continue;
      }
      alert.rules.push_back(hits[i]);
    }
    if (alert.rules.empty()) continue;
    alert.sink = sink;
    alert.source = source.name;
    alert.source_url = source.url;
    alert.item = item;
    alert.first_seen = first_seen;
    alerts.push_back(std::move(alert));
  }
  return alerts;
}

}  // namespace

struct PollLoop::Impl : std::enable_shared_from_this<Impl> {
  struct Slot {
    core::Source source;
    schedule::SourceId id = 0;
    asio::steady_timer timer;
    SeenIds seen;
    bool polled = false;        // at least one ok poll: later new items are news
    bool released = false;      // a Finish freed a slot for this queued source
    bool warned_moved = false;  // a permanent redirect was logged
    bool removed = false;       // Remove()d: the coroutine ends after its current poll
    Slot(core::Source s, schedule::SourceId i, asio::any_io_executor e)
        : source(std::move(s)), id(i), timer(std::move(e)) {}
  };

  asio::any_io_executor executor;
  net::HttpClient& client;
  const core::Clock& clock;
  std::shared_ptr<const rules::RuleSet> rules;  // swapped by SetRules; each poll keeps its own
  std::shared_ptr<const std::vector<std::string>> sinks;  // likewise (SetSinks)
  spdlog::logger& log;
  PollLoopOptions options;
  schedule::Scheduler scheduler;
  std::vector<std::unique_ptr<Slot>> slots;  // indexed by SourceId
  std::map<std::string, Slot*, std::less<>> by_name;
  std::optional<asio::thread_pool> workers;
  std::function<void(const PollEvent&)> observer;
  bool stopping = false;
  bool started = false;
  std::size_t running = 0;  // Run coroutines not yet returned

  Impl(asio::any_io_executor e, net::HttpClient& c, const core::Clock& k,
       std::shared_ptr<const rules::RuleSet> r, spdlog::logger& l, PollLoopOptions o)
      : executor(std::move(e)),
        client(c),
        clock(k),
        rules(std::move(r)),
        sinks(std::make_shared<const std::vector<std::string>>(o.sinks)),
        log(l),
        options(o),
        scheduler(
            k, o.limits,
            o.seed != 0 ? o.seed : static_cast<std::uint64_t>(k.Now().time_since_epoch().count())) {
    if (options.parse_threads > 0) workers.emplace(static_cast<std::size_t>(options.parse_threads));
  }

  ~Impl() {
    if (workers) workers->join();
  }

  asio::awaitable<void> Run(Slot& slot);
  asio::awaitable<PollEvent> Poll(Slot& slot);
  // What one poll matches with: the rules and sinks as they were when it started (a reload
  // swaps them on the loop's thread while a parse may run on a worker).
  struct Matching {
    std::shared_ptr<const rules::RuleSet> rules;
    std::shared_ptr<const std::vector<std::string>> sinks;
  };
  void Parse(Slot& slot, const Matching& matching, fetch::FetchResult& fetched, PollEvent& event,
             schedule::PollReport& report, Parsed& out);
  asio::awaitable<void> ParseAsync(Slot& slot, const Matching& matching,
                                   fetch::FetchResult& fetched, PollEvent& event,
                                   schedule::PollReport& report, Parsed& out) {
    Parse(slot, matching, fetched, event, report, out);
    co_return;
  }
  asio::awaitable<void> Commit(Slot& slot, PollEvent& event, Parsed& parsed);
  void Report(const Slot& slot, const PollEvent& event);
  void Spawn(Slot& slot) {
    ++running;  // from the co_spawn, so a loop stopped before it runs is not Stopped()
    asio::co_spawn(executor, Run(slot), asio::detached);
  }
  // Starts the queued sources a finished (or abandoned) poll released.
  void Wake(const std::vector<schedule::SourceId>& released) {
    for (auto id : released) {
      slots[id]->released = true;
      slots[id]->timer.cancel();
    }
  }
};

asio::awaitable<void> PollLoop::Impl::Run(Slot& slot) {
  auto self = shared_from_this();  // the loop lives while its sources' coroutines do
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  auto ending = [&] { return stopping || slot.removed; };
  while (!ending()) {
    slot.timer.expires_after(scheduler.NextPoll(slot.id) - clock.Now());
    co_await slot.timer.async_wait(kTuple);
    if (ending()) break;
    if (!scheduler.TryStart(slot.id)) {
      // Host or loop full: wait until a finishing poll hands this source its slot.
      slot.released = false;
      while (!slot.released && !ending()) {
        slot.timer.expires_at(asio::steady_timer::time_point::max());
        co_await slot.timer.async_wait(kTuple);
      }
      if (ending()) break;
    }
    PollEvent event = co_await Poll(slot);
    Report(slot, event);
  }
  // Stopping or removed. A slot handed to this source meanwhile goes back unpolled (and on
  // to whoever waits next); out of the queue, it cannot be handed one later.
  if (slot.released) Wake(scheduler.Abandon(slot.id));
  scheduler.Remove(slot.id);
  --running;
}

asio::awaitable<PollEvent> PollLoop::Impl::Poll(Slot& slot) {
  PollEvent event;
  event.source = slot.source.name;
  event.url = slot.source.url;
  event.started = clock.Now();
  const Matching matching{.rules = rules, .sinks = sinks};
  fetch::FetchResult fetched =
      co_await fetch::FetchSource(client, slot.source, scheduler.State(slot.id), clock);
  event.outcome = fetched.outcome;
  event.error = fetched.error;
  event.status = fetched.status;
  event.wire_bytes = fetched.wire_bytes;
  event.duration = fetched.duration;

  schedule::PollReport report{.outcome = fetched.outcome,
                              .error = fetched.error,
                              .etag = fetched.etag,
                              .last_modified = fetched.last_modified,
                              .retry_after = fetched.retry_after,
                              .max_age = fetched.max_age};
  if (!slot.warned_moved) {
    for (const auto& hop : fetched.redirects) {
      if (!hop.permanent()) continue;
      log.warn("source {}: {} moved permanently ({}) to {}; update its url in the config",
               slot.source.name, hop.from, hop.status, hop.to);
      slot.warned_moved = true;
      break;
    }
  }
  Parsed parsed;
  if (fetched.outcome == core::PollOutcome::kOk) {
    if (workers) {
      // Parse on a worker thread; this coroutine resumes on the loop's thread after it.
      // (Posting with use_awaitable alone would resume on the loop's thread at once.)
      co_await asio::co_spawn(workers->get_executor(),
                              ParseAsync(slot, matching, fetched, event, report, parsed),
                              asio::use_awaitable);
    } else {
      Parse(slot, matching, fetched, event, report, parsed);
    }
  }
  Wake(scheduler.Finish(slot.id, report));
  event.next_poll = scheduler.NextPoll(slot.id);
  if (options.store) {
    co_await Commit(slot, event, parsed);
  } else if (event.outcome == core::PollOutcome::kOk) {
    slot.seen = std::move(parsed.seen);
    slot.polled = true;
  }
  co_return event;
}

// Records the poll in the store; only once it is committed does the loop consider the
// feed's items seen (a failed commit leaves them new for the next poll).
asio::awaitable<void> PollLoop::Impl::Commit(Slot& slot, PollEvent& event, Parsed& parsed) {
  bool ok = event.outcome == core::PollOutcome::kOk;
  store::PollCommit commit{.source = slot.source.name,
                           .state = scheduler.State(slot.id),
                           .now = event.started,
                           .ok = ok,
                           .items = std::move(parsed.items),
                           .backfill = slot.source.backfill,
                           .oldest_alertable = event.started - slot.source.max_item_age};
  store::CommitResult result;
  try {
    auto op = options.store->Commit(std::move(commit));
    result = co_await std::move(op);
  } catch (const std::exception& e) {
    event.store_error = e.what();
    co_return;
  }
  if (!ok) co_return;
  slot.seen = std::move(parsed.seen);
  slot.polled = true;
  event.new_items = result.new_items;
  event.alerts_queued = result.alerts_queued;
  event.alert_sinks = std::move(result.sinks);
  event.suppressed = result.suppressed;
  // Report as matches only the items alerted on: news to the store (after a restart the
  // whole feed is new to the loop, not to the store), and not held back as the store did
  // (first sight without backfill, too old).
  if (result.first_sight && !slot.source.backfill) co_return;
  for (auto& [index, matched] : parsed.matched) {
    const auto& published = matched.item.published;
    if (std::binary_search(result.fresh.begin(), result.fresh.end(), index) &&
        !(published && *published < event.started - slot.source.max_item_age)) {
      event.matched.push_back(std::move(matched));
    }
  }
}

// Runs on a worker thread: reads only `slot` (this source is not polled twice at once) and
// writes only its arguments.
void PollLoop::Impl::Parse(Slot& slot, const Matching& matching, fetch::FetchResult& fetched,
                           PollEvent& event, schedule::PollReport& report, Parsed& out) {
  parse::Options parse_options{.kind = slot.source.kind,
                               .url = fetched.url,
                               .content_type = fetched.content_type,
                               .html = slot.source.html ? &*slot.source.html : nullptr,
                               .source_name = slot.source.name};
  parse_options.limits.max_bytes = slot.source.max_body;
  parse::Result parsed = parse::Parse(std::move(fetched.body), parse_options);
  event.warnings = parsed.warnings.size();
  if (!parsed.ok()) {
    event.outcome = report.outcome = core::PollOutcome::kParse;
    event.error = report.error = fetched.url + ": " + parsed.error;
    return;
  }
  core::Feed& feed = *parsed.feed;
  event.items = feed.items.size();
  if (feed.ttl) report.feed_ttl = std::chrono::duration_cast<milliseconds>(*feed.ttl);

  out.seen.reserve(feed.items.size());
  std::hash<std::string> hash;
  for (const auto& item : feed.items) out.seen.push_back(hash(item.id));
  std::sort(out.seen.begin(), out.seen.end());
  const bool keep = options.store != nullptr;
  if (keep) out.items.reserve(feed.items.size());
  for (auto& item : feed.items) {
    std::vector<core::Match> matches;
    if (!std::binary_search(slot.seen.begin(), slot.seen.end(), hash(item.id))) {
      ++event.new_items;
      if (matching.rules) matches = matching.rules->Match(item, slot.source.name);
    }
    if (!keep) {
      if (!matches.empty()) event.matched.push_back({item, std::move(matches)});
      continue;
    }
    store::PollItem entry;
    if (!matches.empty()) {
      entry.alerts =
          BuildAlerts(item, matches, *matching.rules, slot.source, *matching.sinks, event.started);
      out.matched.emplace_back(out.items.size(), MatchedItem{item, std::move(matches)});
    }
    entry.item = std::move(item);
    out.items.push_back(std::move(entry));
  }
  // The first poll's items are all "new" to this run; the adaptive interval counts only
  // items that appeared between polls.
  report.new_items = slot.polled ? event.new_items : 0;
}

void PollLoop::Impl::Report(const Slot& slot, const PollEvent& event) {
  if (event.outcome == core::PollOutcome::kOk || event.outcome == core::PollOutcome::kNotModified) {
    log.debug(
        "source {}: {} in {} ms, {} items, {} new, {} alerts queued, next poll in {} s",
        event.source, OutcomeName(event.outcome), event.duration.count(), event.items,
        event.new_items, event.alerts_queued,
        std::chrono::duration_cast<std::chrono::seconds>(event.next_poll - clock.Now()).count());
  } else {
    const auto& state = scheduler.State(slot.id);
    log.warn(
        "source {}: {}: {} ({} failures in a row, next poll in {} s)", event.source,
        OutcomeName(event.outcome), event.error, state.consecutive_failures,
        std::chrono::duration_cast<std::chrono::seconds>(event.next_poll - clock.Now()).count());
  }
  if (!event.store_error.empty()) {
    log.error("source {}: the poll was not recorded: {} (its items stay new until a poll is)",
              event.source, event.store_error);
  }
  if (event.suppressed > 0) {
    log.info(
        "source {}: {} new matching items not alerted (first poll of the source without "
        "backfill, or published more than max_item_age ago)",
        event.source, event.suppressed);
  }
  for (const auto& m : event.matched) {
    std::string names;
    for (const auto& match : m.matches) names += (names.empty() ? "" : ", ") + match.rule;
    log.info("match [{}] source {}: {} — {}", names, event.source, m.item.title,
             m.item.link.value_or("(no link)"));
  }
  if (observer) observer(event);
}

PollLoop::PollLoop(asio::any_io_executor executor, net::HttpClient& client,
                   const core::Clock& clock, std::shared_ptr<const rules::RuleSet> rules,
                   spdlog::logger& log, PollLoopOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), client, clock, std::move(rules), log,
                                   options)) {}

PollLoop::~PollLoop() {
  Stop();
  // A parse still running on the pool must end while the io_context it resumes on exists.
  if (impl_->workers) impl_->workers->join();
}

void PollLoop::Add(const core::Source& source, core::SourceState state) {
  if (!source.enabled || impl_->stopping) return;
  Remove(source.name);
  auto id = impl_->scheduler.Add(source, std::move(state));
  if (impl_->slots.size() <= id) impl_->slots.resize(id + 1);
  impl_->slots[id] = std::make_unique<Impl::Slot>(source, id, impl_->executor);
  impl_->by_name[source.name] = impl_->slots[id].get();
  if (impl_->started) impl_->Spawn(*impl_->slots[id]);
}

bool PollLoop::Remove(const std::string& source) {
  auto it = impl_->by_name.find(source);
  if (it == impl_->by_name.end()) return false;
  // The slot stays (its coroutine may be mid-poll) until the loop goes; only its name is
  // free for a new one.
  it->second->removed = true;
  it->second->timer.cancel();
  impl_->by_name.erase(it);
  return true;
}

void PollLoop::SetRules(std::shared_ptr<const rules::RuleSet> rules) {
  impl_->rules = std::move(rules);
}

void PollLoop::SetSinks(std::vector<std::string> sinks) {
  impl_->sinks = std::make_shared<const std::vector<std::string>>(std::move(sinks));
}

void PollLoop::Start() {
  impl_->started = true;
  for (auto& slot : impl_->slots) {
    if (slot && !slot->removed) impl_->Spawn(*slot);
  }
}

void PollLoop::Stop() {
  impl_->stopping = true;
  for (auto& slot : impl_->slots) {
    if (slot) slot->timer.cancel();
  }
}

void PollLoop::OnPoll(std::function<void(const PollEvent&)> observer) {
  impl_->observer = std::move(observer);
}

const core::SourceState* PollLoop::State(const std::string& source) const {
  auto it = impl_->by_name.find(source);
  return it == impl_->by_name.end() ? nullptr : &impl_->scheduler.State(it->second->id);
}

std::size_t PollLoop::InFlight() const { return impl_->scheduler.InFlight(); }

bool PollLoop::Stopped() const { return impl_->stopping && impl_->running == 0; }

}  // namespace newsmon::pipeline
