#include "daemon/app/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "daemon/app/fetch.h"
#include "daemon/app/health.h"
#include "daemon/app/logging.h"
#include "daemon/app/outbox_cli.h"
#include "daemon/app/rules_cli.h"
#include "daemon/app/run.h"
#include "daemon/config/config.h"
#include "daemon/config/units.h"
#include "daemon/core/diagnostic.h"
#include "daemon/core/version.h"
#include "daemon/parse/html.h"

namespace newsmon::app {
namespace {

constexpr const char kDefaultConfig[] = "/etc/newsmon/newsmon.yaml";

struct Options {
  std::string config_file = kDefaultConfig;
  std::optional<std::string> log_level;
};

// Loads the config, then checks what only the parse and rules stages can: the HTML
// selectors and date formats of html sources (a problem there would fail every poll of the
// source), and the rules' regexes and phrases, compiled into `*rules` when given.
config::LoadResult Load(const std::string& file,
                        std::shared_ptr<const rules::RuleSet>* rules = nullptr) {
  auto loaded = config::LoadConfig(file, config::ProcessEnvironment());
  for (const auto& source : loaded.config.sources) {
    if (!source.html) continue;
    std::string problem = parse::HtmlSelectorsProblem(*source.html);
    if (problem.empty()) continue;
    core::Diagnostic d{.key = "sources." + source.name, .message = std::move(problem)};
    // origin is "file:line".
    if (auto colon = source.origin.rfind(':'); colon != std::string::npos) {
      d.file = source.origin.substr(0, colon);
      d.line = std::atoi(source.origin.c_str() + colon + 1);
    }
    loaded.diagnostics.push_back(std::move(d));
  }
  if (loaded.ok()) {
    auto built = BuildRules(loaded.config, loaded.diagnostics);
    if (rules) *rules = std::move(built);
  }
  return loaded;
}

void PrintDiagnostics(const config::LoadResult& loaded) {
  for (const auto& d : loaded.diagnostics) std::cerr << core::Format(d) << '\n';
}

int Check(const Options& options) {
  auto loaded = Load(options.config_file);
  PrintDiagnostics(loaded);
  if (!loaded.ok()) {
    std::size_t errors = core::CountErrors(loaded.diagnostics);
    std::cerr << options.config_file << ": " << errors << (errors == 1 ? " error" : " errors")
              << '\n';
    return kExitUsage;
  }
  const auto& c = loaded.config;
  std::cout << options.config_file << ": OK (" << c.sources.size() << " sources, "
            << config::EnabledSourceCount(c) << " enabled; " << c.rule_files.size()
            << " rule files, " << c.rules.size() << " rules; " << c.sinks.size() << " sinks)\n";
  return kExitOk;
}

int Run(const Options& options) {
  // The same loading at start and on every SIGHUP.
  auto load = [file = options.config_file] {
    Loaded result;
    auto loaded = Load(file, &result.rules);
    result.ok = loaded.ok();
    result.config = std::move(loaded.config);
    result.diagnostics = std::move(loaded.diagnostics);
    return result;
  };
  Loaded initial = load();
  if (!initial.ok) {
    for (const auto& d : initial.diagnostics) std::cerr << core::Format(d) << '\n';
    std::cerr << "newsmon: not starting: " << core::CountErrors(initial.diagnostics)
              << " config errors\n";
    return kExitUsage;
  }
  config::LogSettings log_settings = initial.config.log;
  if (options.log_level) {
    log_settings.level =
        *core::ParseEnum<config::LogLevel>(config::kLogLevelNames, *options.log_level);
  }
  auto log = MakeLogger(log_settings);
  for (const auto& d : initial.diagnostics) log->warn("{}", core::Format(d));
  initial.diagnostics.clear();
  return RunDaemon(std::move(initial), load, *log);
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"newsmon: watches news sources and alerts on headlines that match your rules",
               "newsmon"};
  app.set_version_flag("--version", std::string("newsmon ") + core::kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Exit codes: 0 success, 1 runtime failure, 2 invalid usage, config or rules.\n"
      "Run 'newsmon SUBCOMMAND --help' for a subcommand's options and examples.");

  Options options;
  std::vector<std::string> levels;
  for (const auto& entry : config::kLogLevelNames) levels.emplace_back(entry.name);
  app.add_option("--log-level", options.log_level, "Override the config's log.level")
      ->check(CLI::IsMember(levels));

  auto add_config = [&](CLI::App* sub) {
    sub->add_option("-c,--config", options.config_file, "Config file")
        ->envname("NEWSMON_CONFIG")
        ->capture_default_str();
  };

  CLI::App* run = app.add_subcommand("run", "Run the daemon: poll sources, match, alert");
  add_config(run);
  run->footer(
      "Examples:\n"
      "  newsmon run --config /etc/newsmon/newsmon.yaml\n"
      "  newsmon run --config config/newsmon.yaml --log-level debug\n"
      "Stops cleanly on SIGINT or SIGTERM.");

  CLI::App* check = app.add_subcommand("check", "Validate the config and rule files");
  add_config(check);
  check->footer(
      "Examples:\n"
      "  newsmon check --config /etc/newsmon/newsmon.yaml\n"
      "Prints every problem with file:line; exit 0 when valid, 2 otherwise.");

  FetchRequest fetch_request;
  std::string fetch_kind = "auto";
  CLI::App* fetch =
      app.add_subcommand("fetch", "Fetch or read one source and print its items (dry run)");
  fetch
      ->add_option("target", fetch_request.target,
                   "A feed file or http(s) URL, or a SOURCE name with --config")
      ->required();
  fetch->add_option("-c,--config", fetch_request.config_file,
                    "Read SOURCE (URL, kind, HTML selectors) from this config");
  fetch->add_option("--input", fetch_request.input,
                    "With --config: parse this file instead of fetching the source's URL");
  std::vector<std::string> kinds;
  for (const auto& entry : core::kSourceKindNames) kinds.emplace_back(entry.name);
  fetch->add_option("--kind", fetch_kind, "Format of a bare file or URL (default: detect)")
      ->check(CLI::IsMember(kinds));
  fetch->add_flag("--allow-private-networks", fetch_request.allow_private_networks,
                  "A bare URL may reach loopback and private addresses");
  fetch->add_flag("--json", fetch_request.json,
                  "One JSON object per item and line: id, title, link, published, summary, "
                  "author, categories, matches");
  fetch->footer(
      "Examples:\n"
      "  newsmon fetch feed.xml\n"
      "  newsmon fetch feed.xml --json | jq .title\n"
      "  newsmon fetch https://eurasianet.org/rss\n"
      "  newsmon fetch --config /etc/newsmon/newsmon.yaml eurasianet\n"
      "  newsmon fetch --config /etc/newsmon/newsmon.yaml caliber-az --input page.html\n"
      "Nothing is sent and no state is written. Exit 1 when the source cannot be read or "
      "parsed.");

  RulesRequest rules_request;
  std::string rules_field = "title";
  CLI::App* rules = app.add_subcommand("rules", "Try rules on headlines and check rule files");
  rules->require_subcommand(1);
  auto add_rules_options = [&](CLI::App* sub) {
    sub->add_option("-c,--config", rules_request.config_file,
                    "Config file: its rules, sources and sinks (default: " +
                        std::string(kDefaultConfig) + " unless --rules is given)")
        ->envname("NEWSMON_CONFIG");
    sub->add_option("--rules", rules_request.rule_globs,
                    "Rule files to use instead of the config's (a glob, relative to the "
                    "current directory; may be repeated)")
        ->allow_extra_args(false);
  };
  CLI::App* rules_test =
      rules->add_subcommand("test", "Print the rules that fire on each TEXT (or stdin line)");
  add_rules_options(rules_test);
  std::vector<std::string> field_names;
  for (const auto& entry : core::kFieldNames) field_names.emplace_back(entry.name);
  rules_test->add_option("--field", rules_field, "Which field of an item each text is")
      ->check(CLI::IsMember(field_names))
      ->capture_default_str();
  rules_test->add_option("--source", rules_request.source,
                         "Match as an item of this source (rules limited to other sources do "
                         "not fire; without it, no source-limited rule fires)");
  rules_test->add_flag("--explain", rules_request.explain,
                       "Show where each rule matched: field, byte span and the text");
  rules_test->add_flag("--json", rules_request.json,
                       "One JSON object per text: {\"text\", \"matches\": [{\"rule\", "
                       "\"field\", \"span\": [begin, end]}]} (UTF-8 byte offsets)");
  rules_test->add_option("text", rules_request.texts, "Headlines to try (default: stdin lines)");
  rules_test->footer(
      "Examples:\n"
      "  newsmon rules test --rules 'rules/*.yaml' 'Kazakhstan joins the Middle Corridor'\n"
      "  newsmon rules test --explain --field summary < summaries.txt\n"
      "  newsmon rules test --config /etc/newsmon/newsmon.yaml --source bbc-asia --json TEXT\n"
      "Exit 0 whether or not anything matched; 2 when the rules have errors.");
  CLI::App* rules_check =
      rules->add_subcommand("check", "Compile every rule and run every rule's own examples");
  add_rules_options(rules_check);
  rules_check->footer(
      "Examples:\n"
      "  newsmon rules check --rules 'rules/*.yaml'\n"
      "  newsmon rules check --config /etc/newsmon/newsmon.yaml\n"
      "Prints each error and each failing example with file:line; exit 0 when all pass, 2 "
      "otherwise.");

  std::string sink_name;
  CLI::App* sink = app.add_subcommand("sink", "Try a configured sink");
  sink->require_subcommand(1);
  CLI::App* sink_test = sink->add_subcommand(
      "test", "Send a clearly marked test alert to one sink and print its answer");
  add_config(sink_test);
  sink_test->add_option("name", sink_name, "The sink's name in the config")->required();
  sink_test->footer(
      "Examples:\n"
      "  newsmon sink test --config /etc/newsmon/newsmon.yaml team-slack\n"
      "Exit 0 when the sink accepted the alert, 1 when it did not, 2 on a bad config or "
      "name.");

  OutboxRequest outbox_request;
  CLI::App* outbox = app.add_subcommand("outbox", "Pending and dead-lettered alerts");
  outbox->require_subcommand(1);
  CLI::App* outbox_list =
      outbox->add_subcommand("list", "List pending alerts (or dead letters with --dead)");
  add_config(outbox_list);
  outbox_list->add_flag("--dead", outbox_request.dead, "List dead letters instead");
  outbox_list->add_option("--sink", outbox_request.sink, "Only this sink's alerts");
  outbox_list->add_flag("--json", outbox_request.json,
                        "One JSON object per alert and line: id, delivery_id, sink, source, "
                        "title, link, created, attempts, and next_attempt/last_status/"
                        "last_error (pending) or failed/status/reason (dead)");
  outbox_list->footer(
      "Examples:\n"
      "  newsmon outbox list\n"
      "  newsmon outbox list --dead --sink team-slack\n"
      "Reads the state database under the config's state_dir; safe while the daemon runs.");
  CLI::App* outbox_retry = outbox->add_subcommand(
      "retry", "Put dead letters back in the queue (and re-enable a sink a 410 disabled)");
  add_config(outbox_retry);
  outbox_retry->add_option("ids", outbox_request.ids, "Dead-letter ids (from outbox list --dead)");
  outbox_retry->add_flag("--dead", outbox_request.dead, "Every dead letter");
  outbox_retry->add_option("--sink", outbox_request.sink, "With --dead: only this sink's");
  outbox_retry->footer(
      "Examples:\n"
      "  newsmon outbox retry 12 13\n"
      "  newsmon outbox retry --dead --sink team-slack\n"
      "The running daemon picks them up within a second, under their original delivery ids.");

  std::string health_url = kDefaultHealthUrl;
  std::string health_timeout = "5s";
  CLI::App* health = app.add_subcommand(
      "health", "Ask a running daemon's admin server whether it is alive (container health check)");
  health
      ->add_option("--url", health_url, "The endpoint to ask (/healthz, or /readyz for readiness)")
      ->capture_default_str();
  health->add_option("--timeout", health_timeout, "Give up after this long: 500ms, 5s, ...")
      ->check([](const std::string& text) -> std::string {
        auto d = config::ParseDuration(text);
        return d && d->count() > 0 ? "" : "expected a duration such as 5s or 500ms";
      })
      ->capture_default_str();
  health->footer(
      "Examples:\n"
      "  newsmon health\n"
      "  newsmon health --url http://127.0.0.1:9787/readyz --timeout 2s\n"
      "Prints ok and exits 0 when the server answers 200; otherwise prints why and exits 1.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (run->parsed()) return Run(options);
  if (health->parsed()) {
    return Health(health_url, *config::ParseDuration(health_timeout), std::cout, std::cerr);
  }
  if (sink_test->parsed()) return SinkTest(options.config_file, sink_name, std::cout, std::cerr);
  if (outbox->parsed()) {
    outbox_request.config_file = options.config_file;
    return outbox_list->parsed() ? OutboxList(outbox_request, std::cout, std::cerr)
                                 : OutboxRetry(outbox_request, std::cout, std::cerr);
  }
  if (rules->parsed()) {
    if (!rules_request.config_file && rules_request.rule_globs.empty()) {
      rules_request.config_file = kDefaultConfig;
    }
    rules_request.field = *core::ParseEnum<core::Field>(core::kFieldNames, rules_field);
    return rules_test->parsed() ? RulesTest(rules_request, std::cin, std::cout, std::cerr)
                                : RulesCheck(rules_request, std::cout, std::cerr);
  }
  if (fetch->parsed()) {
    if (fetch_request.input && !fetch_request.config_file) {
      std::cerr << "newsmon fetch: --input needs --config and a SOURCE name\n";
      return kExitUsage;
    }
    if (fetch_kind != "auto" && fetch_request.config_file) {
      std::cerr << "newsmon fetch: --kind is for a bare file; with --config the source's kind "
                   "is used\n";
      return kExitUsage;
    }
    fetch_request.kind = *core::ParseEnum<core::SourceKind>(core::kSourceKindNames, fetch_kind);
    return Fetch(fetch_request, std::cout, std::cerr);
  }
  return Check(options);
}

}  // namespace newsmon::app
