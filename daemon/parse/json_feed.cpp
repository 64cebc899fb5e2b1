// JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) through nlohmann-json.
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/parse/context.h"

namespace newsmon::parse {
namespace {

using nlohmann::json;

// Thrown from the parser callback to stop at the nesting limit.
struct TooDeep {};

std::string_view StringAt(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

// JSON Feed 1.0 allowed numeric ids; keep them as text.
std::string IdOf(const json& item) {
  auto it = item.find("id");
  if (it == item.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  return {};
}

// 1.1 has "authors" (a list); 1.0 had "author".
std::optional<std::string> AuthorOf(const json& object, Context& ctx) {
  const json* author = nullptr;
  if (auto it = object.find("authors"); it != object.end() && it->is_array() && !it->empty()) {
    author = &it->front();
  } else if (auto one = object.find("author"); one != object.end()) {
    author = &*one;
  }
  if (!author || !author->is_object()) return std::nullopt;
  return ctx.OptionalText(StringAt(*author, "name"), TextKind::kPlain);
}

}  // namespace

std::string ReadJsonFeed(const std::string& utf8, Context& ctx) {
  const int max_depth = ctx.options().limits.max_depth;
  json doc;
  try {
    doc = json::parse(utf8, [max_depth](int depth, json::parse_event_t, json&) {
      if (depth > max_depth) throw TooDeep{};
      return true;
    });
  } catch (const json::parse_error& e) {
    return "JSON error at byte " + std::to_string(e.byte) + ": " +
           std::string(e.what()).substr(std::string(e.what()).find(':') + 2);
  } catch (const TooDeep&) {
    return "JSON nested deeper than " + std::to_string(max_depth) + " levels";
  } catch (const json::exception& e) {
    // out_of_range on a number past double (1e400), and whatever else the parser rejects.
    return std::string("JSON error: ") + e.what();
  }
  if (!doc.is_object()) return "not a JSON Feed: the top level is not an object";
  std::string_view version = StringAt(doc, "version");
  if (!version.starts_with("https://jsonfeed.org/version/")) {
    return "not a JSON Feed: \"version\" is not a https://jsonfeed.org/version/ URL";
  }
  auto& feed = ctx.feed();
  feed.format = core::SourceKind::kJson;
  feed.title = ctx.Text(StringAt(doc, "title"), TextKind::kPlain);
  feed.link = ctx.Link(StringAt(doc, "home_page_url"));
  feed.self_link = ctx.Link(StringAt(doc, "feed_url"));
  if (auto hubs = doc.find("hubs"); hubs != doc.end() && hubs->is_array()) {
    for (const json& hub : *hubs) {
      if (hub.is_object() && !feed.hub_link) feed.hub_link = ctx.Link(StringAt(hub, "url"));
    }
  }
  auto feed_author = AuthorOf(doc, ctx);
  auto items = doc.find("items");
  if (items == doc.end() || !items->is_array()) return "not a JSON Feed: no \"items\" list";
  std::size_t index = 0;
  for (const json& entry : *items) {
    ++index;
    if (!entry.is_object()) {
      ctx.Warn("item " + std::to_string(index) + " is not an object");
      continue;
    }
    core::Item* const added = ctx.NewItem();
    if (added == nullptr) break;
    core::Item& item = *added;
    item.id = IdOf(entry);
    item.title = ctx.Text(StringAt(entry, "title"), TextKind::kPlain);
    item.link = ctx.Link(StringAt(entry, "url"));
    if (!item.link) item.link = ctx.Link(StringAt(entry, "external_url"));
    std::string_view date = StringAt(entry, "date_published");
    if (date.empty()) date = StringAt(entry, "date_modified");
    if (!date.empty()) item.published = ctx.Date(date, item.title);
    item.summary = ctx.OptionalText(StringAt(entry, "summary"), TextKind::kPlain);
    if (!item.summary)
      item.summary = ctx.OptionalText(StringAt(entry, "content_text"), TextKind::kPlain);
    if (!item.summary)
      item.summary = ctx.OptionalText(StringAt(entry, "content_html"), TextKind::kHtml);
    item.author = AuthorOf(entry, ctx);
    if (!item.author) item.author = feed_author;
    if (auto tags = entry.find("tags"); tags != entry.end() && tags->is_array()) {
      for (const json& tag : *tags) {
        if (!tag.is_string()) continue;
        std::string text = ctx.Text(tag.get_ref<const std::string&>(), TextKind::kPlain);
        if (!text.empty() && std::find(item.categories.begin(), item.categories.end(), text) ==
                                 item.categories.end()) {
          item.categories.push_back(std::move(text));
        }
      }
    }
    ctx.FinishItem();
  }
  return {};
}

}  // namespace newsmon::parse
