#include "daemon/parse/html.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <gumbo.h>
#include <pugixml.hpp>

#include "daemon/core/url.h"
#include "daemon/parse/ascii.h"
#include "daemon/parse/css.h"
#include "daemon/parse/date.h"
#include "daemon/parse/text.h"

namespace newsmon::parse {
namespace {

// ---------------------------------------------------------------------------------------
// Pre-scan: gumbo's costs, bounded before gumbo runs
// ---------------------------------------------------------------------------------------

// More attributes than any real tag carries. Gumbo checks each new attribute against all
// earlier ones of its tag (and of all <html>/<body> tags, which it merges): quadratic.
constexpr std::size_t kMaxAttributes = 256;

// Sorted name lists, searched with binary_search: the pre-scan looks up every tag.
template <std::size_t N>
using Names = std::array<std::string_view, N>;

template <std::size_t N>
constexpr bool IsSortedNames(const Names<N>& names) {
  return std::is_sorted(names.begin(), names.end());
}

template <std::size_t N>
bool Contains(const Names<N>& names, std::string_view name) {
  return std::binary_search(names.begin(), names.end(), name);
}

// Elements that never hold children.
constexpr Names<20> kVoidElements = {
    "area",  "base", "basefont", "bgsound", "br",   "col",  "command", "embed",  "frame", "hr",
    "image", "img",  "input",    "keygen",  "link", "meta", "param",   "source", "track", "wbr"};
// Elements the tree holds one of whatever the markup says (html, head, body), or that the
// parser closes by itself when a sibling starts and that cannot nest (option, ruby text).
constexpr Names<10> kUncountedElements = {"body",   "colgroup", "head", "html", "optgroup",
                                          "option", "rb",       "rp",   "rt",   "rtc"};
// Table parts: their start and end tags close whatever is open inside the table.
constexpr Names<7> kTableParts = {"caption", "tbody", "td", "tfoot", "th", "thead", "tr"};
// Elements whose content is text up to their end tag, whatever it looks like.
constexpr Names<8> kRawTextElements = {"iframe", "noembed",  "noframes", "script",
                                       "style",  "textarea", "title",    "xmp"};
// HTML's "special" elements: the parser ignores an end tag for an ordinary element while
// one of these is open inside it.
constexpr Names<56> kSpecialElements = {"address",    "annotation-xml",
                                        "applet",     "article",
                                        "aside",      "blockquote",
                                        "button",     "caption",
                                        "center",     "dd",
                                        "desc",       "details",
                                        "dialog",     "dir",
                                        "div",        "dl",
                                        "dt",         "fieldset",
                                        "figcaption", "figure",
                                        "footer",     "foreignobject",
                                        "form",       "frameset",
                                        "h1",         "h2",
                                        "h3",         "h4",
                                        "h5",         "h6",
                                        "header",     "hgroup",
                                        "li",         "listing",
                                        "main",       "marquee",
                                        "menu",       "mi",
                                        "mn",         "mo",
                                        "ms",         "mtext",
                                        "nav",        "noscript",
                                        "object",     "ol",
                                        "p",          "plaintext",
                                        "pre",        "search",
                                        "section",    "select",
                                        "summary",    "table",
                                        "template",   "ul"};
// Where a search for an element "in scope" stops (html is never on the scan's stack).
constexpr Names<12> kScopeBoundaries = {
    "annotation-xml", "applet", "caption", "foreignobject", "marquee", "mi", "mn", "mo", "ms",
    "mtext",          "object", "table"};
// Start tags that close an open <p> (when it is in button scope).
constexpr Names<31> kClosesParagraph = {
    "address", "article", "aside", "blockquote", "center",   "dd",         "details", "dialog",
    "dir",     "div",     "dl",    "dt",         "fieldset", "figcaption", "figure",  "footer",
    "form",    "h1",      "h2",    "h3",         "h4",       "h5",         "h6",      "header",
    "hgroup",  "li",      "main",  "menu",       "nav",      "ol",         "p"};
// More that close a <p>, kept apart to keep the list above readable.
constexpr Names<5> kClosesParagraphToo = {"pre", "search", "section", "summary", "ul"};
// Formatting elements: the parser remembers them and reopens them (clones) after they
// were closed implicitly, so they can add depth without start tags.
constexpr Names<14> kFormattingElements = {"a",    "b", "big",   "code",   "em",     "font", "i",
                                           "nobr", "s", "small", "strike", "strong", "tt",   "u"};

// Start tags that end SVG and MathML content: the parser closes those elements first.
// (<font> does so only with some attributes; left out, which can only overestimate.)
constexpr Names<44> kBreakoutElements = {
    "b",      "big",  "blockquote", "body",  "br",   "center", "code",    "dd",   "div",
    "dl",     "dt",   "em",         "embed", "h1",   "h2",     "h3",      "h4",   "h5",
    "h6",     "head", "hr",         "i",     "img",  "li",     "listing", "menu", "meta",
    "nobr",   "ol",   "p",          "pre",   "ruby", "s",      "small",   "span", "strike",
    "strong", "sub",  "sup",        "table", "tt",   "u",      "ul",      "var"};
// SVG and MathML elements whose content is HTML again. (MathML's annotation-xml is one only
// with some encodings; left out, which can only overestimate.)
constexpr Names<8> kIntegrationPoints = {"desc", "foreignobject", "mi",   "mn", "mo",
                                         "ms",   "mtext",         "title"};

static_assert(IsSortedNames(kVoidElements));
static_assert(IsSortedNames(kBreakoutElements));
static_assert(IsSortedNames(kIntegrationPoints));
static_assert(IsSortedNames(kUncountedElements));
static_assert(IsSortedNames(kTableParts));
static_assert(IsSortedNames(kRawTextElements));
static_assert(IsSortedNames(kSpecialElements));
static_assert(IsSortedNames(kScopeBoundaries));
static_assert(IsSortedNames(kClosesParagraph));
static_assert(IsSortedNames(kClosesParagraphToo));
static_assert(IsSortedNames(kFormattingElements));

enum class ScanResult { kOk, kTooDeep, kTooManyAttributes };

// A linear pass over the page that estimates how deep gumbo's stack of open elements would
// grow, and stops as soon as that passes `max_depth`. Gumbo's tree construction costs
// time (and with reopened formatting elements, nodes) quadratic in that depth, so this
// runs first.
//
// A count of start tags minus end tags is easy to fool ("<span><div></span></div>"
// repeated nests spans without end: the parser ignores </span> there), so the scan keeps
// its own stack and follows the tree builder's rules that decide depth: which end tags
// close what (special elements, scope boundaries), what a start tag closes (<p>, <li>,
// <dd>/<dt>, table parts), and the list of active formatting elements with its limit of
// three equal entries. Whatever it does not model it counts as open, so it errs towards
// overestimating; the depth cap while copying the tree is the second line of defence.
// It also refuses tags with more than kMaxAttributes attributes.
class PreScanner {
 public:
  PreScanner(std::string_view html, std::size_t max_depth) : html_(html), max_depth_(max_depth) {}

  ScanResult Run() {
    const std::size_t n = html_.size();
    std::size_t i = 0;
    while (true) {
      i = html_.find('<', i);
      if (i == std::string_view::npos || i + 1 >= n) return ScanResult::kOk;
      const char next = html_[i + 1];
      if (next == '!') {
        i = html_.compare(i, 4, "<!--") == 0 ? CommentEnd(i + 4) : SkipPast(i + 2, ">");
        continue;
      }
      if (next == '?') {
        i = SkipPast(i + 2, ">");
        continue;
      }
      const bool end_tag = next == '/';
      const std::size_t name_start = i + (end_tag ? 2 : 1);
      if (name_start >= n || !IsAsciiAlpha(html_[name_start])) {
        // "</>" or "</3": a bogus comment up to '>'; "<3": text.
        i = end_tag ? SkipPast(name_start, ">") : i + 1;
        continue;
      }
      std::size_t j = name_start;
      name_.clear();
      while (j < n && !IsMarkupSpace(html_[j]) && html_[j] != '/' && html_[j] != '>') {
        name_ += AsciiLower(html_[j++]);
      }
      const std::size_t attributes_start = j;
      bool self_closing = false;
      std::size_t attributes = 0;
      i = SkipTag(j, &self_closing, &attributes);
      if (attributes > kMaxAttributes) return ScanResult::kTooManyAttributes;
      if (end_tag) {
        EndTag();
        continue;
      }
      if (InForeign() && Contains(kBreakoutElements, name_)) {
        while (InForeign()) Pop();
      }
      if (InForeign()) {
        // In SVG or MathML every start tag is an element (<title>, <link>, <td> too), and
        // "/>" closes it.
        if (self_closing) continue;
        Push(NameId(name_));
        if (stack_.size() + off_stack_formatting_ + 2 > max_depth_) return ScanResult::kTooDeep;
        continue;
      }
      if (name_ == "plaintext") return ScanResult::kOk;  // the rest is text
      if (name_ == "script") {
        i = ScriptEnd(i);
        continue;
      }
      if (Contains(kRawTextElements, name_)) {
        i = RawTextEnd(i, name_);
        continue;
      }
      if (name_ == "html" || name_ == "body") {
        merged_attributes_ += attributes;
        if (merged_attributes_ > kMaxAttributes) return ScanResult::kTooManyAttributes;
      }
      if (Contains(kVoidElements, name_) || Contains(kUncountedElements, name_)) continue;
      if (Contains(kTableParts, name_)) {
        CloseToTable();
        continue;
      }
      StartTag(html_.substr(attributes_start, i - attributes_start));
      // html and body are not on the scan's stack but always above in the tree.
      if (stack_.size() + off_stack_formatting_ + 2 > max_depth_) return ScanResult::kTooDeep;
    }
  }

 private:
  // Per element name seen, what the rules need, and where it is open.
  struct Name {
    std::string text;
    bool special = false;
    bool scope_boundary = false;
    bool formatting = false;
    bool foreign_root = false;       // svg, math
    bool integration_point = false;  // holds HTML though in SVG or MathML
    bool closes_p = false;
    std::vector<int> open;    // its indices in stack_, ascending
    std::vector<int> active;  // its entries in active_, oldest first (removed ones linger)
  };
  // An element on the stack, with the index of the nearest element at or below it that
  // stops each kind of search, so "is X in scope" is one comparison (-1: none).
  struct Open {
    int name;
    int active;        // its entry in active_, or -1
    bool foreign;      // an SVG or MathML element
    int html;          // the nearest HTML (not foreign) element
    int special;       // any special element
    int scope;         // default scope boundary
    int button_scope;  // ... or <button>
    int list_scope;    // ... or <ol>, <ul>
    int table;         // <table> or <template>: table scope
    int li_stopper;    // special, but not <address>, <div>, <p>
  };
  // An entry in the list of active formatting elements.
  struct Active {
    int stack_index;  // -1 when closed but remembered: the parser will reopen it
    bool removed = false;
  };

  int NameId(std::string_view name) {
    auto [it, inserted] = ids_.try_emplace(std::string(name), static_cast<int>(names_.size()));
    if (inserted) {
      Name info;
      info.text = std::string(name);
      info.special = Contains(kSpecialElements, name);
      info.scope_boundary = Contains(kScopeBoundaries, name) || name == "template";
      info.formatting = Contains(kFormattingElements, name);
      info.foreign_root = name == "svg" || name == "math";
      info.integration_point = Contains(kIntegrationPoints, name);
      info.closes_p = Contains(kClosesParagraph, name) || Contains(kClosesParagraphToo, name);
      names_.push_back(std::move(info));
    }
    return it->second;
  }
  int FindId(std::string_view name) const {
    auto it = ids_.find(std::string(name));
    return it == ids_.end() ? -1 : it->second;
  }
  int Topmost(std::string_view name) const {
    const int id = FindId(name);
    return id < 0 || names_[id].open.empty() ? -1 : names_[id].open.back();
  }

  void Push(int id) {
    const int index = static_cast<int>(stack_.size());
    const Name& info = names_[id];
    const std::string_view name = info.text;
    auto below = [&](int Open::*field) { return stack_.empty() ? -1 : stack_.back().*field; };
    auto at_or_below = [&](bool is, int Open::*field) { return is ? index : below(field); };
    const bool scope = info.scope_boundary;
    const bool foreign = info.foreign_root || InForeign();
    Open open{
        .name = id,
        .active = -1,
        .foreign = foreign,
        .html = at_or_below(!foreign, &Open::html),
        .special = at_or_below(info.special, &Open::special),
        .scope = at_or_below(scope, &Open::scope),
        .button_scope = at_or_below(scope || name == "button", &Open::button_scope),
        .list_scope = at_or_below(scope || name == "ol" || name == "ul", &Open::list_scope),
        .table = at_or_below(name == "table" || name == "template", &Open::table),
        .li_stopper = at_or_below(info.special && name != "address" && name != "div" && name != "p",
                                  &Open::li_stopper),
    };
    stack_.push_back(open);
    names_[id].open.push_back(index);
  }

  void Pop() {
    const Open& top = stack_.back();
    names_[top.name].open.pop_back();
    if (top.active >= 0) {
      active_[top.active].stack_index = -1;
      ++off_stack_formatting_;
    }
    stack_.pop_back();
  }

  void PopTo(int index) {
    while (static_cast<int>(stack_.size()) > index) Pop();
  }

  // Closes the element at `index` and all above it when it is in the scope that
  // `boundary` (a field of Open) describes.
  void CloseInScope(int index, int Open::*boundary) {
    if (index < 0 || stack_.back().*boundary > index) return;
    PopTo(index);
  }

  void RemoveActive(int entry) {
    Active& active = active_[entry];
    if (active.removed) return;
    active.removed = true;
    if (active.stack_index < 0) {
      --off_stack_formatting_;
    } else {
      stack_[active.stack_index].active = -1;
    }
  }

  // The newest entry in the list of active formatting elements for name `id`, or -1.
  int LatestActive(int id) {
    auto& entries = names_[id].active;
    while (!entries.empty() && active_[entries.back()].removed) entries.pop_back();
    return entries.empty() ? -1 : entries.back();
  }

  // What the adoption agency algorithm does to the depth for an end tag of formatting
  // element `id`: closed when nothing special is open inside it, forgotten when it was
  // already closed, unchanged otherwise (the algorithm moves nodes, it does not nest).
  void FormattingEnd(int id) {
    const int entry = LatestActive(id);
    if (entry < 0) {
      OrdinaryEnd(id);
      return;
    }
    const int index = active_[entry].stack_index;
    if (index >= 0) {
      const Open& top = stack_.back();
      if (top.special > index || top.scope > index) return;
      PopTo(index);
    }
    RemoveActive(entry);
  }

  // "Any other end tag": closes the topmost element of that name unless a special
  // element is open inside it.
  void OrdinaryEnd(int id) {
    if (names_[id].open.empty()) return;
    const int index = names_[id].open.back();
    if (stack_.back().special > index) return;
    PopTo(index);
  }

  void CloseParagraph() { CloseInScope(Topmost("p"), &Open::button_scope); }

  // Table parts start by clearing the stack back to the table (unless a <template> is
  // nearer); inside a table nothing stays open across them.
  void CloseToTable() {
    if (stack_.empty()) return;
    const int table = stack_.back().table;
    if (table >= 0 && names_[stack_[table].name].text == "table") PopTo(table + 1);
  }

  void StartTag(std::string_view attributes) {
    const int id = NameId(name_);
    if (name_ == "li") {
      CloseInScope(Topmost("li"), &Open::li_stopper);
    } else if (name_ == "dd" || name_ == "dt") {
      CloseInScope(std::max(Topmost("dd"), Topmost("dt")), &Open::li_stopper);
    } else if (name_ == "a" || name_ == "nobr") {
      if (LatestActive(id) >= 0) FormattingEnd(id);
    }
    if (names_[id].closes_p) CloseParagraph();
    Push(id);
    if (!names_[id].formatting) return;

    // Noah's Ark: at most three entries with the same name and attributes. Raw attribute
    // text stands for the attributes; two spellings of the same set count as different,
    // which can only overestimate.
    std::string key = std::to_string(id) + ' ' + std::string(attributes);
    auto& same = ark_[std::move(key)];
    std::erase_if(same, [&](int entry) { return active_[entry].removed; });
    if (same.size() >= 3) {
      RemoveActive(same.front());
      same.erase(same.begin());
    }
    const int entry = static_cast<int>(active_.size());
    active_.push_back({static_cast<int>(stack_.size()) - 1});
    stack_.back().active = entry;
    names_[id].active.push_back(entry);
    same.push_back(entry);
  }

  // Whether a start tag now is read as SVG or MathML: inside such an element that is not
  // one of those holding HTML.
  bool InForeign() const {
    return !stack_.empty() && stack_.back().foreign &&
           !names_[stack_.back().name].integration_point;
  }

  void EndTag() {
    if (!stack_.empty() && stack_.back().foreign) {
      // SVG and MathML end tags close the nearest open element of their name, as long as
      // no HTML element is open inside it; else the HTML rules below apply.
      const int index = Topmost(name_);
      if (index >= 0 && index > stack_.back().html) {
        PopTo(index);
        return;
      }
    }
    if (Contains(kTableParts, name_)) {
      CloseToTable();
      return;
    }
    const int id = FindId(name_);
    if (id < 0) return;
    if (name_ == "p") {
      CloseParagraph();
    } else if (name_ == "li") {
      CloseInScope(Topmost("li"), &Open::list_scope);
    } else if (names_[id].formatting) {
      FormattingEnd(id);
    } else if (names_[id].special) {
      CloseInScope(Topmost(name_), &Open::scope);
    } else {
      OrdinaryEnd(id);
    }
  }

  // The position just past the first `token` at or after `from`; the end when none.
  std::size_t SkipPast(std::size_t from, std::string_view token) const {
    std::size_t at = html_.find(token, std::min(from, html_.size()));
    return at == std::string_view::npos ? html_.size() : at + token.size();
  }

  // Just past the end of a comment whose text starts at `from`: "<!-->" and "<!--->" end
  // at once, and "--!>" ends a comment as "-->" does.
  std::size_t CommentEnd(std::size_t from) const {
    const std::size_t n = html_.size();
    if (from < n && html_[from] == '>') return from + 1;
    if (html_.compare(from, 2, "->") == 0) return from + 2;
    while (true) {
      std::size_t at = html_.find("--", from);
      if (at == std::string_view::npos) return n;
      if (at + 2 < n && html_[at + 2] == '>') return at + 3;
      if (html_.compare(at + 2, 2, "!>") == 0) return at + 4;
      from = at + 1;
    }
  }

  // From the end of a tag name to just past the tag's '>', stepping over quoted attribute
  // values (which may hold '>') as the tokenizer does, and counting the attributes (a
  // value's '/' may count one too many, never one too few).
  std::size_t SkipTag(std::size_t j, bool* self_closing, std::size_t* attributes) const {
    const std::size_t n = html_.size();
    char previous = '\0';  // the last non-space character
    bool in_name = false;
    while (j < n) {
      const char c = html_[j];
      if (c == '>') {
        *self_closing = previous == '/';
        return j + 1;
      }
      if ((c == '"' || c == '\'') && previous == '=') {
        std::size_t close = html_.find(c, j + 1);
        if (close == std::string_view::npos) return n;
        j = close + 1;
        previous = c;
        in_name = false;
        continue;
      }
      if (IsMarkupSpace(c) || c == '/' || c == '=') {
        in_name = false;
      } else if (!in_name) {
        if (previous != '=') ++*attributes;
        in_name = true;
      }
      if (!IsMarkupSpace(c)) previous = c;
      ++j;
    }
    return n;
  }

  // Whether an end tag for `name` starts at `at`: "</name" then a space, '/' or '>'.
  bool IsEndTagAt(std::size_t at, std::string_view name) const {
    return IsTagAt(at, 2, name) && html_[at + 1] == '/';
  }
  bool IsTagAt(std::size_t at, std::size_t prefix, std::string_view name) const {
    const std::size_t n = html_.size();
    if (at + prefix + name.size() > n || html_[at] != '<') return false;
    for (std::size_t k = 0; k < name.size(); ++k) {
      if (AsciiLower(html_[at + prefix + k]) != name[k]) return false;
    }
    const std::size_t after = at + prefix + name.size();
    return after == n || IsMarkupSpace(html_[after]) || html_[after] == '/' || html_[after] == '>';
  }

  // The start of the end tag of raw-text element `name` (<style>, <title>...).
  std::size_t RawTextEnd(std::size_t from, std::string_view name) const {
    while (true) {
      std::size_t at = html_.find("</", from);
      if (at == std::string_view::npos) return html_.size();
      if (IsEndTagAt(at, name)) return at;
      from = at + 2;
    }
  }

  // The start of the </script> that ends a script, following the tokenizer's escaped
  // states: after "<!--", a "<script" hides the next "</script>" until "-->".
  std::size_t ScriptEnd(std::size_t from) const {
    enum { kData, kEscaped, kDoubleEscaped } state = kData;
    const std::size_t n = html_.size();
    std::size_t k = from;
    while (k < n) {
      const char c = html_[k];
      if (c == '<') {
        if (state != kDoubleEscaped && IsEndTagAt(k, "script")) return k;
        if (state == kData && html_.compare(k, 4, "<!--") == 0) {
          state = kEscaped;
          k += 2;  // the dashes may be the start of "-->" ("<!-->")
          continue;
        }
        if (state == kEscaped && IsTagAt(k, 1, "script")) {
          state = kDoubleEscaped;
          k += 7;
          continue;
        }
        if (state == kDoubleEscaped && IsEndTagAt(k, "script")) {
          state = kEscaped;
          k += 8;
          continue;
        }
      } else if (c == '-' && state != kData && html_.compare(k, 3, "-->") == 0) {
        state = kData;
        k += 3;
        continue;
      }
      ++k;
    }
    return n;
  }

  std::string_view html_;
  std::size_t max_depth_;
  std::string name_;  // the current tag's name, lower-case
  std::unordered_map<std::string, int> ids_;
  std::vector<Name> names_;
  std::vector<Open> stack_;
  std::vector<Active> active_;
  std::unordered_map<std::string, std::vector<int>> ark_;  // live entries per name+attributes
  std::size_t off_stack_formatting_ = 0;                   // active entries the parser would reopen
  std::size_t merged_attributes_ = 0;  // on <html> and <body> tags, which gumbo merges
};

// ---------------------------------------------------------------------------------------
// Copying gumbo's tree
// ---------------------------------------------------------------------------------------

// Longer element names are cut: no real one comes close, and pugixml stores each copy.
constexpr std::size_t kMaxNameBytes = 128;

bool IsXmlNameStart(char c) {
  return IsAsciiAlpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool IsXmlNameChar(char c) {
  return IsXmlNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
}

// The element's name, lower-case and usable as an XML name: gumbo's own name for the tags
// it knows, else the name as written (pointing into the input) with anything that an XML
// name cannot hold replaced by '_'.
std::string ElementName(const GumboElement& element) {
  std::string name;
  if (element.tag != GUMBO_TAG_UNKNOWN) {
    name = gumbo_normalized_tagname(element.tag);
  } else {
    // original_tag is "<name attrs...>"; gumbo_tag_from_original_text asserts on odd
    // input, so the name is taken out here.
    std::string_view original(element.original_tag.data ? element.original_tag.data : "",
                              element.original_tag.length);
    if (!original.empty() && original.front() == '<') original.remove_prefix(1);
    if (!original.empty() && original.front() == '/') original.remove_prefix(1);
    for (char c : original) {
      if (IsMarkupSpace(c) || c == '/' || c == '>' || name.size() == kMaxNameBytes) break;
      name += AsciiLower(c);
    }
  }
  if (name.empty()) return "unknown";
  for (char& c : name) {
    if (!IsXmlNameChar(c)) c = '_';
  }
  if (!IsXmlNameStart(name[0])) name.insert(name.begin(), '_');
  return name;
}

// Attribute names that are not XML names (Vue's ":href", "@click", stray quotes) are
// skipped; the first of two attributes with one name wins, as in HTML.
void CopyAttributes(const GumboElement& element, pugi::xml_node out) {
  std::string name;
  for (unsigned int i = 0; i < element.attributes.length; ++i) {
    const auto* attribute = static_cast<const GumboAttribute*>(element.attributes.data[i]);
    name.clear();
    for (const char* p = attribute->name; *p != '\0'; ++p) name += AsciiLower(*p);
    if (name.empty() || !IsXmlNameStart(name[0]) || name[0] == ':' ||
        !std::all_of(name.begin(), name.end(), IsXmlNameChar)) {
      continue;
    }
    if (out.attribute(name.c_str())) continue;
    out.append_attribute(name.c_str()).set_value(attribute->value);
  }
}

// Elements whose content is code or markup for other situations, never the page's text.
bool DropsContent(GumboTag tag) {
  return tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_TEMPLATE ||
         tag == GUMBO_TAG_NOSCRIPT;
}

// Copies the children of gumbo's document node under `doc`, iteratively: a page is not
// allowed to choose our stack depth. Elements deeper than `max_depth` are left out with
// all they contain.
void CopyTree(const GumboNode& document, int max_depth, pugi::xml_node doc) {
  struct Frame {
    const GumboVector* children;
    unsigned int next;
    pugi::xml_node parent;
    int depth;
  };
  std::vector<Frame> stack;
  stack.push_back({&document.v.document.children, 0, doc, 0});
  while (!stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next >= frame.children->length) {
      stack.pop_back();
      continue;
    }
    const auto* node = static_cast<const GumboNode*>(frame.children->data[frame.next++]);
    switch (node->type) {
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE: {
        const int depth = frame.depth + 1;
        if (depth > max_depth) break;
        const GumboElement& element = node->v.element;
        pugi::xml_node out = frame.parent.append_child(ElementName(element).c_str());
        CopyAttributes(element, out);
        // push_back may move `frame`: nothing of it is used after this.
        if (!DropsContent(element.tag)) stack.push_back({&element.children, 0, out, depth});
        break;
      }
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_WHITESPACE:
      case GUMBO_NODE_CDATA:
        frame.parent.append_child(pugi::node_pcdata).set_value(node->v.text.text);
        break;
      case GUMBO_NODE_COMMENT:
      case GUMBO_NODE_DOCUMENT:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------

// How much raw text is gathered for one field before cleaning. Cleaning shrinks it
// (whitespace runs, entities), so this is a multiple of the cleaned cap.
std::size_t RawTextCap(const Limits& limits) { return limits.max_text_bytes * 8 + 4096; }
// How much of a title or a value a warning quotes.
constexpr std::size_t kWarningExcerptBytes = 120;

// Elements whose boundaries separate words in the text a reader sees, as innerText would:
// "<h3>Title</h3><p>Lead" is "Title Lead", not "TitleLead".
constexpr Names<34> kBlockElements = {
    "address", "article",    "aside",  "blockquote", "br",   "dd",  "details", "div", "dl",
    "dt",      "figcaption", "figure", "footer",     "h1",   "h2",  "h3",      "h4",  "h5",
    "h6",      "header",     "hr",     "li",         "main", "nav", "ol",      "p",   "pre",
    "section", "summary",    "table",  "td",         "th",   "tr",  "ul"};
static_assert(IsSortedNames(kBlockElements));

bool IsBlock(const pugi::xml_node& node) {
  return node.type() == pugi::node_element && Contains(kBlockElements, node.name());
}

// The text of `node` and everything inside it, in document order, up to about `cap`
// bytes. pugixml's text() is only a node's own first text child, so the subtree is walked.
std::string SubtreeText(pugi::xml_node node, std::size_t cap) {
  if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
    return std::string(node.value()).substr(0, cap);
  }
  std::string out;
  pugi::xml_node current = node.first_child();
  while (current && out.size() < cap) {
    if (current.type() == pugi::node_pcdata || current.type() == pugi::node_cdata) {
      out += current.value();
    } else if (IsBlock(current)) {
      out += ' ';
    }
    if (current.first_child()) {
      current = current.first_child();
      continue;
    }
    // Leave `current` and the ancestors it ends, up to one with a next sibling.
    while (true) {
      if (IsBlock(current)) out += ' ';
      if (current.next_sibling()) {
        current = current.next_sibling();
        break;
      }
      current = current.parent();
      if (current == node) {
        current = pugi::xml_node();
        break;
      }
    }
  }
  if (out.size() > cap) out.resize(cap);
  return out;
}

// `text` cut at a character boundary for a warning.
std::string Excerpt(std::string_view text) {
  if (text.size() <= kWarningExcerptBytes) return std::string(text);
  std::size_t end = kWarningExcerptBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

std::unique_ptr<pugi::xpath_query> CompileQuery(const std::string& xpath) {
#ifndef PUGIXML_NO_EXCEPTIONS
  try {
#endif
    auto query = std::make_unique<pugi::xpath_query>(xpath.c_str());
    if (!query->result()) return nullptr;
    return query;
#ifndef PUGIXML_NO_EXCEPTIONS
  } catch (const pugi::xpath_exception&) {
    return nullptr;
  }
#endif
}

// One configured field: "css", "css@attr", "@attr" or "" (not wanted).
struct Field {
  std::string_view key;  // "title", for messages
  std::string spec;      // as configured
  bool wanted = false;
  std::unique_ptr<pugi::xpath_query> query;  // null: the item element itself
  std::string attribute;                     // empty: the text
};

// The position of the '@' that starts the attribute part of `spec`: the last one outside
// brackets, parentheses and quotes ("a[href^='@']@href"). npos when there is none.
std::size_t AttributeSeparator(std::string_view spec) {
  std::size_t found = std::string_view::npos;
  int depth = 0;
  char quote = '\0';
  for (std::size_t i = 0; i < spec.size(); ++i) {
    const char c = spec[i];
    if (c == '\\') {
      ++i;
    } else if (quote != '\0') {
      if (c == quote) quote = '\0';
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '(') {
      ++depth;
    } else if ((c == ']' || c == ')') && depth > 0) {
      --depth;
    } else if (c == '@' && depth == 0) {
      found = i;
    }
  }
  return found;
}

// Compiles `spec` into `field`; an error message when it is not a usable selector.
std::string CompileField(std::string_view key, const std::string& spec, Field* field) {
  field->key = key;
  field->spec = spec;
  const std::string_view trimmed = TrimMarkupSpace(spec);
  if (trimmed.empty()) return {};
  field->wanted = true;
  std::string_view css = trimmed;
  // An XPath selects attributes itself (".//a/@href"), and its '@'s are not separators.
  if (!trimmed.starts_with("xpath:")) {
    if (std::size_t at = AttributeSeparator(trimmed); at != std::string_view::npos) {
      css = TrimMarkupSpace(trimmed.substr(0, at));
      std::string_view attribute = TrimMarkupSpace(trimmed.substr(at + 1));
      if (attribute.empty() || !IsXmlNameStart(attribute[0]) ||
          !std::all_of(attribute.begin(), attribute.end(), IsXmlNameChar)) {
        return "html." + std::string(key) + ": bad attribute name after '@' in '" + spec + "'";
      }
      for (char c : attribute) field->attribute += AsciiLower(c);
    }
  }
  if (css.empty()) return {};  // "@attr": the item element's own attribute
  XPathOrError xpath = CssToXPath(css, /*relative=*/true);
  if (!xpath.error.empty()) return "html." + std::string(key) + ": " + xpath.error;
  field->query = CompileQuery(xpath.xpath);
  if (!field->query) return "html." + std::string(key) + ": XPath did not compile";
  return {};
}

// The raw value of `field` for the item element `item`, or nullopt when the field is not
// wanted or its selector finds nothing there.
std::optional<std::string> RawValue(pugi::xml_node item, const Field& field, std::size_t cap) {
  if (!field.wanted) return std::nullopt;
  if (!field.query) {
    pugi::xml_attribute attribute = item.attribute(field.attribute.c_str());
    if (!attribute) return std::nullopt;
    return std::string(attribute.value());
  }
  // select_node picks the first match in document order, also across a '|' union.
  pugi::xpath_node hit = item.select_node(*field.query);
  if (hit.attribute()) return std::string(hit.attribute().value());
  pugi::xml_node node = hit.node();
  if (!node) return std::nullopt;
  if (!field.attribute.empty()) {
    pugi::xml_attribute attribute = node.attribute(field.attribute.c_str());
    if (!attribute) return std::nullopt;
    return std::string(attribute.value());
  }
  return SubtreeText(node, cap);
}

bool IsHttpUrl(std::string_view url) {
  return StartsWithNoCase(url, "http://") || StartsWithNoCase(url, "https://");
}

// A source's selectors and date format, compiled once per page.
struct CompiledSelectors {
  std::unique_ptr<pugi::xpath_query> item;
  Field title, link, date, summary;
  std::optional<DateFormat> date_format;
};

// Compiles every selector and the date format; returns the first problem, "" when none.
// Everything that can be wrong with the configuration is found before the page is read.
std::string Compile(const core::HtmlSelectors& selectors, CompiledSelectors& out) {
  const std::string_view item_spec = TrimMarkupSpace(selectors.item);
  if (item_spec.empty()) {
    return "html.item: no item selector";
  }
  XPathOrError item_xpath = CssToXPath(item_spec, /*relative=*/false);
  if (!item_xpath.error.empty()) {
    return "html.item: " + item_xpath.error;
  }
  out.item = CompileQuery(item_xpath.xpath);
  if (!out.item) return "html.item: XPath did not compile";
  for (auto [key, spec, field] : {std::tuple{"title", &selectors.title, &out.title},
                                  std::tuple{"link", &selectors.link, &out.link},
                                  std::tuple{"date", &selectors.date, &out.date},
                                  std::tuple{"summary", &selectors.summary, &out.summary}}) {
    if (std::string problem = CompileField(key, *spec, field); !problem.empty()) return problem;
  }
  if (!out.title.wanted) return "html.title: no title selector";
  if (!selectors.date_format.empty()) {
    std::string problem;
    out.date_format = DateFormat::Make(selectors.date_format, selectors.timezone, &problem);
    if (!out.date_format) {
      return "html.date_format '" + selectors.date_format + "' in time zone '" +
             selectors.timezone + "': " + problem;
    }
  }
  return {};
}

}  // namespace

std::string HtmlSelectorsProblem(const core::HtmlSelectors& selectors) {
  CompiledSelectors compiled;
  return Compile(selectors, compiled);
}

std::string HtmlToXml(std::string_view utf8, const Limits& limits, pugi::xml_document& doc) {
  doc.reset();
  if (utf8.size() > limits.max_bytes) {
    return "HTML larger than " + std::to_string(limits.max_bytes) + " bytes (limit)";
  }
  const auto max_depth = static_cast<std::size_t>(std::max(limits.max_depth, 0));
  switch (PreScanner(utf8, max_depth).Run()) {
    case ScanResult::kOk:
      break;
    case ScanResult::kTooDeep:
      return "HTML nesting deeper than " + std::to_string(limits.max_depth) + " levels (limit)";
    case ScanResult::kTooManyAttributes:
      return "HTML tag with more than " + std::to_string(kMaxAttributes) + " attributes (limit)";
  }
  GumboOptions options = kGumboDefaultOptions;
  // Nobody reads gumbo's parse errors, and each one it records copies the stack of open
  // elements: on a page 10,000 levels deep that made the parse 20 times slower.
  options.max_errors = 0;
  GumboOutput* output = gumbo_parse_with_options(&options, utf8.data(), utf8.size());
  if (output == nullptr || output->document == nullptr) {
    if (output != nullptr) gumbo_destroy_output(&options, output);
    return "the HTML parser failed";
  }
  auto destroy = [&options](GumboOutput* o) { gumbo_destroy_output(&options, o); };
  std::unique_ptr<GumboOutput, decltype(destroy)> owned(output, destroy);
  CopyTree(*output->document, limits.max_depth, doc);
  return {};
}

void ExtractHtmlItems(const pugi::xml_document& doc, const core::HtmlSelectors& selectors,
                      std::string_view page_url, const Limits& limits, core::Feed& feed,
                      std::vector<std::string>& warnings, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  error->clear();

  CompiledSelectors compiled;
  if (std::string problem = Compile(selectors, compiled); !problem.empty()) {
    *error = std::move(problem);
    return;
  }
  const auto& item_query = compiled.item;
  const Field &title = compiled.title, &link = compiled.link, &date = compiled.date,
              &summary = compiled.summary;
  const std::optional<DateFormat>& date_format = compiled.date_format;

  pugi::xpath_node_set hits = doc.select_nodes(*item_query);
  hits.sort();
  const std::size_t raw_cap = RawTextCap(limits);
  const std::size_t text_cap = limits.max_text_bytes;

  // Links resolve against <base href> (itself relative to the page), else the page.
  std::string base(page_url);
  if (pugi::xpath_node base_node = doc.select_node("//base[@href]")) {
    const char* href = base_node.node().attribute("href").value();
    if (auto resolved = core::ResolveUrl(page_url, href)) base = std::move(*resolved);
  }

  std::vector<core::Item> items;
  std::size_t matched = 0;
  for (const pugi::xpath_node& hit : hits) {
    const pugi::xml_node element = hit.node();
    if (!element || element.type() != pugi::node_element) continue;
    ++matched;
    if (items.size() >= limits.max_items) continue;

    core::Item item;
    if (auto raw = RawValue(element, title, raw_cap)) {
      item.title = CleanText(*raw, TextKind::kPlain, text_cap);
    }
    if (item.title.empty()) {
      warnings.push_back("item " + std::to_string(matched) + ": no title (selector '" + title.spec +
                         "')");
      continue;
    }
    const std::string name = "item '" + Excerpt(item.title) + "'";

    if (auto raw = RawValue(element, link, raw_cap)) {
      // An attribute is a URL as written; an element's text is cleaned first.
      std::string href = link.attribute.empty() && link.query
                             ? CleanText(*raw, TextKind::kPlain, text_cap)
                             : std::string(TrimMarkupSpace(*raw));
      if (!href.empty()) {
        auto resolved = core::ResolveUrl(base, href);
        if (resolved && IsHttpUrl(*resolved)) {
          item.link = std::move(*resolved);
        } else {
          warnings.push_back(name + ": link '" + Excerpt(href) + "' " +
                             (resolved ? std::string("is not an http(s) URL")
                                       : "does not resolve against '" + Excerpt(base) + "'"));
        }
      }
    }

    if (auto raw = RawValue(element, date, raw_cap)) {
      const std::string text = CleanText(*raw, TextKind::kPlain, text_cap);
      if (!text.empty()) {
        item.published = date_format ? date_format->Parse(text) : ParseDate(text);
        if (!item.published) {
          warnings.push_back(name + ": date '" + Excerpt(text) + "' " +
                             (date_format ? "does not match '" + selectors.date_format + "'"
                                          : std::string("is in no known date format")));
        }
      }
    }

    if (auto raw = RawValue(element, summary, raw_cap)) {
      std::string text = CleanText(*raw, TextKind::kPlain, text_cap);
      if (!text.empty()) item.summary = std::move(text);
    }
    items.push_back(std::move(item));
  }

  if (matched == 0) {
    *error = "item selector '" + std::string(TrimMarkupSpace(selectors.item)) +
             "' matched nothing on the page";
    return;
  }
  if (matched > limits.max_items) {
    warnings.push_back("the page has " + std::to_string(matched) + " items; kept the first " +
                       std::to_string(limits.max_items) + " (limit)");
  }

  feed.format = core::SourceKind::kHtml;
  if (pugi::xpath_node title_node = doc.select_node("//title[not(ancestor::svg)]")) {
    feed.title = CleanText(SubtreeText(title_node.node(), raw_cap), TextKind::kPlain, text_cap);
  }
  if (!page_url.empty()) feed.link = std::string(page_url);
  for (auto& item : items) feed.items.push_back(std::move(item));
}

}  // namespace newsmon::parse
