#include "daemon/parse/css.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace newsmon::parse {
namespace {

// A small page in the shape HtmlToXml produces: lower-case names, ids on every element
// the tests look for.
constexpr const char* kPage = R"(<html id="html"><body id="body">
<ul id="list">
  <li id="l1" class="a">1</li>
  <li id="l2" class=" a  b ">2</li>
  <li id="l3" class="b">3</li>
  <li id="l4" lang="en-US">4</li>
  <li id="l5" lang="en">5</li>
  <li id="l6" data-x="foo bar baz">6</li>
  <li id="l7" title="O'Neil said &quot;hi&quot;">7</li>
</ul>
<div id="d1"><h2 id="h2a">A</h2><p id="pa1">x</p><p id="pa2"/><span id="s1"/><p id="pa3"/></div>
<section id="sec"><p id="ps1"><span id="s2"><em id="e1"/></span></p></section>
<div id="d2" class="md:flex новости"><a id="a1" href="https://example.org/doc.pdf">pdf</a><a id="a2" href="/news/1">n</a><a id="a3">none</a></div>
<div id="123"/>
</body></html>)";

class CssTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(doc_.load_string(kPage)); }

  // The ids of the elements `selector` matches, in document order: in the whole page, or
  // among the descendants of the element with id `context`.
  std::vector<std::string> Match(std::string_view selector, const char* context = nullptr) {
    XPathOrError translated = CssToXPath(selector, context != nullptr);
    if (!translated.error.empty()) return {"error: " + translated.error};
    pugi::xml_node root = doc_;
    if (context != nullptr) {
      root = doc_.find_node(
          [&](pugi::xml_node n) { return std::string_view(n.attribute("id").value()) == context; });
      if (!root) return {"no context element"};
    }
    pugi::xpath_node_set hits = root.select_nodes(translated.xpath.c_str());
    hits.sort();
    std::vector<std::string> ids;
    for (const auto& hit : hits) ids.emplace_back(hit.node().attribute("id").value());
    return ids;
  }

  pugi::xml_document doc_;
};

using Ids = std::vector<std::string>;

std::string XPath(std::string_view selector, bool relative = false) {
  XPathOrError translated = CssToXPath(selector, relative);
  return translated.error.empty() ? translated.xpath : "error: " + translated.error;
}

std::string Error(std::string_view selector) { return CssToXPath(selector, false).error; }

// --- The XPath written for each form -------------------------------------------------

TEST(CssXPathText, TypeAndUniversalSelectorsSearchTheDocumentOrTheDescendants) {
  EXPECT_EQ(XPath("div"), "//div");
  EXPECT_EQ(XPath("*"), "//*");
  EXPECT_EQ(XPath("a", /*relative=*/true), ".//a");
  EXPECT_EQ(XPath("  DIV  "), "//div");
}

TEST(CssXPathText, ClassIsAWholeWordOfTheClassAttribute) {
  EXPECT_EQ(XPath("a.title", true),
            ".//a[contains(concat(' ', normalize-space(@class), ' '), ' title ')]");
  EXPECT_EQ(XPath("#main"), "//*[@id = 'main']");
}

TEST(CssXPathText, AttributeOperators) {
  EXPECT_EQ(XPath("[HREF]"), "//*[@href]");
  EXPECT_EQ(XPath("a[rel=nofollow]"), "//a[@rel = 'nofollow']");
  EXPECT_EQ(XPath("a[href^='https:']"), "//a[starts-with(@href, 'https:')]");
  EXPECT_EQ(XPath("a[href$=\".pdf\"]"),
            "//a[substring(@href, string-length(@href) - string-length('.pdf') + 1) = '.pdf']");
  EXPECT_EQ(XPath("a[href*=news]"), "//a[contains(@href, 'news')]");
  EXPECT_EQ(XPath("[lang|=en]"), "//*[(@lang and (@lang = 'en' or starts-with(@lang, 'en-')))]");
  EXPECT_EQ(XPath("[rel~=tag]"), "//*[contains(concat(' ', normalize-space(@rel), ' '), ' tag ')]");
  // XPath 1.0 has no escapes: a value with both quotes is built with concat().
  EXPECT_EQ(XPath(R"([title="it's \"x\""])"), R"(//*[@title = concat('it', "'", 's "x"')])");
}

TEST(CssXPathText, Combinators) {
  EXPECT_EQ(XPath("ul li"), "//ul//li");
  EXPECT_EQ(XPath("div > p"), "//div/p");
  EXPECT_EQ(XPath("div>p"), "//div/p");
  EXPECT_EQ(XPath("h2 + p"), "//h2/following-sibling::*[1]/self::p");
  EXPECT_EQ(XPath("h2 ~ p"), "//h2/following-sibling::p");
  EXPECT_EQ(XPath("h1, h2"), "//h1 | //h2");
  EXPECT_EQ(XPath("h1, h2", true), ".//h1 | .//h2");
}

TEST(CssXPathText, NthChildUsesThePositionOnChildSteps) {
  // position() on a child step is linear; counting siblings is quadratic on long lists.
  EXPECT_EQ(XPath("li:nth-child(2n+1)"), "//*[position() mod 2 = 1][self::li]");
  EXPECT_EQ(XPath("li:nth-child(even)"), "//*[position() mod 2 = 0][self::li]");
  EXPECT_EQ(XPath("ul > li:nth-child(3)"), "//ul/*[position() = 3][self::li]");
  EXPECT_EQ(XPath("li:nth-last-child(-n+2)"), "//*[last() - position() <= 1][self::li]");
  EXPECT_EQ(XPath("li:nth-child(n)"), "//li");
  EXPECT_EQ(XPath("p:nth-of-type(2)"), "//p[position() = 2]");
  EXPECT_EQ(XPath("li:first-child"), "//li[not(preceding-sibling::*)]");
}

TEST(CssXPathText, NthChildCountsSiblingsAfterSiblingCombinators) {
  EXPECT_EQ(XPath("h2 ~ p:nth-child(2n+1)"),
            "//h2/following-sibling::p[count(preceding-sibling::*) mod 2 = 0]");
  EXPECT_EQ(XPath("h2 + p:nth-of-type(2)"),
            "//h2/following-sibling::*[1]/self::p[count(preceding-sibling::p) = 1]");
  EXPECT_EQ(XPath("li:not(:nth-child(3))"), "//li[not(count(preceding-sibling::*) = 2)]");
}

TEST(CssXPathText, NotAndAttributes) {
  EXPECT_EQ(XPath("li:not(.a)"),
            "//li[not(contains(concat(' ', normalize-space(@class), ' '), ' a '))]");
}

TEST(CssXPathText, XPathPrefixPassesTheExpressionThrough) {
  EXPECT_EQ(XPath("xpath://div[@id='x']/a"), "//div[@id='x']/a");
  EXPECT_EQ(XPath("xpath:.//a/@href", true), ".//a/@href");
}

TEST(CssXPathText, OddNamesAreComparedThroughName) {
  // An escaped ':' cannot stand in an XPath name test.
  EXPECT_EQ(XPath("fb\\:like"), "//*[name() = 'fb:like']");
  EXPECT_EQ(XPath("[xlink\\:href]"), "//*[@*[name() = 'xlink:href']]");
}

// --- What the selectors match -------------------------------------------------------

TEST_F(CssTest, TypeSelectorsMatchCaseInsensitively) {
  EXPECT_EQ(Match("p"), (Ids{"pa1", "pa2", "pa3", "ps1"}));
  EXPECT_EQ(Match("SPAN"), (Ids{"s1", "s2"}));
  EXPECT_EQ(Match("section *"), (Ids{"ps1", "s2", "e1"}));
}

TEST_F(CssTest, ClassMatchesWholeWordsWhateverTheSpacing) {
  EXPECT_EQ(Match(".a"), (Ids{"l1", "l2"}));
  EXPECT_EQ(Match(".b"), (Ids{"l2", "l3"}));
  EXPECT_EQ(Match("li.a.b"), (Ids{"l2"}));
  EXPECT_EQ(Match(".ab"), Ids{});
  EXPECT_EQ(Match(".md\\:flex"), (Ids{"d2"}));
  EXPECT_EQ(Match(".новости"), (Ids{"d2"}));
}

TEST_F(CssTest, IdMatchesExactlyAndAcceptsEscapes) {
  EXPECT_EQ(Match("#l3"), (Ids{"l3"}));
  EXPECT_EQ(Match("#L3"), Ids{});
  EXPECT_EQ(Match("#\\31 23"), (Ids{"123"}));  // "#123" written as CSS requires
  EXPECT_EQ(Match("#123"), (Ids{"123"}));      // and as people write it
}

TEST_F(CssTest, AttributeSelectors) {
  EXPECT_EQ(Match("[lang]"), (Ids{"l4", "l5"}));
  EXPECT_EQ(Match("[lang=en]"), (Ids{"l5"}));
  EXPECT_EQ(Match("[lang=\"en-US\"]"), (Ids{"l4"}));
  EXPECT_EQ(Match("[lang=EN i]"), (Ids{"l5"}));
  EXPECT_EQ(Match("[lang|=en]"), (Ids{"l4", "l5"}));
  EXPECT_EQ(Match("[data-x~=bar]"), (Ids{"l6"}));
  EXPECT_EQ(Match("[data-x~='foo bar']"), Ids{});
  EXPECT_EQ(Match("[data-x^=foo]"), (Ids{"l6"}));
  EXPECT_EQ(Match("[data-x^='']"), Ids{});
  EXPECT_EQ(Match("[data-x$=baz]"), (Ids{"l6"}));
  EXPECT_EQ(Match("[data-x$=ba]"), Ids{});
  EXPECT_EQ(Match("[data-x*='o b']"), (Ids{"l6"}));
  EXPECT_EQ(Match(R"([title='O\'Neil said "hi"'])"), (Ids{"l7"}));
  EXPECT_EQ(Match("a[href$='.pdf']"), (Ids{"a1"}));
  EXPECT_EQ(Match("a[href^=/news/]"), (Ids{"a2"}));
  EXPECT_EQ(Match("a:not([href])"), (Ids{"a3"}));
}

TEST_F(CssTest, CompoundSelectorNeedsEveryPart) {
  EXPECT_EQ(Match("li.b[lang]"), Ids{});
  EXPECT_EQ(Match("li.b:first-child"), Ids{});
  EXPECT_EQ(Match("li.a:first-child"), (Ids{"l1"}));
  EXPECT_EQ(Match("div#d2 > a[href]"), (Ids{"a1", "a2"}));
}

TEST_F(CssTest, NthChildOddEvenAndFormulas) {
  EXPECT_EQ(Match("li:nth-child(2n+1)"), (Ids{"l1", "l3", "l5", "l7"}));
  EXPECT_EQ(Match("li:nth-child(odd)"), (Ids{"l1", "l3", "l5", "l7"}));
  EXPECT_EQ(Match("li:nth-child(EVEN)"), (Ids{"l2", "l4", "l6"}));
  EXPECT_EQ(Match("li:nth-child(3)"), (Ids{"l3"}));
  EXPECT_EQ(Match("li:nth-child( 3n - 1 )"), (Ids{"l2", "l5"}));
  EXPECT_EQ(Match("li:nth-child(3n)"), (Ids{"l3", "l6"}));
  EXPECT_EQ(Match("li:nth-child(-n+3)"), (Ids{"l1", "l2", "l3"}));
  EXPECT_EQ(Match("li:nth-child(n+5)"), (Ids{"l5", "l6", "l7"}));
  EXPECT_EQ(Match("li:nth-child(-2n+5)"), (Ids{"l1", "l3", "l5"}));
  EXPECT_EQ(Match("li:nth-child(n)").size(), 7u);
  EXPECT_EQ(Match("li:nth-child(0)"), Ids{});
  EXPECT_EQ(Match("li:nth-child(-n+0)"), Ids{});
  EXPECT_EQ(Match("li:nth-last-child(1)"), (Ids{"l7"}));
  EXPECT_EQ(Match("li:nth-last-child(-n+2)"), (Ids{"l6", "l7"}));
}

TEST_F(CssTest, FirstLastAndOnlyChild) {
  EXPECT_EQ(Match("li:first-child"), (Ids{"l1"}));
  EXPECT_EQ(Match("li:last-child"), (Ids{"l7"}));
  EXPECT_EQ(Match("#d1 > :first-child"), (Ids{"h2a"}));
  EXPECT_EQ(Match("li:only-child"), Ids{});
  EXPECT_EQ(Match("section :only-child"), (Ids{"ps1", "s2", "e1"}));
}

TEST_F(CssTest, OfTypePseudoClassesCountOnlyTheirType) {
  EXPECT_EQ(Match("#d1 > p:nth-of-type(2)"), (Ids{"pa2"}));
  EXPECT_EQ(Match("p:first-of-type"), (Ids{"pa1", "ps1"}));
  EXPECT_EQ(Match("p:last-of-type"), (Ids{"pa3", "ps1"}));
  EXPECT_EQ(Match("p:only-of-type"), (Ids{"ps1"}));
  EXPECT_EQ(Match("#d1 > p:nth-last-of-type(1)"), (Ids{"pa3"}));
  EXPECT_EQ(Match("#d1 > :nth-child(2)"), (Ids{"pa1"}));
  EXPECT_EQ(Match("#d1 > p:not(:first-of-type)"), (Ids{"pa2", "pa3"}));
}

TEST_F(CssTest, NthTestsAgreeWhicheverWayTheyCount) {
  // Through a sibling combinator (counted) and through a child step (positional).
  EXPECT_EQ(Match("#l1 ~ li:nth-child(2n+1)"), (Ids{"l3", "l5", "l7"}));
  EXPECT_EQ(Match("#list > li:nth-child(2n+1)"), (Ids{"l1", "l3", "l5", "l7"}));
  EXPECT_EQ(Match("h2 ~ p:nth-of-type(2)"), (Ids{"pa2"}));
  EXPECT_EQ(Match("h2 + p:nth-child(2)"), (Ids{"pa1"}));
  EXPECT_EQ(Match("li:not(:nth-child(-n+5))"), (Ids{"l6", "l7"}));
  // Both kinds on one element: one by position, the other counted.
  EXPECT_EQ(Match("#d1 > p:nth-child(4):nth-of-type(2)"), Ids{});
  EXPECT_EQ(Match("#d1 > p:nth-child(5):nth-of-type(3)"), (Ids{"pa3"}));
  EXPECT_EQ(Match("#d1 > p:nth-of-type(3):nth-child(odd)"), (Ids{"pa3"}));
  EXPECT_EQ(Match("p:nth-last-of-type(2)"), (Ids{"pa2"}));
  EXPECT_EQ(Match("#d1 > :nth-last-child(2)"), (Ids{"s1"}));
  // Class and position together: the position counts all children, not only matches.
  EXPECT_EQ(Match("li.b:nth-child(2)"), (Ids{"l2"}));
  EXPECT_EQ(Match("li.b:nth-child(1)"), Ids{});
}

TEST(CssPerformance, NthChildOnALongListIsLinear) {
  std::string xml = "<ul>";
  for (int i = 0; i < 50000; ++i) xml += "<li/>";
  xml += "</ul>";
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  XPathOrError translated = CssToXPath("ul > li:nth-child(2n+1)", false);
  ASSERT_EQ(translated.error, "");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(doc.select_nodes(translated.xpath.c_str()).size(), 25000u);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[          ] nth-child over 50000 siblings: " << ms << " ms\n";
}

TEST_F(CssTest, NotExcludesSimpleSelectorsAndLists) {
  EXPECT_EQ(Match("li:not(.a)"), (Ids{"l3", "l4", "l5", "l6", "l7"}));
  EXPECT_EQ(Match("li:not(.a, .b)"), (Ids{"l4", "l5", "l6", "l7"}));
  EXPECT_EQ(Match("li:not([lang]):not([class])"), (Ids{"l6", "l7"}));
  EXPECT_EQ(Match("#d1 > :not(p)"), (Ids{"h2a", "s1"}));
  EXPECT_EQ(Match("#d1 > *:not(p):not(h2)"), (Ids{"s1"}));
}

TEST_F(CssTest, SiblingCombinators) {
  EXPECT_EQ(Match("h2 + p"), (Ids{"pa1"}));
  EXPECT_EQ(Match("h2 ~ p"), (Ids{"pa1", "pa2", "pa3"}));
  EXPECT_EQ(Match("span + p"), (Ids{"pa3"}));
  EXPECT_EQ(Match("h2 + span"), Ids{});
  EXPECT_EQ(Match("h2 ~ span"), (Ids{"s1"}));
  EXPECT_EQ(Match("#l1 + li + li"), (Ids{"l3"}));
}

TEST_F(CssTest, ChildAndDescendantCombinators) {
  EXPECT_EQ(Match("#sec > p"), (Ids{"ps1"}));
  EXPECT_EQ(Match("#sec > span"), Ids{});
  EXPECT_EQ(Match("#sec span"), (Ids{"s2"}));
  EXPECT_EQ(Match("body > div > a"), (Ids{"a1", "a2", "a3"}));
}

TEST_F(CssTest, SelectorListsMatchInDocumentOrderWithoutDuplicates) {
  EXPECT_EQ(Match("h2, #l1"), (Ids{"l1", "h2a"}));
  EXPECT_EQ(Match("#l1, li.a, li:first-child"), (Ids{"l1", "l2"}));
}

TEST_F(CssTest, RelativeSelectorsSearchOnlyBelowTheContextElement) {
  EXPECT_EQ(Match("p", "d1"), (Ids{"pa1", "pa2", "pa3"}));
  EXPECT_EQ(Match("div", "d1"), Ids{});  // not the context element itself
  EXPECT_EQ(Match("*", "sec"), (Ids{"ps1", "s2", "e1"}));
  EXPECT_EQ(Match("h2 + p, span", "d1"), (Ids{"pa1", "s1"}));
  EXPECT_EQ(Match("a[href]", "d2"), (Ids{"a1", "a2"}));
}

TEST_F(CssTest, FirstMatchOfAUnionIsInDocumentOrder) {
  // Fields take the first match: with a list that must be the first on the page, not the
  // first of the first alternative.
  XPathOrError translated = CssToXPath("#a2, #a1", true);
  ASSERT_EQ(translated.error, "");
  pugi::xml_node d2 = doc_.find_node(
      [](pugi::xml_node n) { return std::string_view(n.attribute("id").value()) == "d2"; });
  EXPECT_STREQ(d2.select_node(translated.xpath.c_str()).node().attribute("id").value(), "a1");
}

TEST_F(CssTest, XPathSelectorsRunAsWritten) {
  EXPECT_EQ(Match("xpath://li[@lang]"), (Ids{"l4", "l5"}));
  EXPECT_EQ(Match("xpath:.//p", "d1"), (Ids{"pa1", "pa2", "pa3"}));
}

// --- Errors -------------------------------------------------------------------------

TEST(CssErrors, BadSyntaxNamesTheCharacterAndItsOffset) {
  EXPECT_EQ(Error("div > )"), "unexpected ')' at offset 7 in 'div > )'");
  EXPECT_EQ(Error("div >"), "unexpected end of selector at offset 6 in 'div >'");
  EXPECT_EQ(Error("a,"), "unexpected end of selector at offset 3 in 'a,'");
  EXPECT_EQ(Error(",a"), "unexpected ',' at offset 1 in ',a'");
  EXPECT_EQ(Error("a > > b"), "unexpected '>' at offset 5 in 'a > > b'");
  EXPECT_EQ(Error("a[href"), "unexpected end of selector at offset 7 in 'a[href'");
  EXPECT_EQ(Error("a[href=]"), "unexpected ']' at offset 8 in 'a[href=]'");
  EXPECT_EQ(Error("a[href==x]"), "unexpected '=' at offset 8 in 'a[href==x]'");
  EXPECT_EQ(Error("a[href=\"x]"), "unterminated string at offset 8 in 'a[href=\"x]'");
  EXPECT_EQ(Error("a."), "unexpected end of selector at offset 3 in 'a.'");
  EXPECT_EQ(Error("ns|a"), "unexpected '|' at offset 3 in 'ns|a'");
  EXPECT_EQ(Error("a\x01"), "unexpected '\\x01' at offset 2 in 'a\\x01'");
}

TEST(CssErrors, EmptySelector) {
  EXPECT_EQ(Error(""), "empty selector");
  EXPECT_EQ(Error("  \t"), "empty selector");
  EXPECT_EQ(Error("xpath:"), "empty XPath after 'xpath:'");
}

TEST(CssErrors, UnsupportedPseudoClassesAreNamed) {
  EXPECT_EQ(Error("a:hover"), "unsupported pseudo-class ':hover' at offset 2 in 'a:hover'");
  EXPECT_EQ(Error("div:has(a)"), "unsupported pseudo-class ':has()' at offset 4 in 'div:has(a)'");
  EXPECT_EQ(Error("p::before"),
            "pseudo-elements ('::before') are not supported at offset 2 in 'p::before'");
  EXPECT_EQ(Error(":not(:not(a))"),
            "nested :not() is not supported at offset 6 in ':not(:not(a))'");
  EXPECT_EQ(Error(":first-of-type"),
            "':first-of-type' needs an element type (as in 'li:first-of-type') at offset 1 in "
            "':first-of-type'");
  EXPECT_EQ(Error("a:not(b c)"), "unexpected 'c' at offset 9 in 'a:not(b c)'");
}

TEST(CssErrors, BadNthArgument) {
  EXPECT_EQ(Error("li:nth-child(foo)"),
            "bad argument 'foo' to :nth-child() at offset 14 in 'li:nth-child(foo)'");
  EXPECT_EQ(Error("li:nth-child(2n+)"),
            "bad argument '2n+' to :nth-child() at offset 14 in 'li:nth-child(2n+)'");
  EXPECT_EQ(Error("li:nth-child(1234567890)"),
            "bad argument '1234567890' to :nth-child() at offset 14 in "
            "'li:nth-child(1234567890)'");
  EXPECT_EQ(Error("li:nth-child(2"), "unexpected end of selector at offset 15 in 'li:nth-child(2'");
}

TEST(CssErrors, BadXPathIsReportedByPugixml) {
  EXPECT_EQ(Error("xpath://a["), "bad XPath '//a[': Unrecognized node test at offset 5");
  EXPECT_EQ(Error("xpath:count(//a)"), "bad XPath 'count(//a)': it does not select elements");
}

TEST(CssErrors, OverlongSelectorIsRefused) {
  EXPECT_EQ(Error(std::string(5000, 'a')), "selector longer than 4096 bytes");
  // Many parts within the byte cap still make a bounded XPath.
  std::string many;
  for (int i = 0; i < 400; ++i) many += "a:not(.b), ";
  many += "a";
  XPathOrError translated = CssToXPath(many, false);
  EXPECT_TRUE(translated.xpath.empty() != translated.error.empty());
  EXPECT_LE(translated.xpath.size(), 64u * 1024);
}

// Any bytes: no crash, exactly one of XPath and error, a bounded XPath that pugixml
// compiles. Mutations of real selectors reach deeper than random bytes alone.
TEST(CssFuzz, AnyInputGivesAnXPathThatCompilesOrAnError) {
  const std::vector<std::string> seeds = {
      "div.news > a[href^='http']:not(.ad)", "li:nth-child(2n+1) ~ p + span, #x",
      "[data-x~=\"a b\" i] :first-of-type",  "a\\:b\\31 23 .c\\ d",
      "*:nth-last-of-type(-n + 3)",
  };
  const std::string alphabet = " \t\n.#[]()=~^$*|:,>+'\"\\-_aZ09n\xD0\xB0\x80\xFF";
  std::mt19937 random(12345);
  std::size_t translated_count = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string input = seeds[random() % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 6);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = input.empty() ? 0 : random() % (input.size() + 1);
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0:
          input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 1:
          if (at < input.size()) input.erase(at, 1);
          break;
        default:
          if (at < input.size()) input[at] = c;
      }
    }
    for (bool relative : {false, true}) {
      XPathOrError result = CssToXPath(input, relative);
      ASSERT_NE(result.xpath.empty(), result.error.empty()) << input;
      ASSERT_LE(result.xpath.size(), 64u * 1024) << input;
      if (result.xpath.empty()) continue;
      ++translated_count;
      pugi::xpath_query query(result.xpath.c_str());
      ASSERT_TRUE(query.result()) << input << " -> " << result.xpath;
    }
  }
  // The mutations keep enough selectors valid for the check to mean something.
  EXPECT_GT(translated_count, 2000u);
}

}  // namespace
}  // namespace newsmon::parse
