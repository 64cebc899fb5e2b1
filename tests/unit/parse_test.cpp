// parse::Parse as a whole: format detection, errors versus warnings, limits, item ids and
// the XML safety rules. Field-by-field behaviour on realistic documents is covered by the
// fixtures (parse_fixtures_test); the building blocks by their own tests.
#include "daemon/parse/parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "daemon/parse/utf8.h"

namespace newsmon::parse {
namespace {

using core::SourceKind;
using ::testing::HasSubstr;

std::string Rss(const std::string& items) {
  return "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
         "<link>https://example.com/</link>" +
         items + "</channel></rss>";
}

Result ParseText(const std::string& body, Options options = {}) { return Parse(body, options); }

TEST(ParseDetect, EachFormatFromTheContent) {
  EXPECT_EQ(ParseText(Rss("")).feed->format, SourceKind::kRss);
  EXPECT_EQ(
      ParseText("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>A</title></feed>").feed->format,
      SourceKind::kAtom);
  EXPECT_EQ(ParseText("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
                      "xmlns=\"http://purl.org/rss/1.0/\"><channel/></rdf:RDF>")
                .feed->format,
            SourceKind::kRdf);
  EXPECT_EQ(ParseText("  {\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": []}")
                .feed->format,
            SourceKind::kJson);
}

TEST(ParseDetect, PrologBeforeTheRootIsSkipped) {
  auto result = ParseText(
      "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"s.xsl\"?>\n"
      "<!-- licence -->\n<!DOCTYPE rss [<!ENTITY x \"y\">]>\n" +
      Rss("").substr(21));
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.feed->format, SourceKind::kRss);
}

TEST(ParseErrors, EmptyAndGarbageAreErrorsNotEmptyFeeds) {
  EXPECT_EQ(ParseText("").error, "the document is empty");
  EXPECT_EQ(ParseText("   \n").error, "the document is empty");
  EXPECT_EQ(ParseText("hello world").error, "not a feed or a page: neither markup nor JSON");
}

TEST(ParseErrors, HtmlPageWithoutSelectorsSaysWhatItNeeds) {
  auto result = ParseText("<!DOCTYPE html><html><body><p>news</p></body></html>");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("HTML page"), std::string::npos) << result.error;
}

TEST(ParseErrors, UnknownXmlRootIsNamed) {
  auto result = ParseText("<?xml version=\"1.0\"?><catalog><book/></catalog>");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("HTML page"), std::string::npos) << result.error;
}

TEST(ParseErrors, JsonThatIsNotAFeed) {
  EXPECT_EQ(ParseText("{\"items\": []}").error,
            "not a JSON Feed: \"version\" is not a https://jsonfeed.org/version/ URL");
  EXPECT_NE(ParseText("{\"version\": ").error.find("JSON error at byte"), std::string::npos);
}

TEST(ParseErrors, JsonNumberPastDoubleIsAnErrorNotACrash) {
  auto result = ParseText("{\"version\":\"https://jsonfeed.org/version/1\",\"x\":1e400}");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.error.starts_with("JSON error: ")) << result.error;
}

TEST(ParseLimits, InputOverMaxBytesIsAnError) {
  Options options;
  options.limits.max_bytes = 100;
  auto result = Parse(std::string(101, ' '), options);
  EXPECT_EQ(result.error, "the document is 101 bytes, over the limit of 100");
}

TEST(ParseLimits, ItemsPastMaxItemsAreDroppedWithOneWarning) {
  std::string items;
  for (int i = 0; i < 5; ++i) items += "<item><title>t" + std::to_string(i) + "</title></item>";
  Options options;
  options.limits.max_items = 3;
  auto result = Parse(Rss(items), options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.feed->items.size(), 3u);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0], "more than 3 items: the rest are dropped");
}

TEST(ParseLimits, JsonNestingPastMaxDepthIsAnError) {
  std::string deep = "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[],\"x\":" +
                     std::string(300, '[') + std::string(300, ']') + "}";
  auto result = ParseText(deep);
  EXPECT_EQ(result.error, "JSON nested deeper than 256 levels");
}

TEST(ParseLimits, XmlNestingPastMaxDepthIsAnError) {
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<b>";
  for (int i = 0; i < 300; ++i) deep += "</b>";
  auto result =
      ParseText(Rss("<item><title>t</title><description>" + deep + "</description></item>"));
  EXPECT_EQ(result.error, "XML nested deeper than 256 levels");
}

std::string Nested(int depth, std::string_view inner = "x") {
  std::string out;
  for (int i = 0; i < depth; ++i) out += "<b>";
  out += inner;
  for (int i = 0; i < depth; ++i) out += "</b>";
  return out;
}

// The limit counts the elements inside a field read for its text: 256 levels pass, 257 do
// not, wherever the field is (a category, the channel's title).
TEST(ParseLimits, XmlNestingIsCountedInTheFieldsRead) {
  auto at_limit =
      ParseText(Rss("<item><title>t</title><description>" + Nested(256) + "</description></item>"));
  ASSERT_TRUE(at_limit.ok()) << at_limit.error;
  EXPECT_EQ(at_limit.feed->items.at(0).summary, "x");
  for (std::string items : {"<item><title>t</title><category>" + Nested(257) + "</category></item>",
                            "<item><title>" + Nested(257) + "</title></item>"}) {
    EXPECT_EQ(ParseText(Rss(items)).error, "XML nested deeper than 256 levels") << items;
  }
  std::string channel_title = "<rss version=\"2.0\"><channel><title>" + Nested(257) +
                              "</title><item><title>t</title></item></channel></rss>";
  EXPECT_EQ(ParseText(channel_title).error, "XML nested deeper than 256 levels");
}

// Only real elements count, not what merely looks like one inside CDATA, comments or
// attribute values; markup nobody reads costs only its bytes, however deep.
TEST(ParseLimits, XmlNestingCountsOnlyElementsThatAreRead) {
  std::string looks_deep;
  for (int i = 0; i < 300; ++i) looks_deep += "<b>";
  std::string items = "<item><title>t</title><description><![CDATA[" + looks_deep +
                      "]]></description>"
                      "<!-- " +
                      looks_deep + " --><category domain=\"" + std::string(300, '>') +
                      "\">c</category><unknown>" + Nested(100'000) + "</unknown>";
  for (int i = 0; i < 300; ++i) items += "<x/>";
  items += "</item>";
  auto result = ParseText(Rss(items));
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.feed->items.at(0).categories, std::vector<std::string>{"c"});
}

// A document cut off a million levels deep inside an item: the item is dropped (it is
// unfinished) without walking or freeing its subtree recursively, and the items before it
// are kept.
TEST(ParseLimits, AnUnfinishedItemNestedAMillionDeepIsDropped) {
  std::string doc = "<rss version=\"2.0\"><channel><item><title>kept</title></item><item>";
  for (int i = 0; i < 1'000'000; ++i) doc += "<b>";
  auto result = ParseText(doc);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.feed->items.size(), 1u);
  EXPECT_EQ(result.feed->items[0].title, "kept");
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_THAT(result.warnings[0], HasSubstr("items after it are lost"));
}

TEST(ParseLimits, LongFieldsAreCutAtTheLimit) {
  Options options;
  options.limits.max_text_bytes = 10;
  auto result = Parse(Rss("<item><title>" + std::string(50, 'x') + "</title></item>"), options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.feed->items.at(0).title, std::string(10, 'x'));
}

// Links that resolution would change are told from plain ones wherever the telling bytes
// are: a percent escape or a dot segment at any position of a long link.
TEST(ParseLinks, APlainLinkIsCheckedAtEveryPosition) {
  const std::string head = "https://a.example/";
  const std::string path(60, 'p');
  for (std::size_t at = 0; at <= path.size(); ++at) {
    const std::string before = head + path.substr(0, at), after = path.substr(at);
    for (auto [raw, resolved] : {std::pair{before + "%41" + after, before + "A" + after},
                                 std::pair{before + "/./" + after, before + "/" + after}}) {
      auto result = ParseText(Rss("<item><title>t</title><link>" + raw + "</link></item>"));
      ASSERT_TRUE(result.ok()) << result.error;
      EXPECT_EQ(result.feed->items.at(0).link, resolved) << raw;
    }
  }
}

TEST(ParseIds, GuidThenCanonicalLinkThenHash) {
  auto result =
      ParseText(Rss("<item><title>a</title><guid isPermaLink=\"false\"> tag:x,2023:1 </guid>"
                    "<link>https://example.com/a</link></item>"
                    "<item><title>b</title><link>HTTPS://Example.com:443/b#top</link></item>"
                    "<item><title>c</title></item>"));
  ASSERT_TRUE(result.ok());
  const auto& items = result.feed->items;
  EXPECT_EQ(items[0].id, "tag:x,2023:1");
  EXPECT_EQ(items[0].link, "https://example.com/a");
  EXPECT_EQ(items[1].id, "https://example.com/b");
  EXPECT_EQ(items[1].link, "HTTPS://Example.com:443/b#top");
  EXPECT_TRUE(items[2].id.starts_with("urn:newsmon:")) << items[2].id;
  EXPECT_EQ(items[2].id.size(), std::string("urn:newsmon:").size() + 16);
}

TEST(ParseIds, HashIdIsStableAndDependsOnTitleAndDate) {
  auto id = [](const std::string& item) { return ParseText(Rss(item)).feed->items.at(0).id; };
  std::string plain = "<item><title>Same</title></item>";
  EXPECT_EQ(id(plain), id(plain));
  // FNV-1a 64 of "Same\n": a fixed value, so ids survive rebuilds and restarts.
  EXPECT_EQ(id(plain), "urn:newsmon:704fdc73fa748c43");
  EXPECT_NE(id(plain), id("<item><title>Other</title></item>"));
}

TEST(ParseItems, SourceNameIsCopiedIntoEveryItem) {
  Options options{.source_name = "tass-ru"};
  auto result = Parse(Rss("<item><title>a</title></item><item><title>b</title></item>"), options);
  ASSERT_TRUE(result.ok());
  for (const auto& item : result.feed->items) EXPECT_EQ(item.source, "tass-ru");
}

// Text, CDATA and child elements mixed in one field come out in document order, whichever
// comes first; block elements separate words, inline ones do not.
TEST(ParseItems, MixedContentKeepsDocumentOrder) {
  auto result = ParseText(
      Rss("<item><title>x<![CDATA[ & y]]> z<b>!</b></title>"
          "<description>a <b>b</b>c<p>d</p>e &amp;lt;i&amp;gt; f</description>"
          "<category><![CDATA[one]]> two</category><link>\n  https://a.example/1  \n</link>"
          "</item>"));
  ASSERT_TRUE(result.ok()) << result.error;
  const auto& item = result.feed->items.at(0);
  EXPECT_EQ(item.title, "x & y z!");
  EXPECT_EQ(item.summary, "a bc d e <i> f");  // double-escaped markup is text
  EXPECT_EQ(item.categories, std::vector<std::string>{"one two"});
  EXPECT_EQ(item.link, "https://a.example/1");
}

TEST(ParseItems, ConfiguredKindThatDisagreesIsAWarningNotAnError) {
  Options options{.kind = SourceKind::kAtom};
  auto result = Parse(Rss("<item><title>a</title></item>"), options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.feed->format, SourceKind::kRss);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0], "configured as kind atom but the document is rss");
}

TEST(ParseXmlSafety, NumericReferencesNeverTruncateOrBreakUtf8) {
  auto result =
      ParseText(Rss("<item><title>a&#0;b&#xD800;c&#x110000;d&#99999999999;e</title>"
                    "</item>"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.feed->items.at(0).title,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD"
            "d\xEF\xBF\xBD"
            "e");
}

TEST(ParseXmlSafety, RawNulBytesDoNotEndTheDocument) {
  std::string body = Rss("<item><title>a</title></item><item><title>b</title></item>");
  body.insert(body.find("<title>a") + 7, 1, '\0');
  auto result = ParseText(body);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.feed->items.size(), 2u);
}

TEST(ParseXmlSafety, BillionLaughsStaysInert) {
  std::string dtd = "<!DOCTYPE rss [<!ENTITY lol \"lol\">";
  for (int i = 1; i < 10; ++i) {
    dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j)
      dtd += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    dtd += "\">";
  }
  dtd += "]>";
  auto result = ParseText("<?xml version=\"1.0\"?>" + dtd +
                          "<rss><channel><item><title>&lol9;</title></item></channel></rss>");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.feed->items.at(0).title, "&lol9;");
}

TEST(ParseXmlSafety, ExternalEntitiesAreNeverRead) {
  auto result = ParseText(
      "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
      "<rss><channel><item><title>x&xxe;y</title></item></channel></rss>");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.feed->items.at(0).title, "x&xxe;y");
}

TEST(ParseXmlErrors, TruncatedFeedKeepsTheItemsBeforeTheBreak) {
  std::string body = Rss("<item><title>one</title></item><item><title>two</title></item>");
  body.resize(body.find("<item><title>two") + 15);
  auto result = ParseText(body);
  ASSERT_TRUE(result.ok()) << result.error;
  // The item cut short is dropped, not read with half a title.
  ASSERT_EQ(result.feed->items.size(), 1u);
  EXPECT_EQ(result.feed->items[0].title, "one");
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find("items after it are lost"), std::string::npos);
}

TEST(ParseXmlErrors, BrokenBeforeAnyItemIsAnError) {
  auto result = ParseText("<?xml version=\"1.0\"?><rss><channel><title>x</chan");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.error.starts_with("XML error at byte ")) << result.error;
}

TEST(ParseOutput, EveryFieldIsValidUtf8EvenFromInvalidInput) {
  auto result =
      ParseText(Rss("<item><title>ok \xFF\xFE bad</title>"
                    "<description>\xC3\x28</description></item>"));
  ASSERT_TRUE(result.ok()) << result.error;
  const auto& item = result.feed->items.at(0);
  EXPECT_TRUE(IsValidUtf8(item.title));
  EXPECT_TRUE(IsValidUtf8(*item.summary));
}

}  // namespace
}  // namespace newsmon::parse
