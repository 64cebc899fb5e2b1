#include "daemon/app/fetch.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/app/cli.h"
#include "daemon/app/rules_cli.h"
#include "daemon/config/config.h"
#include "daemon/config/text.h"
#include "daemon/core/diagnostic.h"
#include "daemon/core/time.h"
#include "daemon/core/url.h"
#include "daemon/fetch/fetch.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"
#include "daemon/parse/parse.h"

namespace newsmon::app {
namespace {

bool IsUrl(std::string_view target) {
  return target.starts_with("http://") || target.starts_with("https://");
}

// Reads a whole file; nullopt with `*error` set when it cannot be read.
std::optional<std::string> ReadFile(const std::string& path, std::string* error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *error = "is a directory, not a file";
    return std::nullopt;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = "cannot open: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (file.bad()) {
    *error = "cannot read: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  return std::move(bytes).str();
}

nlohmann::ordered_json ItemJson(const core::Item& item, const std::vector<core::Match>& matches) {
  auto optional = [](const std::optional<std::string>& value) {
    return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
  };
  nlohmann::ordered_json out;
  out["id"] = item.id;
  out["title"] = item.title;
  out["link"] = optional(item.link);
  out["published"] = item.published ? nlohmann::ordered_json(core::FormatRfc3339(*item.published))
                                    : nlohmann::ordered_json(nullptr);
  out["summary"] = optional(item.summary);
  out["author"] = optional(item.author);
  out["categories"] = item.categories;
  out["matches"] = nlohmann::ordered_json::array();
  for (const auto& m : matches) {
    out["matches"].push_back({{"rule", m.rule},
                              {"field", core::NameOf<core::Field>(core::kFieldNames, m.field)},
                              {"span", {m.begin, m.end}}});
  }
  return out;
}

// `rules` may be null (a bare file: no config, no rules).
void PrintItems(const core::Feed& feed, const std::string& charset, const rules::RuleSet* rules,
                std::string_view source, bool json, std::ostream& out) {
  auto match = [&](const core::Item& item) {
    return rules ? rules->Match(item, source) : std::vector<core::Match>();
  };
  if (json) {
    for (const auto& item : feed.items) out << ItemJson(item, match(item)).dump() << '\n';
    return;
  }
  out << (feed.title.empty() ? "(untitled)" : feed.title) << " — "
      << core::NameOf<core::SourceKind>(core::kSourceKindNames, feed.format) << ", "
      << feed.items.size() << (feed.items.size() == 1 ? " item" : " items") << ", " << charset
      << '\n';
  for (const auto& item : feed.items) {
    out << '\n'
        << (item.published ? core::FormatRfc3339(*item.published) : std::string(20, ' ')) << "  "
        << item.title << '\n';
    if (item.link) out << std::string(22, ' ') << *item.link << '\n';
    auto matches = match(item);
    if (!matches.empty()) {
      out << std::string(22, ' ') << "matches:";
      for (std::size_t i = 0; i < matches.size(); ++i) {
        out << (i == 0 ? " " : ", ") << matches[i].rule;
      }
      out << '\n';
    }
  }
}

struct Job {
  std::string label;  // what errors name: the file, or the source and its file
  std::string path;   // read this file; empty = fetch `source` over the network
  core::Source source;
  parse::Options options;
};

// One poll of `source` over the network, as the daemon would make it.
fetch::FetchResult FetchOnce(const core::Source& source) {
  boost::asio::io_context io;
  auto resolver = net::MakeResolver(io.get_executor());
  net::HttpClient client(io.get_executor(), *resolver);
  core::SystemClock clock;
  fetch::FetchResult result;
  std::exception_ptr failure;
  // The resolver keeps sockets open, so the loop stops when the poll ends, not when idle.
  boost::asio::co_spawn(io, fetch::FetchSource(client, source, core::SourceState{}, clock),
                        [&](std::exception_ptr e, fetch::FetchResult r) {
                          failure = e;
                          result = std::move(r);
                          io.stop();
                        });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return result;
}

}  // namespace

int Fetch(const FetchRequest& request, std::ostream& out, std::ostream& err) {
  Job job;
  config::Config config;  // owns the selectors job.options points at
  std::shared_ptr<const rules::RuleSet> rules;
  if (!request.config_file) {
    if (request.kind == core::SourceKind::kHtml) {
      err << "newsmon fetch: an HTML page needs its selectors: describe it as a source in a "
             "config and run 'newsmon fetch --config FILE SOURCE --input PATH'\n";
      return kExitUsage;
    }
    if (IsUrl(request.target)) {
      if (auto problem = core::HttpUrlProblem(request.target)) {
        err << "newsmon fetch: " << request.target << ": " << *problem << '\n';
        return kExitUsage;
      }
      job.label = request.target;
      job.source.name = "fetch";
      job.source.url = request.target;
      job.source.allow_private_networks.all_private = request.allow_private_networks;
    } else {
      job = {.label = request.target, .path = request.target};
    }
    job.options = {.kind = request.kind};
  } else {
    auto loaded = config::LoadConfig(*request.config_file, config::ProcessEnvironment());
    if (!loaded.ok()) {
      for (const auto& d : loaded.diagnostics) err << core::Format(d) << '\n';
      return kExitUsage;
    }
    config = std::move(loaded.config);
    rules = BuildRules(config, loaded.diagnostics);
    if (!rules) {
      for (const auto& d : loaded.diagnostics) err << core::Format(d) << '\n';
      return kExitUsage;
    }
    const core::Source* source = nullptr;
    std::vector<std::string_view> names;
    for (const auto& s : config.sources) {
      names.push_back(s.name);
      if (s.name == request.target) source = &s;
    }
    if (source == nullptr) {
      err << "newsmon fetch: " << *request.config_file << ": no source named '" << request.target
          << "'";
      if (auto close = config::ClosestName(request.target, names)) {
        err << "; did you mean '" << *close << "'?";
      }
      err << '\n';
      return kExitUsage;
    }
    job = {.label = request.input ? source->name + " (" + *request.input + ")" : source->name,
           .path = request.input.value_or(""),
           .source = *source,
           .options = {.kind = source->kind,
                       .url = source->url,
                       .html = source->html ? &*source->html : nullptr,
                       .source_name = source->name}};
    job.options.limits.max_bytes = source->max_body;
  }

  std::string body;
  std::string url;
  std::string content_type;
  if (job.path.empty()) {
    auto fetched = FetchOnce(job.source);
    if (fetched.outcome != core::PollOutcome::kOk) {
      // The error names the URL; a bare URL is its own label.
      err << "newsmon fetch: " << (job.label == job.source.url ? "" : job.label + ": ")
          << core::NameOf<core::PollOutcome>(core::kPollOutcomeNames, fetched.outcome) << ": "
          << fetched.error << '\n';
      return kExitFailure;
    }
    body = std::move(fetched.body);
    url = std::move(fetched.url);
    content_type = std::move(fetched.content_type);
    job.options.url = url;
    job.options.content_type = content_type;
  } else {
    std::string error;
    auto read = ReadFile(job.path, &error);
    if (!read) {
      err << "newsmon fetch: " << job.path << ": " << error << '\n';
      return kExitFailure;
    }
    body = std::move(*read);
  }
  parse::Result result = parse::Parse(std::move(body), job.options);
  for (const auto& warning : result.warnings) {
    err << "newsmon fetch: " << job.label << ": warning: " << warning << '\n';
  }
  if (!result.ok()) {
    err << "newsmon fetch: " << job.label << ": " << result.error << '\n';
    return kExitFailure;
  }
  PrintItems(*result.feed, result.charset, rules.get(), job.options.source_name, request.json, out);
  return kExitOk;
}

}  // namespace newsmon::app
