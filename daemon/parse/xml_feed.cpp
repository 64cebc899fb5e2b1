// RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 1.0/0.3 through pugixml.
//
// pugixml runs without entity decoding (no parse_escapes): it would stop a field at the
// NUL of "&#0;" and emit invalid UTF-8 for "&#xD800;". Text is decoded by parse instead,
// with the same safety as the rest of it (AppendXmlDecoded, CleanXmlText), and CDATA stays
// verbatim. A field of one run of character data is cleaned straight from the document:
// its XML references and any escaped HTML are read in the same pass.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/url.h"
#include "daemon/parse/context.h"

namespace newsmon::parse {
namespace {

enum class Ns { kNone, kAtom, kContent, kDc, kMedia, kRdf, kOther };

Ns NsFromUri(std::string_view uri) {
  if (uri == "http://www.w3.org/2005/Atom" || uri == "http://purl.org/atom/ns#") return Ns::kAtom;
  if (uri == "http://purl.org/rss/1.0/modules/content/") return Ns::kContent;
  if (uri == "http://purl.org/dc/elements/1.1/" || uri == "http://purl.org/dc/terms/") {
    return Ns::kDc;
  }
  if (uri.starts_with("http://search.yahoo.com/mrss")) return Ns::kMedia;
  if (uri == "http://www.w3.org/1999/02/22-rdf-syntax-ns#") return Ns::kRdf;
  // RSS 1.0, RSS 0.90 and the rarely seen RSS 2.0 namespace name the core RSS elements.
  if (uri == "http://purl.org/rss/1.0/" || uri == "http://my.netscape.com/rdf/simple/0.9/" ||
      uri == "http://backend.userland.com/rss2" || uri.empty()) {
    return Ns::kNone;
  }
  return Ns::kOther;
}

// Feeds use these prefixes without declaring them often enough to honour the convention.
Ns NsFromConventionalPrefix(std::string_view prefix) {
  if (prefix == "atom" || prefix == "a10") return Ns::kAtom;
  if (prefix == "content") return Ns::kContent;
  if (prefix == "dc" || prefix == "dcterms") return Ns::kDc;
  if (prefix == "media") return Ns::kMedia;
  if (prefix == "rdf") return Ns::kRdf;
  return Ns::kOther;
}

// An element's local name and the namespace its prefix (or none) stands for.
struct QualifiedName {
  Ns ns;
  std::string_view local;
};

// Namespace prefixes declared on the root and channel elements (where feeds declare them).
class Namespaces {
 public:
  void Declare(pugi::xml_node node) {
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (name == "xmlns") {
        default_ = NsFromUri(a.value());
      } else if (name.starts_with("xmlns:")) {
        prefixes_.emplace_back(std::string(name.substr(6)), NsFromUri(a.value()));
      }
    }
  }

  // The namespace and local name of an element, from one pass over its name: the readers
  // ask for every child of every item.
  QualifiedName Resolve(pugi::xml_node node) const {
    const char* const name = node.name();
    // glibc's strchrnul reads the name a vector at a time: a loop per character costs
    // more on every child of every item.
    const char* const p = strchrnul(name, ':');
    if (*p == '\0') {
      const std::string_view local(name, static_cast<std::size_t>(p - name));
      // An element may carry its own default namespace (<link xmlns="…Atom" …/> in RSS).
      if (node.first_attribute()) {
        if (auto own = node.attribute("xmlns")) return {NsFromUri(own.value()), local};
      }
      return {default_, local};
    }
    const std::string_view prefix(name, static_cast<std::size_t>(p - name));
    return {OfPrefix(prefix), std::string_view(p + 1)};
  }

  static std::string_view Local(pugi::xml_node node) {
    std::string_view name = node.name();
    auto colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
  }

 private:
  Ns OfPrefix(std::string_view prefix) const {
    for (auto it = prefixes_.rbegin(); it != prefixes_.rend(); ++it) {
      if (it->first == prefix) return it->second;
    }
    return NsFromConventionalPrefix(prefix);
  }

  std::vector<std::pair<std::string, Ns>> prefixes_;
  Ns default_ = Ns::kNone;
};

// The element children of a node, in document order. pugixml's accessors are calls into
// the library: the range-for over children() makes four per child (compare, dereference,
// type, increment), this two (type, next sibling), for every child of every item.
class Elements {
 public:
  explicit Elements(pugi::xml_node parent) : first_(parent.first_child()) {}

  class Iterator {
   public:
    explicit Iterator(pugi::xml_node node) : node_(node) { SkipToElement(); }
    pugi::xml_node operator*() const { return node_; }
    Iterator& operator++() {
      node_ = node_.next_sibling();
      SkipToElement();
      return *this;
    }
    bool operator!=(std::default_sentinel_t) const { return !done_; }

   private:
    void SkipToElement() {
      for (;; node_ = node_.next_sibling()) {
        const pugi::xml_node_type type = node_.type();
        if (type == pugi::node_element) return;
        if (type == pugi::node_null) {
          done_ = true;
          return;
        }
      }
    }

    pugi::xml_node node_;
    bool done_ = false;
  };

  Iterator begin() const { return Iterator(first_); }
  std::default_sentinel_t end() const { return {}; }

 private:
  pugi::xml_node first_;
};

// Elements of inline XHTML (Atom type="xhtml", or markup left unescaped in a description)
// whose edges separate words.
bool IsBlockElement(pugi::xml_node node) {
  static constexpr std::string_view kBlocks[] = {
      "address", "article",    "aside",  "blockquote", "br", "dd", "div", "dl",
      "dt",      "figcaption", "figure", "footer",     "h1", "h2", "h3",  "h4",
      "h5",      "h6",         "header", "hr",         "li", "ol", "p",   "pre",
      "section", "table",      "td",     "th",         "tr", "ul"};
  std::string_view local = Namespaces::Local(node);
  for (std::string_view block : kBlocks) {
    if (local == block) return true;
  }
  return false;
}

// The text of an element's subtree: character data decoded, CDATA verbatim, child elements
// contribute their text, block elements a space at each edge. Points into `scratch` or the
// document. `escaped` tells the commonest case, one run of character data, which is
// returned as it stands in the document, its XML references still to be decoded
// (CleanXmlText reads it so without a decoded copy). `depth` is how deep the subtree's
// elements nest below `node` (0 without child elements).
//
// The document is parsed with parse_embed_pcdata: character data that comes first in an
// element is the element's own value, not a child node of its own.
std::string_view ElementText(pugi::xml_node node, std::string& scratch, bool& escaped, int& depth) {
  escaped = false;
  depth = 0;
  const char* const own = node.value();
  pugi::xml_node first = node.first_child();
  if (!first) {
    escaped = *own != '\0';
    return own;
  }
  if (*own == '\0' && first.type() == pugi::node_cdata && !first.next_sibling()) {
    return first.value();
  }
  scratch.clear();
  AppendXmlDecoded(scratch, own);
  // Iterative walk: nesting depth is the document's to choose.
  pugi::xml_node cur = first;
  int level = 1;
  while (cur && cur != node) {
    if (cur.type() == pugi::node_pcdata) {
      AppendXmlDecoded(scratch, cur.value());
    } else if (cur.type() == pugi::node_cdata) {
      scratch += cur.value();
    } else if (cur.type() == pugi::node_element) {
      depth = std::max(depth, level);
      if (IsBlockElement(cur)) scratch += ' ';
      AppendXmlDecoded(scratch, cur.value());
    }
    if (cur.first_child()) {
      cur = cur.first_child();
      ++level;
      continue;
    }
    while (cur != node && !cur.next_sibling()) {
      cur = cur.parent();
      --level;
      if (cur != node && IsBlockElement(cur)) scratch += ' ';
    }
    if (cur != node) {
      if (IsBlockElement(cur)) scratch += ' ';
      cur = cur.next_sibling();
    }
  }
  return scratch;
}

// Whether an element has content: text or child nodes.
bool HasContent(pugi::xml_node node) { return *node.value() != '\0' || node.first_child(); }

// Thrown when the text read from an element nests deeper than limits.max_depth; ReadXmlFeed
// turns it into the document's error.
struct TooDeep {};

void CheckDepth(int depth, const Context& ctx) {
  if (depth > ctx.options().limits.max_depth) throw TooDeep{};
}

// ElementText with the references decoded, for text that is read as it is (links, numbers).
std::string_view RawText(pugi::xml_node node, std::string& scratch, const Context& ctx) {
  bool escaped;
  int depth;
  std::string_view text = ElementText(node, scratch, escaped, depth);
  CheckDepth(depth, ctx);
  if (!escaped || text.find('&') == std::string_view::npos) return text;
  scratch.clear();
  AppendXmlDecoded(scratch, text);
  return scratch;
}

// The clean text of an element (see CleanText).
std::string CleanElementText(pugi::xml_node node, std::string& scratch, TextKind kind,
                             const Context& ctx) {
  bool escaped;
  int depth;
  std::string_view text = ElementText(node, scratch, escaped, depth);
  CheckDepth(depth, ctx);
  return escaped ? ctx.XmlText(text, kind) : ctx.Text(text, kind);
}

std::string AttributeText(pugi::xml_node node, const char* name) {
  std::string out;
  AppendXmlDecoded(out, node.attribute(name).value());
  return out;
}

// One field's text, kept until the item is finished.
struct Field {
  std::string_view text;  // see ElementText
  std::string storage;
  bool escaped = false;  // `text` is character data with its XML references undecoded
  bool present = false;
  int depth = 0;  // of the elements inside, as ElementText tells it

  void Set(pugi::xml_node node) {
    text = ElementText(node, storage, escaped, depth);
    present = true;
  }
  // The text with its references decoded, for fields read as they are (links, dates).
  std::string_view Decoded() {
    if (escaped && text.find('&') != std::string_view::npos) {
      storage.clear();
      AppendXmlDecoded(storage, text);  // `text` is in the document, not in `storage`
      text = storage;
    }
    escaped = false;
    return text;
  }
  std::string Clean(TextKind kind, const Context& ctx) const {
    return escaped ? ctx.XmlText(text, kind) : ctx.Text(text, kind);
  }
  std::optional<std::string> OptionalClean(TextKind kind, const Context& ctx) const {
    std::string clean = Clean(kind, ctx);
    if (clean.empty()) return std::nullopt;
    return clean;
  }
  // The value of `node`'s attribute `name`, its XML references undecoded.
  void SetAttribute(pugi::xml_node node, const char* name) {
    text = node.attribute(name).value();
    escaped = true;
    present = true;
    depth = 0;
  }
  void SetIfAbsent(pugi::xml_node node) {
    if (!present || text.empty()) Set(node);
  }
  void Reset() {
    text = {};
    escaped = false;
    present = false;
    depth = 0;
  }
};

// Atom text constructs say how to read them: text, html or xhtml (Atom 0.3: mode=escaped
// and a MIME type).
TextKind AtomTextKind(pugi::xml_node node) {
  std::string_view type = node.attribute("type").value();
  if (type == "html" || type == "xhtml" || type == "text/html" || type == "application/xhtml+xml") {
    return TextKind::kHtml;
  }
  if (std::string_view(node.attribute("mode").value()) == "escaped") return TextKind::kHtml;
  return TextKind::kPlain;
}

std::string_view RelOf(pugi::xml_node link) {
  std::string_view rel = link.attribute("rel").value();
  return rel.empty() ? "alternate" : rel;
}

// How well an alternate link names a web page: text/html (or no type) beats other types.
int AlternateRank(pugi::xml_node link) {
  std::string_view type = link.attribute("type").value();
  return type.empty() || type == "text/html" || type == "application/xhtml+xml" ? 2 : 1;
}

// Feed-level atom:link elements (in RSS and Atom alike). `alternate_rank` is the rank of the
// alternate link taken so far (0 = none).
void ReadFeedLink(pugi::xml_node link, std::string_view base, int& alternate_rank, Context& ctx) {
  std::string href = AttributeText(link, "href");
  std::string_view rel = RelOf(link);
  auto& feed = ctx.feed();
  if (rel == "self") {
    if (!feed.self_link) feed.self_link = ctx.Link(href, base);
  } else if (rel == "hub") {
    if (!feed.hub_link) feed.hub_link = ctx.Link(href, base);
  } else if (rel == "alternate" && AlternateRank(link) > alternate_rank) {
    if (auto resolved = ctx.Link(href, base)) {
      feed.link = std::move(resolved);
      alternate_rank = AlternateRank(link);
    }
  }
}

// The base URL in effect inside `node`: `parent_base`, or its own xml:base resolved
// against that, kept in `storage`.
std::string_view XmlBase(pugi::xml_node node, std::string_view parent_base, std::string& storage) {
  std::string_view own = node.attribute("xml:base").value();
  if (own.empty()) return parent_base;
  std::string decoded;
  AppendXmlDecoded(decoded, own);
  auto resolved = core::ResolveUrl(parent_base, decoded);
  storage = resolved ? std::move(*resolved) : std::move(decoded);
  return storage;
}

struct ItemFields {
  Field title, media_title, dc_title;
  Field link, guid;
  Field atom_link;  // rel=alternate href, as the attribute has it
  Field pub_date, dc_date, updated;
  Field description, content, media_description;
  TextKind title_kind = TextKind::kHtml, summary_kind = TextKind::kHtml,
           content_kind = TextKind::kHtml;
  Field author, dc_creator;
  bool guid_is_permalink = true;
  std::vector<std::string> categories;

  // Every field, for Reset and CheckDepth.
  static constexpr Field ItemFields::*kAll[] = {
      &ItemFields::title,       &ItemFields::media_title, &ItemFields::dc_title,
      &ItemFields::link,        &ItemFields::guid,        &ItemFields::atom_link,
      &ItemFields::pub_date,    &ItemFields::dc_date,     &ItemFields::updated,
      &ItemFields::description, &ItemFields::content,     &ItemFields::media_description,
      &ItemFields::author,      &ItemFields::dc_creator};

  void Reset() {
    for (auto field : kAll) (this->*field).Reset();
    title_kind = summary_kind = content_kind = TextKind::kHtml;
    guid_is_permalink = true;
    categories.clear();
  }

  // Every field read: the item's text nests no deeper than the limit.
  void CheckDepth(const Context& ctx) {
    for (auto field : kAll) parse::CheckDepth((this->*field).depth, ctx);
  }
};

void AddCategory(std::vector<std::string>& categories, std::string text) {
  if (text.empty()) return;
  for (const auto& c : categories) {
    if (c == text) return;
  }
  // Items carry one to three categories: room for two at once saves growing from one,
  // at most one string's worth of slack.
  if (categories.capacity() == 0) categories.reserve(2);
  categories.push_back(std::move(text));
}

void ReadMediaGroup(pugi::xml_node group, const Namespaces& ns, ItemFields& f) {
  for (pugi::xml_node child : Elements(group)) {
    const auto [space, local] = ns.Resolve(child);
    if (space != Ns::kMedia) continue;
    if (local == "title") f.media_title.SetIfAbsent(child);
    if (local == "description") f.media_description.SetIfAbsent(child);
  }
}

// RSS 0.9x/2.0 <item> and RSS 1.0 <item>.
bool ReadRssItem(pugi::xml_node item, const Namespaces& ns, ItemFields& f, Context& ctx) {
  f.Reset();
  std::string scratch;
  for (pugi::xml_node child : Elements(item)) {
    const auto [space, local] = ns.Resolve(child);
    switch (space) {
      case Ns::kNone:
        if (local == "title") {
          f.title.SetIfAbsent(child);
        } else if (local == "link") {
          // <link href="…"/> without text is an Atom link in the default namespace.
          if (HasContent(child)) {
            f.link.SetIfAbsent(child);
          } else if (f.atom_link.text.empty() && RelOf(child) == "alternate") {
            f.atom_link.SetAttribute(child, "href");
          }
        } else if (local == "guid") {
          f.guid.SetIfAbsent(child);
          std::string_view permalink = child.attribute("isPermaLink").value();
          f.guid_is_permalink = permalink != "false" && permalink != "False";
        } else if (local == "pubDate") {
          f.pub_date.SetIfAbsent(child);
        } else if (local == "description") {
          f.description.SetIfAbsent(child);
        } else if (local == "author") {
          f.author.SetIfAbsent(child);
        } else if (local == "category") {
          AddCategory(f.categories, CleanElementText(child, scratch, TextKind::kHtml, ctx));
        }
        break;
      case Ns::kDc:
        if (local == "date") f.dc_date.SetIfAbsent(child);
        if (local == "creator") f.dc_creator.SetIfAbsent(child);
        if (local == "title") f.dc_title.SetIfAbsent(child);
        if (local == "subject") {
          AddCategory(f.categories, CleanElementText(child, scratch, TextKind::kHtml, ctx));
        }
        break;
      case Ns::kContent:
        if (local == "encoded") f.content.SetIfAbsent(child);
        break;
      case Ns::kMedia:
        if (local == "title") f.media_title.SetIfAbsent(child);
        if (local == "description") f.media_description.SetIfAbsent(child);
        if (local == "group") ReadMediaGroup(child, ns, f);
        break;
      case Ns::kAtom:
        if (local == "link" && f.atom_link.text.empty() && RelOf(child) == "alternate") {
          f.atom_link.SetAttribute(child, "href");
        } else if (local == "updated" || local == "published") {
          f.updated.SetIfAbsent(child);
        }
        break;
      default:
        break;
    }
  }

  f.CheckDepth(ctx);
  core::Item* const added = ctx.NewItem();
  if (added == nullptr) return false;
  core::Item& out = *added;
  const Field& title = f.title.present ? f.title : f.dc_title.present ? f.dc_title : f.media_title;
  out.title = title.Clean(TextKind::kHtml, ctx);
  if (out.title.empty() && f.media_title.present) {
    out.title = f.media_title.Clean(TextKind::kHtml, ctx);
  }
  out.link = ctx.Link(f.link.Decoded());
  if (!out.link && !f.atom_link.text.empty()) out.link = ctx.Link(f.atom_link.Decoded());
  std::string guid = f.guid.Clean(TextKind::kPlain, ctx);
  if (!out.link && f.guid_is_permalink && !guid.empty()) out.link = ctx.Link(guid);
  // RSS 1.0 names each item by its rdf:about URI.
  if (guid.empty()) guid = ctx.Text(item.attribute("rdf:about").value(), TextKind::kPlain);
  out.id = std::move(guid);

  Field& date = f.pub_date.present ? f.pub_date : f.dc_date.present ? f.dc_date : f.updated;
  if (date.present) out.published = ctx.Date(date.Decoded(), out.title);
  const Field& summary = !f.description.text.empty() ? f.description
                         : !f.content.text.empty()   ? f.content
                                                     : f.media_description;
  out.summary = summary.OptionalClean(TextKind::kHtml, ctx);
  const Field& author = f.dc_creator.present ? f.dc_creator : f.author;
  out.author = author.OptionalClean(TextKind::kHtml, ctx);
  out.categories = std::move(f.categories);
  f.categories = {};
  ctx.FinishItem();
  return true;
}

void ReadRssChannel(pugi::xml_node channel, const Namespaces& ns, Context& ctx) {
  auto& feed = ctx.feed();
  std::string scratch;
  int alternate_rank = 0;  // the channel's own <link> outranks any atom:link
  for (pugi::xml_node child : Elements(channel)) {
    const auto [space, local] = ns.Resolve(child);
    if (space == Ns::kNone && local == "title" && feed.title.empty()) {
      feed.title = CleanElementText(child, scratch, TextKind::kHtml, ctx);
    } else if (space == Ns::kNone && local == "link") {
      if (HasContent(child)) {
        if (alternate_rank < 3) {
          feed.link = ctx.Link(RawText(child, scratch, ctx));
          if (feed.link) alternate_rank = 3;
        }
      } else {
        ReadFeedLink(child, {}, alternate_rank, ctx);
      }
    } else if (space == Ns::kAtom && local == "link") {
      ReadFeedLink(child, {}, alternate_rank, ctx);
    } else if (space == Ns::kNone && local == "ttl") {
      std::string text = ctx.Text(RawText(child, scratch, ctx), TextKind::kPlain);
      unsigned minutes = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), minutes);
      if (ec == std::errc() && end == text.data() + text.size() && minutes > 0) {
        feed.ttl = std::chrono::minutes(minutes);
      } else {
        ctx.Warn("channel ttl '" + text + "' is not a number of minutes");
      }
    }
  }
}

// <rss><channel>…<item>…</item></channel></rss>, and RSS 1.0/0.90 where items are siblings
// of the channel under <rdf:RDF>.
void ReadRss(pugi::xml_node root, Namespaces& ns, Context& ctx) {
  ItemFields fields;
  auto read_items = [&](pugi::xml_node parent) {
    for (pugi::xml_node child : Elements(parent)) {
      const auto [space, local] = ns.Resolve(child);
      if (space == Ns::kNone && local == "item" && !ReadRssItem(child, ns, fields, ctx)) {
        return false;
      }
    }
    return true;
  };
  for (pugi::xml_node child : Elements(root)) {
    const auto [space, local] = ns.Resolve(child);
    if (space != Ns::kNone) continue;
    if (local == "channel") {
      ns.Declare(child);
      ReadRssChannel(child, ns, ctx);
      if (!read_items(child)) return;
    }
  }
  read_items(root);
}

// Atom <entry>. `base` is the feed's xml:base (or the source URL).
bool ReadAtomEntry(pugi::xml_node entry, const Namespaces& ns, std::string_view feed_base,
                   const std::optional<std::string>& feed_author, ItemFields& f, Context& ctx) {
  f.Reset();
  std::string base_storage, link_base_storage;
  const std::string_view base = XmlBase(entry, feed_base, base_storage);
  std::string_view link_base = base;
  std::string scratch;
  std::string author_name, author_email;
  int alternate_rank = 0;  // prefer rel=alternate type=text/html, then any alternate
  for (pugi::xml_node child : Elements(entry)) {
    const auto [space, local] = ns.Resolve(child);
    if (space == Ns::kAtom) {
      if (local == "title") {
        f.title.SetIfAbsent(child);
        f.title_kind = AtomTextKind(child);
      } else if (local == "link" && RelOf(child) == "alternate") {
        int rank = AlternateRank(child);
        if (rank > alternate_rank) {
          alternate_rank = rank;
          f.atom_link.SetAttribute(child, "href");
          link_base = XmlBase(child, base, link_base_storage);
        }
      } else if (local == "id") {
        f.guid.SetIfAbsent(child);
      } else if (local == "published" || local == "issued" || local == "created") {
        f.pub_date.SetIfAbsent(child);
      } else if (local == "updated" || local == "modified") {
        f.updated.SetIfAbsent(child);
      } else if (local == "summary") {
        f.description.SetIfAbsent(child);
        f.summary_kind = AtomTextKind(child);
      } else if (local == "content") {
        f.content.SetIfAbsent(child);
        f.content_kind = AtomTextKind(child);
      } else if (local == "author" && author_name.empty()) {
        for (pugi::xml_node part : Elements(child)) {
          std::string_view part_name = Namespaces::Local(part);
          if (part_name == "name") {
            author_name = CleanElementText(part, scratch, TextKind::kPlain, ctx);
          }
          if (part_name == "email") {
            author_email = CleanElementText(part, scratch, TextKind::kPlain, ctx);
          }
        }
      } else if (local == "category") {
        const char* term = child.attribute("term").value();
        if (*term == '\0') term = child.attribute("label").value();
        AddCategory(f.categories, ctx.XmlText(term, TextKind::kPlain));
      }
    } else if (space == Ns::kMedia) {
      if (local == "title") f.media_title.SetIfAbsent(child);
      if (local == "description") f.media_description.SetIfAbsent(child);
      if (local == "group") ReadMediaGroup(child, ns, f);
    } else if (space == Ns::kDc) {
      if (local == "date") f.dc_date.SetIfAbsent(child);
      if (local == "creator") f.dc_creator.SetIfAbsent(child);
    }
  }

  f.CheckDepth(ctx);
  core::Item* const added = ctx.NewItem();
  if (added == nullptr) return false;
  core::Item& out = *added;
  out.title = f.title.Clean(f.title_kind, ctx);
  if (out.title.empty() && f.media_title.present) {
    out.title = f.media_title.Clean(TextKind::kHtml, ctx);
  }
  out.link = ctx.Link(f.atom_link.Decoded(), link_base);
  out.id = f.guid.Clean(TextKind::kPlain, ctx);
  Field& date = f.pub_date.present ? f.pub_date : f.updated.present ? f.updated : f.dc_date;
  if (date.present) out.published = ctx.Date(date.Decoded(), out.title);
  if (!f.description.text.empty()) {
    out.summary = f.description.OptionalClean(f.summary_kind, ctx);
  } else if (!f.content.text.empty()) {
    out.summary = f.content.OptionalClean(f.content_kind, ctx);
  } else {
    out.summary = f.media_description.OptionalClean(TextKind::kPlain, ctx);
  }
  if (!author_name.empty()) {
    out.author = std::move(author_name);
  } else if (!author_email.empty()) {
    out.author = std::move(author_email);
  } else if (f.dc_creator.present) {
    out.author = f.dc_creator.OptionalClean(TextKind::kPlain, ctx);
  } else {
    out.author = feed_author;
  }
  out.categories = std::move(f.categories);
  f.categories = {};
  ctx.FinishItem();
  return true;
}

void ReadAtom(pugi::xml_node root, const Namespaces& ns, Context& ctx) {
  std::string base_storage, link_base_storage;
  const std::string_view base = XmlBase(root, ctx.options().url, base_storage);
  auto& feed = ctx.feed();
  std::string scratch;
  int alternate_rank = 0;
  std::optional<std::string> feed_author;
  for (pugi::xml_node child : Elements(root)) {
    const auto [space, local] = ns.Resolve(child);
    if (space != Ns::kAtom) continue;
    if (local == "title" && feed.title.empty()) {
      feed.title = CleanElementText(child, scratch, AtomTextKind(child), ctx);
    } else if (local == "link") {
      ReadFeedLink(child, XmlBase(child, base, link_base_storage), alternate_rank, ctx);
    } else if (local == "author" && !feed_author) {
      for (pugi::xml_node part : Elements(child)) {
        if (Namespaces::Local(part) == "name") {
          feed_author = ctx.OptionalText(RawText(part, scratch, ctx), TextKind::kPlain);
        }
      }
    }
  }
  ItemFields fields;
  for (pugi::xml_node child : Elements(root)) {
    const auto [space, local] = ns.Resolve(child);
    if (space == Ns::kAtom && local == "entry" &&
        !ReadAtomEntry(child, ns, base, feed_author, fields, ctx)) {
      return;
    }
  }
}

// After a parse error pugixml keeps the elements that were still open at the error, on the
// path of last children. An item among them is cut short: reading it would alert on a
// truncated title now and again, under another id, once the feed is whole. It is renamed
// to a name no reader looks for (and no XML element can have): removing it would free its
// subtree recursively, as deep as the document nests.
void DropUnfinishedItem(pugi::xml_node root) {
  for (pugi::xml_node cur = root; cur; cur = cur.last_child()) {
    std::string_view local = Namespaces::Local(cur);
    if (cur.type() == pugi::node_element && (local == "item" || local == "entry")) {
      cur.set_name(" unfinished");
      return;
    }
  }
}

}  // namespace

std::string ReadXmlFeed(std::string& utf8, Context& ctx) {
  // A raw NUL would end pugixml's view of the text early; XML allows none anyway.
  for (char *p = utf8.data(), *end = p + utf8.size();
       (p = static_cast<char*>(std::memchr(p, '\0', static_cast<std::size_t>(end - p))));) {
    *p = ' ';
  }
  // pugixml builds and frees its tree without recursion, and the readers walk it without
  // recursion too: nesting costs only its bytes. The limit applies to the text read
  // (CheckDepth), so a hostile document cannot make an item out of a pile of tags.
  pugi::xml_document doc;
  constexpr unsigned kOptions =
      pugi::parse_cdata | pugi::parse_eol | pugi::parse_wconv_attribute | pugi::parse_embed_pcdata;
  pugi::xml_parse_result parsed =
      doc.load_buffer_inplace(utf8.data(), utf8.size(), kOptions, pugi::encoding_utf8);
  pugi::xml_node root = doc.document_element();
  std::string_view local = root ? Namespaces::Local(root) : std::string_view{};
  std::string problem;
  if (!parsed) {
    problem = "XML error at byte " + std::to_string(parsed.offset) + ": " + parsed.description();
    DropUnfinishedItem(root);
  }
  Namespaces ns;
  ns.Declare(root);
  if (local == "feed" || local == "rss" || local == "RDF") {
    ctx.ExpectItemsIn(utf8.size());
    try {
      if (local == "feed") {
        ctx.feed().format = core::SourceKind::kAtom;
        ReadAtom(root, ns, ctx);
      } else {
        ctx.feed().format = local == "rss" ? core::SourceKind::kRss : core::SourceKind::kRdf;
        ReadRss(root, ns, ctx);
      }
    } catch (const TooDeep&) {
      return "XML nested deeper than " + std::to_string(ctx.options().limits.max_depth) + " levels";
    }
  } else if (!root) {
    return problem.empty() ? "the document has no root element" : problem;
  } else {
    return problem.empty()
               ? "root element <" + std::string(root.name()) + "> is not rss, rdf:RDF or feed"
               : problem;
  }
  if (!problem.empty()) {
    // pugixml keeps the tree up to the error: keep the items before it, say what was lost.
    if (ctx.feed().items.empty()) return problem;
    ctx.Warn(problem + "; items after it are lost");
  }
  return {};
}

}  // namespace newsmon::parse
