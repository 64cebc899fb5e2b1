#include "daemon/app/outbox_cli.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/alert/alert.h"
#include "daemon/app/cli.h"
#include "daemon/config/config.h"
#include "daemon/core/time.h"
#include "daemon/core/version.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "daemon/store/store.h"

namespace newsmon::app {
namespace {

std::optional<config::Config> LoadOrReport(const std::string& file, std::ostream& err) {
  auto loaded = config::LoadConfig(file, config::ProcessEnvironment());
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) err << core::Format(d) << '\n';
    return std::nullopt;
  }
  return std::move(loaded.config);
}

const core::SinkSpec* FindSink(const config::Config& config, const std::string& name,
                               std::ostream& err) {
  std::string names;
  for (const auto& sink : config.sinks) {
    if (sink.name == name) return &sink;
    names += (names.empty() ? "" : ", ") + sink.name;
  }
  err << "newsmon: no sink named '" << name << "' in " << config.file.string()
      << " (sinks: " << names << ")\n";
  return nullptr;
}

std::string Time(core::WallTime t) {
  return core::FormatRfc3339(std::chrono::time_point_cast<std::chrono::seconds>(t));
}

// The alert a sink test sends: marked as a test in its payload and its text.
core::Alert TestAlert(const core::SinkSpec& sink, core::WallTime now) {
  core::Alert alert;
  alert.delivery_id = "nm_test" + std::to_string(now.time_since_epoch().count());
  alert.sink = sink.name;
  alert.source = "newsmon-test";
  alert.item.id = "urn:newsmon:test:" + std::to_string(now.time_since_epoch().count());
  alert.item.title = "newsmon test alert: if you can read this, sink '" + sink.name + "' works";
  alert.item.link = std::string(core::kProjectUrl);
  alert.item.summary = "Sent by 'newsmon sink test'. Not a real match.";
  alert.item.published = std::chrono::time_point_cast<std::chrono::seconds>(now);
  alert.rules.push_back({.rule = "newsmon-test",
                         .severity = core::RuleSeverity::kInfo,
                         .field = core::Field::kTitle,
                         .begin = 0,
                         .end = 7,
                         .text = "newsmon"});
  alert.first_seen = now;
  alert.test = true;
  return alert;
}

std::unique_ptr<store::Store> OpenStore(const config::Config& config, bool read_only,
                                        std::ostream& err) {
  try {
    return store::Store::Open(store::StoreFile(config.state_dir), {.read_only = read_only});
  } catch (const store::StoreError& e) {
    err << "newsmon: " << e.what() << '\n';
    return nullptr;
  }
}

}  // namespace

int SinkTest(const std::string& config_file, const std::string& name, std::ostream& out,
             std::ostream& err) {
  auto config = LoadOrReport(config_file, err);
  if (!config) return kExitUsage;
  const core::SinkSpec* sink = FindSink(*config, name, err);
  if (!sink) return kExitUsage;
  core::SystemClock clock;
  core::Alert alert = TestAlert(*sink, clock.Now());
  if (sink->kind == core::SinkKind::kLog) {
    out << alert::LogLine(alert) << '\n' << "sink " << name << ": logged\n";
    return kExitOk;
  }
  boost::asio::io_context io;
  auto resolver = net::MakeResolver(io.get_executor());
  net::HttpClient client(io.get_executor(), *resolver);
  alert::DeliveryResult result;
  std::exception_ptr failure;
  // The resolver keeps sockets open, so the loop stops when the send ends, not when idle.
  boost::asio::co_spawn(io, alert::Send(client, *sink, alert, clock),
                        [&](std::exception_ptr e, alert::DeliveryResult r) {
                          failure = e;
                          result = std::move(r);
                          io.stop();
                        });
  io.run();
  if (failure) std::rethrow_exception(failure);
  std::string where = alert::RedactedUrl(sink->url);
  if (result.status == alert::DeliveryStatus::kDelivered) {
    out << "sink " << name << " (" << where << "): delivered, HTTP " << result.http_status << " in "
        << result.duration.count() << " ms (delivery id " << alert.delivery_id << ")\n";
    return kExitOk;
  }
  err << "sink " << name << ": not delivered: " << result.message << '\n';
  return kExitFailure;
}

int OutboxList(const OutboxRequest& request, std::ostream& out, std::ostream& err) {
  auto config = LoadOrReport(request.config_file, err);
  if (!config) return kExitUsage;
  if (request.sink && !FindSink(*config, *request.sink, err)) return kExitUsage;
  auto store = OpenStore(*config, /*read_only=*/true, err);
  if (!store) return kExitFailure;
  auto item_json = [](const core::Alert& alert) {
    return nlohmann::json{{"delivery_id", alert.delivery_id},
                          {"sink", alert.sink},
                          {"source", alert.source},
                          {"title", alert.item.title},
                          {"link", alert.item.link ? nlohmann::json(*alert.item.link) : nullptr}};
  };
  std::size_t count = 0;
  if (request.dead) {
    for (const auto& dead : store->ListDeadLetters(request.sink)) {
      ++count;
      if (request.json) {
        auto j = item_json(dead.alert);
        j["id"] = dead.id;
        j["created"] = Time(dead.created);
        j["failed"] = Time(dead.failed);
        j["attempts"] = dead.attempts;
        j["status"] = dead.status;
        j["reason"] = dead.reason;
        out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      } else {
        out << dead.id << "  " << dead.alert.delivery_id << "  " << dead.alert.sink << "  "
            << dead.alert.source << "  failed " << Time(dead.failed) << " after " << dead.attempts
            << (dead.attempts == 1 ? " attempt" : " attempts") << ": " << dead.reason << "\n    "
            << dead.alert.item.title << '\n';
      }
    }
    if (!request.json) out << count << " dead letters\n";
    return kExitOk;
  }
  for (const auto& entry : store->ListOutbox(request.sink)) {
    ++count;
    if (request.json) {
      auto j = item_json(entry.alert);
      j["id"] = entry.id;
      j["created"] = Time(entry.created);
      j["next_attempt"] = Time(entry.next_attempt);
      j["attempts"] = entry.attempts;
      j["last_status"] = entry.last_status;
      j["last_error"] = entry.last_error;
      out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      out << entry.id << "  " << entry.alert.delivery_id << "  " << entry.alert.sink << "  "
          << entry.alert.source << "  queued " << Time(entry.created);
      if (entry.attempts > 0) {
        out << ", " << entry.attempts << (entry.attempts == 1 ? " attempt" : " attempts")
            << ", next " << Time(entry.next_attempt) << ": " << entry.last_error;
      }
      out << "\n    " << entry.alert.item.title << '\n';
    }
  }
  if (!request.json) out << count << " pending\n";
  return kExitOk;
}

int OutboxRetry(const OutboxRequest& request, std::ostream& out, std::ostream& err) {
  if (request.ids.empty() == !request.dead) {
    err << "newsmon outbox retry: give dead-letter IDs or --dead (not both)\n";
    return kExitUsage;
  }
  if (request.sink && !request.dead) {
    err << "newsmon outbox retry: --sink goes with --dead\n";
    return kExitUsage;
  }
  auto config = LoadOrReport(request.config_file, err);
  if (!config) return kExitUsage;
  if (request.sink && !FindSink(*config, *request.sink, err)) return kExitUsage;
  auto store = OpenStore(*config, /*read_only=*/false, err);
  if (!store) return kExitFailure;
  core::SystemClock clock;
  std::size_t requeued = 0;
  try {
    requeued = request.dead ? store->RetryAllDeadLetters(request.sink, clock.Now())
                            : store->RetryDeadLetters(request.ids, clock.Now());
  } catch (const store::StoreError& e) {
    err << "newsmon: " << e.what() << '\n';
    return kExitFailure;
  }
  out << requeued << (requeued == 1 ? " dead letter" : " dead letters") << " back in the outbox\n";
  if (!request.ids.empty() && requeued < request.ids.size()) {
    err << "newsmon outbox retry: " << request.ids.size() - requeued
        << " of the given ids are not dead letters\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace newsmon::app
