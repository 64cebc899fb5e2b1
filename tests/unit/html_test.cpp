#include "daemon/parse/html.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace newsmon::parse {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::September;
using std::chrono::sys_days;
using std::literals::chrono_literals::operator""y;

// The descendant text of the first element `xpath` selects, "<none>" when none.
std::string TextOf(const pugi::xml_document& doc, const char* xpath) {
  pugi::xml_node node = doc.select_node(xpath).node();
  if (!node) return "<none>";
  std::string text;
  for (const auto& hit : node.select_nodes(".//text()")) text += hit.node().value();
  return text;
}

std::size_t Count(const pugi::xml_document& doc, const char* xpath) {
  return doc.select_nodes(xpath).size();
}

// How deep elements nest in `doc` (the root element is depth 1), walked without recursion.
int ElementDepth(const pugi::xml_document& doc) {
  int deepest = 0;
  for (const auto& hit : doc.select_nodes("//*")) {
    int depth = 0;
    for (pugi::xml_node n = hit.node(); n.type() == pugi::node_element; n = n.parent()) ++depth;
    deepest = std::max(deepest, depth);
  }
  return deepest;
}

// --- HtmlToXml -----------------------------------------------------------------------

TEST(HtmlToXml, NamesAreLowerCaseForKnownAndUnknownTags) {
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml("<DIV CLASS='News' ID=x><My-Widget Data-X=1>w</My-Widget></DIV>", {}, doc),
            "");
  EXPECT_EQ(Count(doc, "/html/body/div[@class='News'][@id='x']"), 1u);
  EXPECT_EQ(TextOf(doc, "//div/my-widget[@data-x='1']"), "w");
  EXPECT_EQ(Count(doc, "/html/head"), 1u);  // gumbo completes the document
}

TEST(HtmlToXml, MisnestedAndUnclosedTagsGetGumbosTree) {
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml("<ul><li id=a>one<li id=b>two</ul><p id=p1>x<p id=p2><b>bold<i>both</b>"
                      "italic</i><div id=d>open",
                      {}, doc),
            "");
  EXPECT_EQ(Count(doc, "//ul/li"), 2u);  // the second <li> closes the first
  EXPECT_EQ(TextOf(doc, "//li[@id='a']"), "one");
  EXPECT_EQ(Count(doc, "//p[@id='p1']/following-sibling::p[@id='p2']"), 1u);
  EXPECT_EQ(TextOf(doc, "//p[@id='p2']"), "boldbothitalic");
  EXPECT_EQ(TextOf(doc, "//div[@id='d']"), "open");
}

TEST(HtmlToXml, ScriptStyleTemplateNoscriptAndCommentsAreDropped) {
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml("<head><style>div > p { color: red }</style></head>"
                      "<div id=a><script>var s = '</div><div id=fake>';</script>"
                      "<!-- <p id=commented>no</p> --><p id=b>kept</p>"
                      "<template><p id=t>tpl</p></template><noscript><p>ns</p></noscript></div>",
                      {}, doc),
            "");
  // The "</div>" inside the script did not close the div.
  EXPECT_EQ(Count(doc, "//div[@id='a']/p[@id='b']"), 1u);
  EXPECT_EQ(Count(doc, "//*[@id='fake']"), 0u);
  EXPECT_EQ(Count(doc, "//script/node()"), 0u);
  EXPECT_EQ(Count(doc, "//style/node()"), 0u);
  EXPECT_EQ(Count(doc, "//*[@id='t']"), 0u);
  EXPECT_EQ(Count(doc, "//noscript/node()"), 0u);
  EXPECT_EQ(Count(doc, "//*[@id='commented']"), 0u);
  EXPECT_EQ(Count(doc, "//comment()"), 0u);
}

TEST(HtmlToXml, EntitiesAreDecodedOnce) {
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml("<p id=p title='a&amp;b'>Caf&eacute; &amp; &lt;b&gt; &#x41;&#66; &amp;amp;"
                      "&nbsp;&copy</p>",
                      {}, doc),
            "");
  EXPECT_EQ(TextOf(doc, "//p"), "Café & <b> AB &amp;\u00a0©");
  EXPECT_STREQ(doc.select_node("//p").node().attribute("title").value(), "a&b");
}

TEST(HtmlToXml, AttributesThatAreNotXmlNamesAreSkipped) {
  pugi::xml_document doc;
  ASSERT_EQ(
      HtmlToXml("<a :href='x' @click='y' \"q\"=1 href='/ok' HREF='/dup' data-Id=7>a</a>", {}, doc),
      "");
  pugi::xml_node a = doc.select_node("//a").node();
  std::vector<std::string> names;
  for (pugi::xml_attribute attribute : a.attributes()) names.emplace_back(attribute.name());
  EXPECT_EQ(names, (std::vector<std::string>{"href", "data-id"}));
  EXPECT_STREQ(a.attribute("href").value(), "/ok");  // the first of duplicates wins
}

TEST(HtmlToXml, SvgSelfClosingElementsDoNotCountAsNesting) {
  std::string page = "<svg>";
  for (int i = 0; i < 1000; ++i) page += "<path d='M0 0'/>";
  page += "</svg><p id=after>after</p>";
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml(page, {}, doc), "");
  EXPECT_EQ(Count(doc, "//svg/path"), 1000u);
  EXPECT_EQ(TextOf(doc, "//p[@id='after']"), "after");
}

TEST(HtmlToXml, SloppyButShallowPageIsAccepted) {
  // Unclosed spans inside closed divs, unclosed paragraphs with bold text, list items with
  // unclosed links, table cells: all shallow for the HTML parser, so the pre-scan must not
  // count them up.
  std::string page = "<body><ul>";
  for (int i = 0; i < 2000; ++i) {
    page += "<li><a href='/n/" + std::to_string(i) + "'>link";
    page += "<div><span>x</div><p><b>bold</p><p>para<dl><dt>t<dd>d</dl>";
  }
  page += "</ul><table>";
  for (int i = 0; i < 2000; ++i) page += "<tr><td><span>cell<td><div>cell";
  page += "</table>";
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml(page, {}, doc), "");
  EXPECT_EQ(Count(doc, "//div"), 4000u);
  EXPECT_LT(ElementDepth(doc), 20);
}

TEST(HtmlToXml, TooLargeInputIsRefused) {
  pugi::xml_document doc;
  EXPECT_EQ(HtmlToXml(std::string(101, 'x'), {.max_bytes = 100}, doc),
            "HTML larger than 100 bytes (limit)");
}

TEST(HtmlToXml, HundredThousandNestedDivsFailFastBeforeGumbo) {
  std::string page;
  for (int i = 0; i < 100000; ++i) page += "<div>";
  pugi::xml_document doc;
  const auto start = std::chrono::steady_clock::now();
  const std::string error = HtmlToXml(page, {}, doc);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(error, "HTML nesting deeper than 256 levels (limit)");
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  std::cout << "[          ] 100000 nested <div>: rejected in " << ms << " ms\n";
  RecordProperty("reject_ms", std::to_string(ms));
}

TEST(HtmlToXml, NestingHiddenFromAPlainTagCountIsStillCaught) {
  // The parser ignores </span> while a <div> is open inside the span, so this nests spans
  // without end although every start tag has an end tag.
  std::string page;
  for (int i = 0; i < 5000; ++i) page += "<span><div></span></div>";
  pugi::xml_document doc;
  EXPECT_EQ(HtmlToXml(page, {}, doc), "HTML nesting deeper than 256 levels (limit)");
  // And an end tag for something not open does not close anything.
  page.clear();
  for (int i = 0; i < 5000; ++i) page += "<div></section></b>";
  EXPECT_EQ(HtmlToXml(page, {}, doc), "HTML nesting deeper than 256 levels (limit)");
}

TEST(HtmlToXml, TagsInsideScriptsAndCommentsDoNotCountAsNesting) {
  std::string page = "<script>";
  for (int i = 0; i < 1000; ++i) page += "document.write('<div>');";
  page += "</SCRIPT><!--";
  for (int i = 0; i < 1000; ++i) page += "<div>";
  page += "--><p title='<div><div>'>ok</p>";
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml(page, {}, doc), "");
  EXPECT_EQ(TextOf(doc, "//p"), "ok");
}

TEST(HtmlToXml, DeeperSubtreesAreCutWhileCopying) {
  // The pre-scan does not count table parts (they close themselves), so this passes it
  // with 3 + 2 levels while the tree is 11 deep: the copy keeps 5 levels.
  pugi::xml_document doc;
  ASSERT_EQ(HtmlToXml("<table><tr><td><table><tr><td><b id=deep>deep</b></table></table>",
                      {.max_depth = 5}, doc),
            "");
  EXPECT_EQ(ElementDepth(doc), 5);
  EXPECT_EQ(Count(doc, "//*[@id='deep']"), 0u);
  EXPECT_EQ(Count(doc, "/html/body/table/tbody/tr"), 1u);
}

TEST(HtmlToXml, ReopenedFormattingElementsCountAsNesting) {
  // Each <b> is closed by </div> but stays on the parser's list of active formatting
  // elements (distinct attributes dodge its limit of three), and every later <b> reopens
  // all of them: gumbo would build a quadratic number of nested nodes.
  std::string page;
  for (int i = 0; i < 5000; ++i) page += "<div><b id=" + std::to_string(i) + "></div>";
  pugi::xml_document doc;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(HtmlToXml(page, {}, doc), "HTML nesting deeper than 256 levels (limit)");
  std::cout
      << "[          ] 5000 reopened <b>: rejected in "
      << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()
      << " ms\n";
  // Equal ones are kept three times at most, as the parser does.
  page.clear();
  for (int i = 0; i < 5000; ++i) page += "<div><b class=x>bold</div>";
  EXPECT_EQ(HtmlToXml(page, {}, doc), "");
}

TEST(HtmlToXml, CommentAndScriptEndsFollowTheTokenizer) {
  // "<!-->" is a whole comment and "--!>" ends one: the <div>s after them are real tags.
  std::string page;
  for (int i = 0; i < 5000; ++i) page += "<!--><div>-->";
  pugi::xml_document doc;
  EXPECT_EQ(HtmlToXml(page, {}, doc), "HTML nesting deeper than 256 levels (limit)");
  page.clear();
  for (int i = 0; i < 5000; ++i) page += "<!-- x --!><div>-->";
  EXPECT_EQ(HtmlToXml(page, {}, doc), "HTML nesting deeper than 256 levels (limit)");
  // In a script, "<!--<script>" hides the next "</script>": the "</div>" is script text.
  page.clear();
  for (int i = 0; i < 5000; ++i) page += "<div><script><!--<script></script></div>--></script>";
  EXPECT_EQ(HtmlToXml(page, {}, doc), "HTML nesting deeper than 256 levels (limit)");
  // And the same script in a shallow page does not confuse the copy.
  ASSERT_EQ(HtmlToXml("<div id=a><script><!--<script></script></div>--></script><p>in</p></div>",
                      {}, doc),
            "");
  EXPECT_EQ(TextOf(doc, "//div[@id='a']/p"), "in");
}

TEST(HtmlToXml, TooManyAttributesAreRefusedBeforeGumbo) {
  // Gumbo compares every attribute with the earlier ones of its tag: quadratic.
  auto tag = [](int attributes) {
    std::string tag = "<div";
    for (int i = 0; i < attributes; ++i) tag += " a" + std::to_string(i) + "=\"v\"";
    return tag + ">x</div>";
  };
  pugi::xml_document doc;
  EXPECT_EQ(HtmlToXml(tag(200), {}, doc), "");
  EXPECT_EQ(Count(doc, "//div/@*"), 200u);
  EXPECT_EQ(HtmlToXml(tag(300), {}, doc), "HTML tag with more than 256 attributes (limit)");
  // <body> tags are merged into one element, so their attributes add up.
  std::string bodies;
  for (int i = 0; i < 300; ++i) bodies += "<body b" + std::to_string(i) + ">";
  EXPECT_EQ(HtmlToXml(bodies, {}, doc), "HTML tag with more than 256 attributes (limit)");
}

// --- ExtractHtmlItems -----------------------------------------------------------------

// A "Latest news" list shaped like caliber.az's (the source in config/newsmon.yaml), with
// the awkward cases around it.
constexpr std::string_view kNewsPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Caliber.Az &mdash; Latest news</title>
<base href="/en/">
<link rel="stylesheet" href="/css/main.css">
</head>
<body>
<header><nav><a href="/en/">Home</a> <a href="/en/politics">Politics</a></nav></header>
<aside class="popular">
  <div class="news-item"><a href="/en/post/popular"><span class="news-title">Popular, not latest</span></a></div>
</aside>
<div class="latest-news">
  <h2>Latest news</h2>
  <div class="news-item">
    <a href="https://caliber.az/en/post/diplomat-venezuela-azerbaijan">
      <span class="news-title">Diplomat: Venezuela, Azerbaijan have favourable partnership relations</span>
    </a>
    <span class="news-date">26 September 2023 - 10:35</span>
  </div>
  <div class="news-item">
    <a href="post/reintegrate-or-outcast">
      <span class="news-title">Reintegrate within Azerbaijan or become an outcast?<br><small>Armenians in the grip of history</small></span>
    </a>
    <span class="news-date">26 September 2023 - 10:28</span>
  </div>
  <div class="news-item">
    <a href="/en/post/kursk-drones"><span class="news-title">Russia&#39;s Kursk subjected to drone attacks in past 24 hours</span></a>
    <span class="news-date">
      26 September 2023 -
      10:21
    </span>
  </div>
  <div class="news-item">
    <a href="/en/post/untitled"><span class="news-title">  </span></a>
    <span class="news-date">26 September 2023 - 10:14</span>
  </div>
  <div class="news-item">
    <a href="/en/post/armenian-police"><span class="news-title">Armenian police detain over 30 anti-government protesters</span></a>
    <span class="news-date">yesterday</span>
  </div>
  <div class="news-item">
    <span class="news-title">Garabagh separatists use civilian facilities as ammunition depots</span>
  </div>
  <div class="news-item">
    <a href="javascript:void(0)"><span class="news-title">Russian military doctors treat victims of fuel tanker explosion</span></a>
    <span class="news-date">26 September 2023 - 09:55</span>
  </div>
</div>
</body>
</html>
)html";

constexpr std::string_view kPageUrl = "https://caliber.az/en/news/latest";

core::HtmlSelectors CaliberSelectors() {
  return {
      .item = ".latest-news .news-item",
      .title = ".news-title",
      .link = "a@href",
      .date = ".news-date",
      .date_format = "%d %B %Y - %H:%M",
      .timezone = "Asia/Baku",
  };
}

struct Extracted {
  core::Feed feed;
  std::vector<std::string> warnings;
  std::string error;
};

Extracted Extract(std::string_view page, const core::HtmlSelectors& selectors,
                  std::string_view url = kPageUrl, Limits limits = {}) {
  Extracted out;
  pugi::xml_document doc;
  out.error = HtmlToXml(page, limits, doc);
  if (!out.error.empty()) return out;
  ExtractHtmlItems(doc, selectors, url, limits, out.feed, out.warnings, &out.error);
  return out;
}

// 26 September 2023 at hh:mm in Baku (UTC+4 all year).
core::TimePoint BakuTime(int hh, int mm) {
  return core::TimePoint(sys_days(2023y / September / 26) + hours(hh - 4) + minutes(mm));
}

TEST(ExtractHtmlItems, RealisticNewsPage) {
  Extracted x = Extract(kNewsPage, CaliberSelectors());
  ASSERT_EQ(x.error, "");
  EXPECT_EQ(x.feed.format, core::SourceKind::kHtml);
  EXPECT_EQ(x.feed.title, "Caliber.Az \u2014 Latest news");
  EXPECT_EQ(x.feed.link, std::string(kPageUrl));

  // Seven items in the list: the one without a title is skipped, the aside not matched.
  ASSERT_EQ(x.feed.items.size(), 6u);
  const auto& items = x.feed.items;
  EXPECT_EQ(items[0].title,
            "Diplomat: Venezuela, Azerbaijan have favourable partnership relations");
  EXPECT_EQ(items[0].link, "https://caliber.az/en/post/diplomat-venezuela-azerbaijan");
  EXPECT_EQ(items[0].published, BakuTime(10, 35));
  EXPECT_EQ(items[0].summary, std::nullopt);
  EXPECT_EQ(items[0].id, "");  // the caller fills ids
  EXPECT_EQ(items[0].source, "");

  // <br> separates the two lines of a title.
  EXPECT_EQ(items[1].title,
            "Reintegrate within Azerbaijan or become an outcast? Armenians in the grip of history");
  EXPECT_EQ(items[1].published, BakuTime(10, 28));

  EXPECT_EQ(items[2].title, "Russia's Kursk subjected to drone attacks in past 24 hours");
  EXPECT_EQ(items[2].link, "https://caliber.az/en/post/kursk-drones");
  EXPECT_EQ(items[2].published, BakuTime(10, 21));  // whitespace in the date collapses

  EXPECT_EQ(items[3].title, "Armenian police detain over 30 anti-government protesters");
  EXPECT_EQ(items[3].published, std::nullopt);  // "yesterday": kept, without a date

  EXPECT_EQ(items[4].title, "Garabagh separatists use civilian facilities as ammunition depots");
  EXPECT_EQ(items[4].link, std::nullopt);  // optional fields missing: null, no warning
  EXPECT_EQ(items[4].published, std::nullopt);

  EXPECT_EQ(items[5].link, std::nullopt);  // javascript: is not a link to follow
  EXPECT_EQ(items[5].published, BakuTime(9, 55));

  EXPECT_EQ(x.warnings,
            (std::vector<std::string>{
                "item 4: no title (selector '.news-title')",
                "item 'Armenian police detain over 30 anti-government protesters': date "
                "'yesterday' does not match '%d %B %Y - %H:%M'",
                "item 'Russian military doctors treat victims of fuel tanker explosion': link "
                "'javascript:void(0)' is not an http(s) URL",
            }));
}

TEST(ExtractHtmlItems, RelativeLinksResolveAgainstBaseHrefThenThePage) {
  Extracted with_base = Extract(kNewsPage, CaliberSelectors());
  ASSERT_EQ(with_base.error, "");
  // <base href="/en/"> on https://caliber.az/en/news/latest: links resolve under /en/.
  EXPECT_EQ(with_base.feed.items[1].link, "https://caliber.az/en/post/reintegrate-or-outcast");

  std::string page(kNewsPage);
  page.erase(page.find("<base href=\"/en/\">"), std::string_view("<base href=\"/en/\">").size());
  Extracted without_base = Extract(page, CaliberSelectors());
  ASSERT_EQ(without_base.error, "");
  EXPECT_EQ(without_base.feed.items[1].link,
            "https://caliber.az/en/news/post/reintegrate-or-outcast");
}

TEST(ExtractHtmlItems, LinkThatDoesNotResolveIsNullWithAWarning) {
  // No page URL: a relative link has nothing to resolve against.
  Extracted x = Extract("<ul><li><a href='/a'>A</a></li><li><a href='https://x.org/b'>B</a></ul>",
                        {.item = "li", .title = "a", .link = "a@href"}, "");
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 2u);
  EXPECT_EQ(x.feed.items[0].link, std::nullopt);
  EXPECT_EQ(x.feed.items[1].link, "https://x.org/b");
  EXPECT_EQ(x.feed.link, std::nullopt);
  EXPECT_EQ(x.warnings,
            (std::vector<std::string>{"item 'A': link '/a' does not resolve against ''"}));
}

TEST(ExtractHtmlItems, ItemSelectorMatchingNothingIsAnError) {
  core::HtmlSelectors selectors = CaliberSelectors();
  selectors.item = "div.news";
  Extracted x = Extract(kNewsPage, selectors);
  EXPECT_EQ(x.error, "item selector 'div.news' matched nothing on the page");
  EXPECT_TRUE(x.feed.items.empty());
}

TEST(ExtractHtmlItems, AttributeOfTheItemElementItself) {
  // Cards that are links themselves: "@href" reads the item's own attribute.
  Extracted x = Extract(
      "<main><a class=card href='/story/1'><h3>First story</h3><p>Lead one</p></a>"
      "<a class=card href='story/2' data-ts='2023-09-26T10:35:00+04:00'><h3>Second</h3></a>"
      "</main>",
      {.item = "a.card", .title = "h3", .link = "@href", .date = "@data-ts", .summary = "p"},
      "https://example.org/news/");
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 2u);
  EXPECT_EQ(x.feed.items[0].link, "https://example.org/story/1");
  EXPECT_EQ(x.feed.items[0].summary, "Lead one");
  EXPECT_EQ(x.feed.items[0].published, std::nullopt);
  EXPECT_EQ(x.feed.items[1].link, "https://example.org/news/story/2");
  EXPECT_EQ(x.feed.items[1].summary, std::nullopt);
  EXPECT_EQ(x.feed.items[1].published, BakuTime(10, 35));
  EXPECT_TRUE(x.warnings.empty());
}

TEST(ExtractHtmlItems, SelectorAtAttributeTakesTheFirstMatchsAttribute) {
  Extracted x = Extract(
      "<article><h2><a href='/one' title='Title from the attribute'>text</a></h2>"
      "<a href='/two'>second link</a>"
      "<time datetime='2023-09-26T06:35:00Z'>Tuesday</time></article>",
      {.item = "article", .title = "h2 a@title", .link = "a@href", .date = "time@datetime"},
      "https://example.org/");
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 1u);
  EXPECT_EQ(x.feed.items[0].title, "Title from the attribute");
  EXPECT_EQ(x.feed.items[0].link, "https://example.org/one");
  EXPECT_EQ(x.feed.items[0].published, BakuTime(10, 35));
}

TEST(ExtractHtmlItems, AtInsideBracketsOrQuotesIsPartOfTheSelector) {
  Extracted x =
      Extract("<div class=i><a data-k='x@y' href='/wanted'>T</a><a href='/other'>U</a></div>",
              {.item = ".i", .title = "a", .link = "a[data-k='x@y']@href"}, "https://example.org/");
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 1u);
  EXPECT_EQ(x.feed.items[0].link, "https://example.org/wanted");
}

TEST(ExtractHtmlItems, XPathFieldSelectsAnAttributeDirectly) {
  Extracted x =
      Extract("<div class=i><a href='/x'>T</a></div>",
              {.item = ".i", .title = "a", .link = "xpath:.//a/@href"}, "https://example.org/");
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 1u);
  EXPECT_EQ(x.feed.items[0].link, "https://example.org/x");
}

TEST(ExtractHtmlItems, DateWithoutFormatIsReadByParseDate) {
  Extracted x =
      Extract("<li><b>A</b><i>Tue, 26 Sep 2023 06:35:00 GMT</i></li><li><b>B</b><i>soon</i></li>",
              {.item = "li", .title = "b", .date = "i"}, "https://example.org/");
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 2u);
  EXPECT_EQ(x.feed.items[0].published, BakuTime(10, 35));
  EXPECT_EQ(x.feed.items[1].published, std::nullopt);
  EXPECT_EQ(x.warnings,
            (std::vector<std::string>{"item 'B': date 'soon' is in no known date format"}));
}

TEST(ExtractHtmlItems, TitleTextIsTheWholeSubtreeCleaned) {
  Extracted x =
      Extract("<div class=n><h3>  Breaking:\n <em>big</em>&nbsp;news &amp;amp; more  </h3></div>",
              {.item = ".n", .title = "h3"}, "https://example.org/");
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 1u);
  // Gumbo decoded one level of entities, CleanText the double-escaped one.
  EXPECT_EQ(x.feed.items[0].title, "Breaking: big news & more");
}

TEST(ExtractHtmlItems, BadSelectorsAndDateFormatAreErrors) {
  core::HtmlSelectors selectors = CaliberSelectors();
  selectors.title = "div > )";
  EXPECT_EQ(Extract(kNewsPage, selectors).error,
            "html.title: unexpected ')' at offset 7 in 'div > )'");

  selectors = CaliberSelectors();
  selectors.item = "li:hover";
  EXPECT_EQ(Extract(kNewsPage, selectors).error,
            "html.item: unsupported pseudo-class ':hover' at offset 3 in 'li:hover'");

  selectors = CaliberSelectors();
  selectors.link = "a@";
  EXPECT_EQ(Extract(kNewsPage, selectors).error, "html.link: bad attribute name after '@' in 'a@'");

  selectors = CaliberSelectors();
  selectors.timezone = "Mars/Base";
  const std::string error = Extract(kNewsPage, selectors).error;
  EXPECT_TRUE(error.starts_with("html.date_format '%d %B %Y - %H:%M' in time zone 'Mars/Base': "))
      << error;
}

TEST(ExtractHtmlItems, MaxItemsKeepsTheFirstAndSaysSo) {
  Extracted x = Extract(kNewsPage, CaliberSelectors(), kPageUrl, {.max_items = 2});
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 2u);
  EXPECT_EQ(x.feed.items[1].published, BakuTime(10, 28));
  ASSERT_FALSE(x.warnings.empty());
  EXPECT_EQ(x.warnings.back(), "the page has 7 items; kept the first 2 (limit)");
}

TEST(ExtractHtmlItems, LongFieldsAreCutToMaxTextBytes) {
  std::string page = "<p class=x>" + std::string(10000, 'a') + "</p>";
  Extracted x = Extract(page, {.item = "p", .title = "xpath:."}, "https://example.org/",
                        {.max_text_bytes = 100});
  ASSERT_EQ(x.error, "");
  ASSERT_EQ(x.feed.items.size(), 1u);
  EXPECT_EQ(x.feed.items[0].title.size(), 100u);
}

TEST(ExtractHtmlItems, MutatedPagesNeverBreakTheContract) {
  // Random edits of the realistic page: no crash (the sanitizer build checks memory), and
  // every item that comes out has a title and, when it has one, an http(s) link.
  using std::string_literals::operator""s;
  const std::string alphabet = "<>/=\"' !-abcdivspn\xD0\x80\xFF\0"s;
  std::mt19937 random(20230926);
  std::size_t items = 0;
  for (int round = 0; round < 300; ++round) {
    std::string page(kNewsPage);
    for (int edit = 0; edit < 1 + static_cast<int>(random() % 20); ++edit) {
      const std::size_t at = random() % page.size();
      const char c = alphabet[random() % alphabet.size()];
      if (random() % 2 == 0) {
        page.insert(page.begin() + static_cast<std::ptrdiff_t>(at), c);
      } else {
        page[at] = c;
      }
    }
    Extracted x = Extract(page, CaliberSelectors());
    for (const auto& item : x.feed.items) {
      ASSERT_FALSE(item.title.empty());
      if (item.link) {
        ASSERT_TRUE(item.link->starts_with("http")) << *item.link;
      }
    }
    items += x.feed.items.size();
  }
  EXPECT_GT(items, 300u);  // most edits leave most items readable
}

}  // namespace
}  // namespace newsmon::parse
