// URL and time helpers of core: link resolution, canonical links (the dedup key of items
// without a guid) and RFC 3339 output.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon/core/time.h"
#include "daemon/core/url.h"

namespace newsmon::core {
namespace {

using namespace std::chrono;

TEST(ResolveUrl, RelativePathAgainstPageUrl) {
  EXPECT_EQ(ResolveUrl("https://example.com/news/index.html", "item/1.html"),
            "https://example.com/news/item/1.html");
}

TEST(ResolveUrl, RootRelativeAndDotSegments) {
  EXPECT_EQ(ResolveUrl("https://example.com/a/b/c", "/x/../y/./z"), "https://example.com/y/z");
  EXPECT_EQ(ResolveUrl("https://example.com/a/b/c", "../d"), "https://example.com/a/d");
}

TEST(ResolveUrl, SchemeRelativeTakesTheBaseScheme) {
  EXPECT_EQ(ResolveUrl("https://example.com/", "//cdn.example.org/p"), "https://cdn.example.org/p");
}

TEST(ResolveUrl, AbsoluteReferenceIgnoresTheBase) {
  EXPECT_EQ(ResolveUrl("", "https://other.example/p?q=1"), "https://other.example/p?q=1");
  EXPECT_EQ(ResolveUrl("https://example.com/", "  https://other.example/p  "),
            "https://other.example/p");
}

TEST(ResolveUrl, BaseWithFragmentStillResolves) {
  EXPECT_EQ(ResolveUrl("https://example.com/news#top", "item"), "https://example.com/item");
}

TEST(ResolveUrl, NothingToResolveAgainstIsNullopt) {
  EXPECT_EQ(ResolveUrl("", "/news/1"), std::nullopt);
  EXPECT_EQ(ResolveUrl("not a url", "/news/1"), std::nullopt);
  EXPECT_EQ(ResolveUrl("https://example.com/", ""), std::nullopt);
  EXPECT_EQ(ResolveUrl("https://example.com/", "http://[::1"), std::nullopt);
}

TEST(CanonicalUrl, LowerCasesSchemeAndHostAndDropsDefaultPortAndFragment) {
  EXPECT_EQ(CanonicalUrl("HTTPS://Example.COM:443/News/A?x=1#comments"),
            "https://example.com/News/A?x=1");
  EXPECT_EQ(CanonicalUrl("http://example.com:80"), "http://example.com/");
  EXPECT_EQ(CanonicalUrl("http://example.com:8080/a/./b/../c"), "http://example.com:8080/a/c");
}

TEST(CanonicalUrl, LeavesWhatDoesNotParse) {
  EXPECT_EQ(CanonicalUrl("/relative/only"), "/relative/only");
  EXPECT_EQ(CanonicalUrl("not a url"), "not a url");
}

TEST(UrlHost, LowerCaseHostWithoutPortUserinfoOrPath) {
  EXPECT_EQ(UrlHost("https://News.Example.COM:8443/a/b?x=1#top"), "news.example.com");
  EXPECT_EQ(UrlHost("http://user:pw@Host.Example/"), "host.example");
  EXPECT_EQ(UrlHost("  https://example.com  "), "example.com");
  EXPECT_EQ(UrlHost("https://Ex%41mple.com/"), "example.com");
}

TEST(UrlHost, SameHostWhateverTheSchemeOrPort) {
  EXPECT_EQ(UrlHost("http://example.com/feed"), UrlHost("https://EXAMPLE.com:443/other"));
}

TEST(UrlHost, AddressLiterals) {
  EXPECT_EQ(UrlHost("http://192.0.2.7:8080/rss"), "192.0.2.7");
  EXPECT_EQ(UrlHost("http://[2001:DB8::1]/rss"), "[2001:db8::1]");
}

TEST(UrlHost, EmptyWhenNoHostOrNotAUrl) {
  EXPECT_EQ(UrlHost(""), "");
  EXPECT_EQ(UrlHost("not a url"), "");
  EXPECT_EQ(UrlHost("/relative/path"), "");
  EXPECT_EQ(UrlHost("//example.com/scheme-relative"), "");
  EXPECT_EQ(UrlHost("mailto:someone@example.com"), "");
  EXPECT_EQ(UrlHost("file:///etc/passwd"), "");
  EXPECT_EQ(UrlHost("http://[::1"), "");
}

TEST(FormatRfc3339, UtcWithZ) {
  TimePoint t = sys_days{2023y / September / 26} + 6h + 35min;
  EXPECT_EQ(FormatRfc3339(t), "2023-09-26T06:35:00Z");
  EXPECT_EQ(FormatRfc3339(TimePoint{}), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace newsmon::core
