// `newsmon fetch` as a user runs it: a feed file or a configured source read from a file,
// printed as text or JSON lines; usage errors exit 2, unreadable sources exit 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/support/http_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

using test::Contains;
using test::RunProcess;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;

constexpr char kFeed[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>\n"
    "<title>Steppe News</title><link>https://news.example.kz/</link>\n"
    "<item><title>Kazakhstan &amp;amp; China open a &lt;b&gt;new&lt;/b&gt; rail link</title>\n"
    "<link>/en/1</link><guid isPermaLink=\"false\">sn-1</guid>\n"
    "<pubDate>Tue, 26 Sep 2023 10:35:00 +0400</pubDate>\n"
    "<description><![CDATA[<p>The <b>Middle Corridor</b>&nbsp;grows.</p>]]></description>\n"
    "<dc:creator>A. Writer</dc:creator><category>Transport</category>"
    "<category>Asia</category></item>\n"
    "<item><title>Second</title></item>\n"
    "</channel></rss>\n";

TEST(FetchCliTest, JsonPrintsOneObjectPerItemWithExactlyTheDocumentedKeys) {
  TempDir dir;
  auto path = dir.Write("feed.xml", kFeed).string();
  auto r = RunProcess({kBinary, "fetch", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "{\"id\":\"sn-1\",\"title\":\"Kazakhstan & China open a new rail link\","
            "\"link\":\"https://news.example.kz/en/1\",\"published\":\"2023-09-26T06:35:00Z\","
            "\"summary\":\"The Middle Corridor grows.\",\"author\":\"A. Writer\","
            "\"categories\":[\"Transport\",\"Asia\"],\"matches\":[]}\n"
            "{\"id\":\"urn:newsmon:c483d75b8b8fb295\",\"title\":\"Second\",\"link\":null,"
            "\"published\":null,\"summary\":null,\"author\":null,\"categories\":[],"
            "\"matches\":[]}\n");
}

TEST(FetchCliTest, TextOutputListsDateTitleAndLink) {
  TempDir dir;
  auto path = dir.Write("feed.xml", kFeed).string();
  auto r = RunProcess({kBinary, "fetch", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Steppe News — rss, 2 items, UTF-8\n"
            "\n"
            "2023-09-26T06:35:00Z  Kazakhstan & China open a new rail link\n"
            "                      https://news.example.kz/en/1\n"
            "\n"
            "                      Second\n");
}

TEST(FetchCliTest, KindForcesNothingButWarnsWhenTheDocumentDisagrees) {
  TempDir dir;
  auto path = dir.Write("feed.xml", kFeed).string();
  auto r = RunProcess({kBinary, "fetch", path, "--kind", "atom", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "newsmon fetch: " + path +
                       ": warning: configured as kind atom but the document is rss\n");
}

TEST(FetchCliTest, HtmlKindOnABarePathIsAUsageError) {
  TempDir dir;
  auto path = dir.Write("page.html", "<html><body></body></html>").string();
  auto r = RunProcess({kBinary, "fetch", path, "--kind", "html"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "an HTML page needs its selectors")) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(FetchCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunProcess({kBinary, "fetch"}).exit_code, 2);
  EXPECT_EQ(RunProcess({kBinary, "fetch", "x.xml", "--kind", "yaml"}).exit_code, 2);
  auto input_alone = RunProcess({kBinary, "fetch", "src", "--input", "x.xml"});
  EXPECT_EQ(input_alone.exit_code, 2);
  EXPECT_EQ(input_alone.err, "newsmon fetch: --input needs --config and a SOURCE name\n");
  auto html_url = RunProcess({kBinary, "fetch", "https://example.com/", "--kind", "html"});
  EXPECT_EQ(html_url.exit_code, 2);
  EXPECT_TRUE(Contains(html_url.err, "an HTML page needs its selectors")) << html_url.err;
}

// Over the network: a server of ours on 127.0.0.1.
TEST(FetchCliTest, UrlIsFetchedParsedAndPrinted) {
  test::TestHttpServer server;
  server.Handle("/feed.xml",
                test::Reply::Text(200, kFeed, {{"Content-Type", "application/rss+xml"}}));
  auto r = RunProcess({kBinary, "fetch", "--allow-private-networks", server.Url("/feed.xml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(r.out.starts_with("Steppe News — rss, 2 items, UTF-8\n")) << r.out;
  // Relative links resolve against the URL the feed came from.
  EXPECT_TRUE(Contains(r.out, "  " + server.Url("/en/1") + "\n")) << r.out;
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_TRUE(requests[0].Header("User-Agent").value_or("").starts_with("newsmon/"));
  EXPECT_EQ(requests[0].Header("Accept-Encoding"), "gzip, deflate");
}

TEST(FetchCliTest, LoopbackUrlIsRefusedUnlessAllowed) {
  test::TestHttpServer server;
  server.Handle("/feed.xml", test::Reply::Text(200, kFeed));
  auto r = RunProcess({kBinary, "fetch", server.Url("/feed.xml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "newsmon fetch: blocked: " + server.Url("/feed.xml") +
                       ": 127.0.0.1 is a loopback address (allow it with "
                       "allow_private_networks)\n");
  EXPECT_TRUE(server.Requests().empty());
}

TEST(FetchCliTest, FailedPollExitsOneWithItsOutcome) {
  test::TestHttpServer server;
  server.Handle("/gone", test::Reply::Text(404, "no such feed"));
  auto r = RunProcess({kBinary, "fetch", "--allow-private-networks", server.Url("/gone")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "newsmon fetch: http_4xx: " + server.Url("/gone") + ": HTTP 404\n");
}

TEST(FetchCliTest, ConfiguredSourceIsFetchedWithItsSettings) {
  test::TestHttpServer server;
  server.Handle("/feed.xml", test::Reply::Text(200, kFeed));
  TempDir dir;
  auto config = dir.Write("newsmon.yaml",
                          "state_dir: state\n"
                          "rules: []\n"
                          "sources:\n"
                          "  - name: steppe\n"
                          "    url: " +
                              server.Url("/feed.xml") +
                              "\n"
                              "    allow_private_networks: [127.0.0.1/32]\n"
                              "    user_agent: steppe-watcher/1.0\n"
                              "    headers: {X-Token: abc}\n")
                    .string();
  auto r = RunProcess({kBinary, "fetch", "--config", config, "steppe", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].Header("User-Agent"), "steppe-watcher/1.0");
  EXPECT_EQ(requests[0].Header("X-Token"), "abc");
}

TEST(FetchCliTest, MissingFileExitsOneNamingIt) {
  auto r = RunProcess({kBinary, "fetch", "/nonexistent/feed.xml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "newsmon fetch: /nonexistent/feed.xml: cannot open: No such file or directory\n");
}

TEST(FetchCliTest, DirectoryExitsOneSayingSo) {
  TempDir dir;
  auto r = RunProcess({kBinary, "fetch", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "newsmon fetch: " + dir.path().string() + ": is a directory, not a file\n");
}

TEST(FetchCliTest, UnparseableDocumentExitsOneWithTheReason) {
  TempDir dir;
  auto path = dir.Write("broken.xml", "<?xml version=\"1.0\"?><rss><channel><title>x</ch").string();
  auto r = RunProcess({kBinary, "fetch", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with("newsmon fetch: " + path + ": XML error at byte ")) << r.err;
  EXPECT_EQ(r.out, "");
}

constexpr char kPage[] =
    "<!DOCTYPE html><html><head><title>Caliber</title></head><body>\n"
    "<div class=\"latest-news\">\n"
    " <div class=\"news-item\"><a href=\"/en/a-1\"><span class=\"news-title\">Diplomat: "
    "Venezuela, Azerbaijan have favourable partnership relations</span></a>\n"
    "  <span class=\"news-date\">26 September 2023 - 10:35</span></div>\n"
    " <div class=\"news-item\"><a href=\"/en/a-2\"><span class=\"news-title\">Russia's Kursk "
    "subjected to drone attacks in past 24 hours</span></a>\n"
    "  <span class=\"news-date\">26 September 2023 - 10:21</span></div>\n"
    "</div></body></html>\n";

std::string WriteHtmlConfig(const TempDir& dir) {
  return dir
      .Write("newsmon.yaml",
             "state_dir: state\n"
             "rules: []\n"
             "sources:\n"
             "  - name: caliber-az\n"
             "    url: https://caliber.az/en/latest\n"
             "    kind: html\n"
             "    html:\n"
             "      item: \".latest-news .news-item\"\n"
             "      title: \".news-title\"\n"
             "      link: \"a@href\"\n"
             "      date: \".news-date\"\n"
             "      date_format: \"%d %B %Y - %H:%M\"\n"
             "      timezone: Asia/Baku\n")
      .string();
}

TEST(FetchCliTest, ConfiguredHtmlSourceReadsItsSelectorsFromTheConfig) {
  TempDir dir;
  auto config = WriteHtmlConfig(dir);
  auto page = dir.Write("page.html", kPage).string();
  auto r =
      RunProcess({kBinary, "fetch", "--config", config, "caliber-az", "--input", page, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "{\"id\":\"https://caliber.az/en/a-1\",\"title\":\"Diplomat: Venezuela, Azerbaijan "
            "have favourable partnership relations\",\"link\":\"https://caliber.az/en/a-1\","
            "\"published\":\"2023-09-26T06:35:00Z\",\"summary\":null,\"author\":null,"
            "\"categories\":[],\"matches\":[]}\n"
            "{\"id\":\"https://caliber.az/en/a-2\",\"title\":\"Russia's Kursk subjected to drone "
            "attacks in past 24 hours\",\"link\":\"https://caliber.az/en/a-2\","
            "\"published\":\"2023-09-26T06:21:00Z\",\"summary\":null,\"author\":null,"
            "\"categories\":[],\"matches\":[]}\n");
}

TEST(FetchCliTest, UnknownSourceSuggestsTheClosestName) {
  TempDir dir;
  auto config = WriteHtmlConfig(dir);
  auto r = RunProcess({kBinary, "fetch", "--config", config, "caliber-za", "--input", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "newsmon fetch: " + config +
                       ": no source named 'caliber-za'; did you mean 'caliber-az'?\n");
}

TEST(FetchCliTest, ItemSelectorMatchingNothingIsAnError) {
  TempDir dir;
  auto config = WriteHtmlConfig(dir);
  auto page = dir.Write("page.html", "<html><body><p>redesigned</p></body></html>").string();
  auto r = RunProcess({kBinary, "fetch", "--config", config, "caliber-az", "--input", page});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "newsmon fetch: caliber-az (" + page +
                       "): item selector '.latest-news .news-item' matched nothing on the page\n");
}

TEST(FetchCliTest, HelpHasExamples) {
  auto r = RunProcess({kBinary, "fetch", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.out, "Examples:\n  newsmon fetch feed.xml\n")) << r.out;
}

}  // namespace
}  // namespace newsmon
