// alert without a network: truncation, Standard Webhooks signatures (against the published
// test vector and an independent verifier), each sink's payload against its service's
// documented format and limits, and what every kind of answer means.
#include "daemon/alert/alert.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/message_template.h"
#include "tests/support/webhook_verifier.h"

namespace newsmon {
namespace {

using alert::DeliveryResult;
using alert::DeliveryStatus;
using core::SinkKind;
using nlohmann::json;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::string_view kEllipsis = "\u2026";
constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kTelegramToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

// ---- Independent checks ----------------------------------------------------------------

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// Code points of valid UTF-8.
std::vector<std::uint32_t> CodePoints(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::size_t Utf16Length(std::string_view s) {
  std::size_t n = 0;
  for (auto cp : CodePoints(s)) n += cp >= 0x10000 ? 2 : 1;
  return n;
}

// `cut` is `full` cut as short as the limit demands and no shorter: a prefix of `full` plus
// "…", within `max` by `measure`, and one more code point would not have fit.
::testing::AssertionResult CutAt(std::string_view cut, std::string_view full, std::size_t max,
                                 const std::function<std::size_t(std::string_view)>& measure) {
  if (!IsValidUtf8(cut)) return ::testing::AssertionFailure() << "invalid UTF-8";
  if (measure(cut) > max) {
    return ::testing::AssertionFailure() << "length " << measure(cut) << " over " << max;
  }
  if (!cut.ends_with(kEllipsis)) return ::testing::AssertionFailure() << "no ellipsis at the end";
  std::string_view prefix = cut.substr(0, cut.size() - kEllipsis.size());
  if (!full.starts_with(prefix)) return ::testing::AssertionFailure() << "not a prefix";
  auto next = CodePoints(full.substr(prefix.size()));
  if (next.empty()) return ::testing::AssertionFailure() << "cut although everything fit";
  const std::size_t next_bytes = next[0] < 0x80      ? 1
                                 : next[0] < 0x800   ? 2
                                 : next[0] < 0x10000 ? 3
                                                     : 4;
  const std::string longer =
      std::string(full.substr(0, prefix.size() + next_bytes)) + std::string(kEllipsis);
  if (measure(longer) <= max) {
    return ::testing::AssertionFailure()
           << "cut too early: " << measure(longer) << " fits in " << max;
  }
  return ::testing::AssertionSuccess();
}

std::size_t Bytes(std::string_view s) { return s.size(); }

// A long text that mixes 1-, 2-, 3- and 4-byte characters (emoji are surrogate pairs in
// UTF-16), so any cut may land inside a character.
std::string MixedText(std::size_t repeats) {
  std::string text;
  for (std::size_t i = 0; i < repeats; ++i) {
    text += "Новости 新闻报道 \U0001F680 news ";
    text += std::to_string(i);
    text += i % 3 == 0 ? "\U0001F1E6\U0001F1FF " : "é ";
  }
  return text;
}

// ---- Fixtures ---------------------------------------------------------------------------

core::WallTime At(std::chrono::sys_days day, milliseconds offset) {
  return core::WallTime(std::chrono::duration_cast<milliseconds>(day.time_since_epoch()) + offset);
}

const std::chrono::sys_days kDay = std::chrono::year(2024) / 5 / 1;

core::Alert SampleAlert() {
  core::Alert alert;
  alert.delivery_id = "nm_01hzx3k9v7q2m4t8b6n1c5d0ef";
  alert.sink = "hook";
  alert.source = "caliber-az";
  alert.source_url = "https://caliber.az/en/rss";
  alert.item.id = "https://caliber.az/en/post/123";
  alert.item.title = "Baku & Tbilisi <sign> corridor deal";
  alert.item.link = "https://caliber.az/en/post/123?a=1&b=2";
  alert.item.published = std::chrono::sys_seconds(kDay) + 11h + 58min;
  alert.item.summary = "Ministers met in Baku.";
  alert.item.author = "Staff";
  alert.item.categories = {"Politics", "Economy"};
  alert.rules = {
      core::RuleHit{.rule = "corridor",
                    .severity = core::RuleSeverity::kCritical,
                    .labels = {{"team", "desk"}, {"region", "caucasus"}},
                    .field = core::Field::kTitle,
                    .begin = 22,
                    .end = 30,
                    .text = "corridor"},
      core::RuleHit{.rule = "baku",
                    .severity = core::RuleSeverity::kInfo,
                    .labels = {},
                    .field = core::Field::kSummary,
                    .begin = 16,
                    .end = 20,
                    .text = "Baku"},
  };
  alert.first_seen = At(kDay, 12h + 3min + 4s + 567ms);
  return alert;
}

// An alert whose every text is far over every service's limit, in mixed scripts.
core::Alert HugeAlert() {
  core::Alert alert = SampleAlert();
  alert.item.title = MixedText(400);
  alert.item.summary = MixedText(2000);
  alert.item.author = MixedText(50);
  for (int i = 0; i < 40; ++i) {
    alert.rules.push_back(core::RuleHit{.rule = "rule-" + std::to_string(i) + "-" + MixedText(3)});
  }
  return alert;
}

core::SinkSpec Sink(SinkKind kind, std::string url, std::string secret = "") {
  core::SinkSpec sink;
  sink.name = "test-sink";
  sink.kind = kind;
  sink.url = std::move(url);
  sink.secret = std::move(secret);
  sink.timeout = 7s;
  return sink;
}

json Body(const net::HttpRequest& request) {
  EXPECT_TRUE(IsValidUtf8(request.body));
  return json::parse(request.body);  // throws on invalid JSON or invalid UTF-8 in strings
}

std::optional<std::string> HeaderOf(const net::HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

const core::WallTime kNow = At(kDay, 12h + 5min + 250ms);

// ---- Truncation ------------------------------------------------------------------------

TEST(TruncateTest, ShortTextIsUnchanged) {
  EXPECT_EQ(alert::TruncateUtf16("", 0), "");
  EXPECT_EQ(alert::TruncateUtf16("", 10), "");
  EXPECT_EQ(alert::TruncateUtf16("abc", 3), "abc");
  EXPECT_EQ(alert::TruncateBytes("abc", 3), "abc");
  EXPECT_EQ(alert::TruncateUtf16("Новости", 7), "Новости");
  EXPECT_EQ(alert::TruncateBytes("Новости", 14), "Новости");
  EXPECT_EQ(alert::TruncateUtf16("\U0001F680", 2), "\U0001F680");
  EXPECT_EQ(alert::TruncateBytes("\U0001F680", 4), "\U0001F680");
}

TEST(TruncateTest, EllipsisCountsTowardTheLimit) {
  EXPECT_EQ(alert::TruncateUtf16("abcd", 3), "ab…");
  EXPECT_EQ(alert::TruncateUtf16("abcd", 1), "…");
  EXPECT_EQ(alert::TruncateUtf16("abcd", 0), "");
  EXPECT_EQ(alert::TruncateBytes("abcdef", 5), "ab…");
  EXPECT_EQ(alert::TruncateBytes("abcdef", 3), "…");
  // The ellipsis itself does not fit: the longest prefix that does, bare.
  EXPECT_EQ(alert::TruncateBytes("abcdef", 2), "ab");
  EXPECT_EQ(alert::TruncateBytes("abcdef", 0), "");
  EXPECT_EQ(alert::TruncateBytes("Жук", 2), "Ж");
  EXPECT_EQ(alert::TruncateBytes("Жук", 1), "");
}

TEST(TruncateTest, NeverSplitsACharacter) {
  // "a" + rocket (2 units, 4 bytes) + "b": a rocket that does not fit whole is dropped whole.
  const std::string text = "a\U0001F680b";
  EXPECT_EQ(alert::TruncateUtf16(text, 3), "a…");
  EXPECT_EQ(alert::TruncateUtf16(text, 4), "a\U0001F680b");
  EXPECT_EQ(alert::TruncateUtf16(text + "c", 4), "a\U0001F680…");
  const std::string longer = text + "cde";  // 9 bytes
  EXPECT_EQ(alert::TruncateBytes(longer, 6), "a…");
  EXPECT_EQ(alert::TruncateBytes(longer, 7), "a…");
  EXPECT_EQ(alert::TruncateBytes(longer, 8), "a\U0001F680…");
  EXPECT_EQ(alert::TruncateBytes(longer, 9), longer);
  // CJK: 3 bytes, 1 unit each.
  EXPECT_EQ(alert::TruncateBytes("新闻报道", 7), "新…");
  EXPECT_EQ(alert::TruncateUtf16("新闻报道", 3), "新闻…");
}

TEST(TruncateTest, EveryCutOfMixedTextIsTight) {
  const std::string text = MixedText(30);
  for (std::size_t max = 1; max < 200; ++max) {
    EXPECT_TRUE(CutAt(alert::TruncateUtf16(text, max), text, max, Utf16Length)) << max;
    if (max >= 3) {
      EXPECT_TRUE(CutAt(alert::TruncateBytes(text, max), text, max, Bytes)) << max;
    }
  }
}

TEST(TruncateTest, InvalidInputComesOutValid) {
  const std::vector<std::string> bad = {
      "\xff",
      "\x80",
      "a\xC0\x80z",
      "\xED\xA0\x80",  // surrogate
      "\xF4\x90\x80\x80",
      "\xE2\x82",
      "abc\xF0\x9F\x9A",
      "\xC3(",  // truncated
      "\xE0\x80\xAF",
      "\xF8\x88\x80\x80\x80",
      std::string("nul\0byte", 8),
  };
  for (const auto& text : bad) {
    for (std::size_t max : {0u, 1u, 2u, 3u, 4u, 5u, 8u, 100u}) {
      EXPECT_TRUE(IsValidUtf8(alert::TruncateUtf16(text, max))) << max;
      EXPECT_TRUE(IsValidUtf8(alert::TruncateBytes(text, max))) << max;
      EXPECT_LE(alert::TruncateBytes(text, max).size(), max);
    }
  }
  // Each maximal invalid subpart becomes one U+FFFD.
  EXPECT_EQ(alert::TruncateBytes("a\xffz", 100), "a\uFFFDz");
  EXPECT_EQ(alert::TruncateBytes("a\xE2\x82z", 100), "a\uFFFDz");
  EXPECT_EQ(alert::TruncateBytes("\xED\xA0\x80", 100), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(alert::TruncateBytes("\xC0\x80", 100), "\uFFFD\uFFFD");
  EXPECT_EQ(alert::TruncateUtf16("ab\xff\xff", 3), "ab…");
}

// ---- Standard Webhooks ------------------------------------------------------------------

TEST(WebhookSignatureTest, PublishedTestVector) {
  EXPECT_EQ(alert::WebhookSignature(kSecret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                    R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignatureTest, MalformedSecretGivesNoSignature) {
  for (std::string_view secret : {"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_abc",
                                  "whsec_!!!!", "whsec_ab=c", "whsec_===="}) {
    EXPECT_EQ(alert::WebhookSignature(secret, "id", 1, "{}"), "") << secret;
  }
}

TEST(WebhookSignatureTest, IndependentVerifierAcceptsAndRejects) {
  const std::string body = R"({"test": 2432232314})";
  const std::string signature =
      alert::WebhookSignature(kSecret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
  auto verify = [&](std::string_view id, std::string_view ts, std::string_view b,
                    std::string_view sig) {
    return test::VerifyWebhook(kSecret, id, ts, b, sig, 1614265330).ok;
  };
  EXPECT_TRUE(verify("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body, signature));
  EXPECT_FALSE(verify("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body + " ", signature));
  EXPECT_FALSE(verify("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", body, signature));
  EXPECT_FALSE(verify("msg_p5jXN8AQM9LWM0D4loKWxJeK", "1614265330", body, signature));
  EXPECT_TRUE(verify("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body, "v1,AAAA " + signature));
}

TEST(WebhookTest, SignedRequestVerifiesAndTamperingIsCaught) {
  const core::SinkSpec sink =
      Sink(SinkKind::kWebhook, "https://hooks.example/n", std::string(kSecret));
  const core::Alert alert = SampleAlert();
  const std::int64_t now_s =
      std::chrono::floor<std::chrono::seconds>(kNow).time_since_epoch().count();
  net::HttpRequest request = alert::BuildRequest(sink, alert, kNow);

  auto id = HeaderOf(request, "webhook-id");
  auto ts = HeaderOf(request, "webhook-timestamp");
  auto sig = HeaderOf(request, "webhook-signature");
  ASSERT_TRUE(id && ts && sig);
  EXPECT_EQ(*id, alert.delivery_id);
  EXPECT_EQ(*ts, std::to_string(now_s));
  EXPECT_TRUE(sig->starts_with("v1,")) << *sig;

  auto check = test::VerifyWebhook(kSecret, *id, *ts, request.body, *sig, now_s);
  EXPECT_TRUE(check.ok) << check.why;

  std::string tampered = request.body;
  tampered.replace(tampered.find("Baku"), 4, "Bakû");
  EXPECT_FALSE(test::VerifyWebhook(kSecret, *id, *ts, tampered, *sig, now_s).ok);
  EXPECT_FALSE(
      test::VerifyWebhook(kSecret, *id, std::to_string(now_s + 1), request.body, *sig, now_s).ok);
  // A replay far from its timestamp fails the receiver's tolerance.
  EXPECT_FALSE(test::VerifyWebhook(kSecret, *id, *ts, request.body, *sig, now_s + 3600).ok);
}

TEST(WebhookTest, RetryKeepsBodyAndIdButResigns) {
  const core::SinkSpec sink =
      Sink(SinkKind::kWebhook, "https://hooks.example/n", std::string(kSecret));
  const core::Alert alert = SampleAlert();
  net::HttpRequest first = alert::BuildRequest(sink, alert, kNow);
  net::HttpRequest retry = alert::BuildRequest(sink, alert, kNow + 90s);
  EXPECT_EQ(first.body, retry.body);
  EXPECT_EQ(HeaderOf(first, "webhook-id"), HeaderOf(retry, "webhook-id"));
  EXPECT_NE(HeaderOf(first, "webhook-timestamp"), HeaderOf(retry, "webhook-timestamp"));
  EXPECT_NE(HeaderOf(first, "webhook-signature"), HeaderOf(retry, "webhook-signature"));
  const std::int64_t retry_s =
      std::chrono::floor<std::chrono::seconds>(kNow + 90s).time_since_epoch().count();
  EXPECT_TRUE(test::VerifyWebhook(kSecret, *HeaderOf(retry, "webhook-id"),
                                  *HeaderOf(retry, "webhook-timestamp"), retry.body,
                                  *HeaderOf(retry, "webhook-signature"), retry_s)
                  .ok);
}

TEST(WebhookTest, UnsignedWithoutSecret) {
  net::HttpRequest request =
      alert::BuildRequest(Sink(SinkKind::kWebhook, "https://hooks.example/n"), SampleAlert(), kNow);
  EXPECT_EQ(HeaderOf(request, "webhook-id"), "nm_01hzx3k9v7q2m4t8b6n1c5d0ef");
  EXPECT_TRUE(HeaderOf(request, "webhook-timestamp"));
  EXPECT_FALSE(HeaderOf(request, "webhook-signature"));
}

TEST(WebhookTest, PayloadFieldsExactly) {
  net::HttpRequest request =
      alert::BuildRequest(Sink(SinkKind::kWebhook, "https://hooks.example/n"), SampleAlert(), kNow);
  const json expected = json::parse(R"({
    "version": 1,
    "type": "newsmon.match",
    "delivery_id": "nm_01hzx3k9v7q2m4t8b6n1c5d0ef",
    "created_at": "2024-05-01T12:03:04.567Z",
    "source": {"name": "caliber-az", "url": "https://caliber.az/en/rss"},
    "item": {
      "id": "https://caliber.az/en/post/123",
      "title": "Baku & Tbilisi <sign> corridor deal",
      "link": "https://caliber.az/en/post/123?a=1&b=2",
      "published": "2024-05-01T11:58:00Z",
      "summary": "Ministers met in Baku.",
      "author": "Staff",
      "categories": ["Politics", "Economy"]
    },
    "rules": [
      {"name": "corridor", "severity": "critical", "labels": {"team": "desk", "region": "caucasus"},
       "field": "title", "span": [22, 30], "text": "corridor"},
      {"name": "baku", "severity": "info", "labels": {}, "field": "summary", "span": [16, 20],
       "text": "Baku"}
    ],
    "severity": "critical"
  })");
  EXPECT_EQ(Body(request), expected) << request.body;
  // Documented key order: the version first.
  EXPECT_TRUE(request.body.starts_with(R"({"version":1,"type":"newsmon.match",)")) << request.body;
}

TEST(WebhookTest, AbsentFieldsAreNullAndTestAlertsSayso) {
  core::Alert alert = SampleAlert();
  alert.item.link.reset();
  alert.item.published.reset();
  alert.item.summary.reset();
  alert.item.author.reset();
  alert.item.categories.clear();
  alert.test = true;
  json body =
      Body(alert::BuildRequest(Sink(SinkKind::kWebhook, "https://hooks.example/n"), alert, kNow));
  EXPECT_EQ(body["type"], "newsmon.test");
  EXPECT_TRUE(body["item"]["link"].is_null());
  EXPECT_TRUE(body["item"]["published"].is_null());
  EXPECT_TRUE(body["item"]["summary"].is_null());
  EXPECT_TRUE(body["item"]["author"].is_null());
  EXPECT_EQ(body["item"]["categories"], json::array());
}

// ---- What every request shares ------------------------------------------------------------

TEST(RequestTest, CommonSettings) {
  for (SinkKind kind :
       {SinkKind::kWebhook, SinkKind::kSlack, SinkKind::kDiscord, SinkKind::kTelegram,
        SinkKind::kTeams, SinkKind::kNtfy, SinkKind::kAlertmanager}) {
    core::SinkSpec sink = Sink(kind, "https://example.org/x", "tok");
    sink.chat_id = "42";
    sink.headers = {{"X-Extra", "1"}, {"Authorization", "Basic Zm9vOmJhcg=="}};
    net::HttpRequest request = alert::BuildRequest(sink, SampleAlert(), kNow);
    SCOPED_TRACE(std::string(core::NameOf<SinkKind>(core::kSinkKindNames, kind)));
    EXPECT_EQ(request.method, "POST");
    ASSERT_FALSE(request.headers.empty());
    EXPECT_EQ(request.headers.front(), core::Header("Content-Type", "application/json"));
    EXPECT_EQ(request.headers[request.headers.size() - 2], core::Header("X-Extra", "1"));
    EXPECT_EQ(request.headers.back().first, "Authorization");
    EXPECT_EQ(request.timeout, 7s);
    EXPECT_EQ(request.connect_timeout, 7s);
    EXPECT_EQ(request.max_redirects, 0);
    EXPECT_EQ(request.max_body, 64u * 1024);
    EXPECT_FALSE(request.policy.Check(boost::asio::ip::make_address("127.0.0.1")));
    EXPECT_FALSE(request.policy.Check(boost::asio::ip::make_address("10.1.2.3")));
    EXPECT_NO_THROW(Body(request));
  }
  core::SinkSpec slow = Sink(SinkKind::kWebhook, "https://example.org/x");
  slow.timeout = 45s;
  net::HttpRequest request = alert::BuildRequest(slow, SampleAlert(), kNow);
  EXPECT_EQ(request.timeout, 45s);
  EXPECT_EQ(request.connect_timeout, 10s);
}

TEST(RequestTest, InvalidUtf8AnywhereStillMakesValidJson) {
  core::Alert alert = SampleAlert();
  const std::string junk = "bad \xff\xfe \xC0\x80 \xED\xA0\x80 \xE2\x82 end\x01";
  alert.item.title = junk + MixedText(3);
  alert.item.summary = junk;
  alert.item.author = junk;
  alert.item.link = "https://example.org/\xff";
  alert.item.id = junk;
  alert.item.categories = {junk};
  alert.source = "src\xff";
  alert.rules[0].text = junk;
  alert.rules[0].rule = "rule\xfe";
  alert.rules[0].labels = {{"team", junk}, {"bad\xff", "x"}};
  for (SinkKind kind :
       {SinkKind::kWebhook, SinkKind::kSlack, SinkKind::kDiscord, SinkKind::kTelegram,
        SinkKind::kTeams, SinkKind::kNtfy, SinkKind::kAlertmanager}) {
    core::SinkSpec sink = Sink(kind, "https://example.org/topic", "tok");
    sink.labels = {{"env", junk}};
    net::HttpRequest request = alert::BuildRequest(sink, alert, kNow);
    SCOPED_TRACE(std::string(core::NameOf<SinkKind>(core::kSinkKindNames, kind)));
    EXPECT_TRUE(IsValidUtf8(request.body));
    EXPECT_NO_THROW(json::parse(request.body)) << request.body;
  }
}

// ---- Chat sinks against their services' documented formats ---------------------------------

TEST(SlackTest, BlockKitMessage) {
  net::HttpRequest request = alert::BuildRequest(
      Sink(SinkKind::kSlack, "https://hooks.slack.com/services/T0/B0/XYZ"), SampleAlert(), kNow);
  EXPECT_EQ(request.url, "https://hooks.slack.com/services/T0/B0/XYZ");
  json body = Body(request);
  ASSERT_TRUE(body["text"].is_string());
  // The template text, with Slack's three control characters escaped.
  EXPECT_EQ(body["text"],
            "corridor, baku: Baku &amp; Tbilisi &lt;sign&gt; corridor deal \u2014 "
            "https://caliber.az/en/post/123?a=1&amp;b=2");
  ASSERT_EQ(body["blocks"].size(), 2u);
  const json& section = body["blocks"][0];
  EXPECT_EQ(section["type"], "section");
  EXPECT_EQ(section["text"]["type"], "mrkdwn");
  EXPECT_EQ(section["text"]["text"],
            "*<https://caliber.az/en/post/123?a=1&amp;b=2|Baku &amp; Tbilisi &lt;sign&gt; "
            "corridor deal>*\n" +
                body["text"].get<std::string>());
  const json& context = body["blocks"][1];
  EXPECT_EQ(context["type"], "context");
  ASSERT_EQ(context["elements"].size(), 1u);
  EXPECT_EQ(context["elements"][0]["type"], "mrkdwn");
  EXPECT_EQ(context["elements"][0]["text"],
            "caliber-az \u00b7 corridor, baku \u00b7 critical \u00b7 2024-05-01T11:58:00Z");
}

TEST(SlackTest, LimitsOnHugeText) {
  core::SinkSpec sink = Sink(SinkKind::kSlack, "https://hooks.slack.com/services/T0/B0/XYZ");
  sink.message_template = "{summary}";
  json body = Body(alert::BuildRequest(sink, HugeAlert(), kNow));
  const std::string text = body["text"];
  const std::string section = body["blocks"][0]["text"]["text"];
  EXPECT_TRUE(IsValidUtf8(text));
  EXPECT_TRUE(IsValidUtf8(section));
  EXPECT_LE(Utf16Length(text), alert::kSlackFallbackTextMax);
  EXPECT_GE(Utf16Length(text), alert::kSlackFallbackTextMax - 1);  // a pair may not fit
  EXPECT_TRUE(text.ends_with(kEllipsis));
  EXPECT_LE(Utf16Length(section), alert::kSlackSectionTextMax);
  EXPECT_GE(Utf16Length(section), alert::kSlackSectionTextMax - 1);
  EXPECT_TRUE(section.ends_with(kEllipsis));
  EXPECT_LE(Utf16Length(body["blocks"][1]["elements"][0]["text"].get<std::string>()),
            alert::kSlackSectionTextMax);
}

TEST(SlackTest, EscapesAreNeverCut) {
  core::SinkSpec sink = Sink(SinkKind::kSlack, "https://hooks.slack.com/services/T0/B0/XYZ");
  sink.message_template = "{summary}";
  core::Alert alert = SampleAlert();
  alert.item.summary = std::string(5000, '&');
  json body = Body(alert::BuildRequest(sink, alert, kNow));
  std::string text = body["text"];
  ASSERT_TRUE(text.ends_with(kEllipsis));
  text.resize(text.size() - kEllipsis.size());
  EXPECT_EQ(text.size() % 5, 0u) << "an &amp; was cut";
  EXPECT_LE(Utf16Length(body["text"].get<std::string>()), alert::kSlackFallbackTextMax);
}

TEST(DiscordTest, WebhookMessage) {
  net::HttpRequest request = alert::BuildRequest(
      Sink(SinkKind::kDiscord, "https://discord.com/api/webhooks/1/tok"), SampleAlert(), kNow);
  json body = Body(request);
  EXPECT_EQ(body["content"],
            "corridor, baku: Baku & Tbilisi <sign> corridor deal \u2014 "
            "https://caliber.az/en/post/123?a=1&b=2");
  EXPECT_EQ(body["allowed_mentions"], json::parse(R"({"parse": []})"));
  ASSERT_EQ(body["embeds"].size(), 1u);
  const json& embed = body["embeds"][0];
  EXPECT_EQ(embed["title"], "Baku & Tbilisi <sign> corridor deal");
  EXPECT_EQ(embed["url"], "https://caliber.az/en/post/123?a=1&b=2");
  EXPECT_EQ(embed["description"], "Ministers met in Baku.");
  EXPECT_EQ(embed["timestamp"], "2024-05-01T11:58:00Z");
  EXPECT_EQ(embed["color"], 0xE74C3C);
  EXPECT_TRUE(embed["color"].is_number_integer());
  EXPECT_EQ(embed["footer"]["text"], "newsmon \u00b7 caliber-az");
  EXPECT_EQ(embed["fields"], json::parse(R"([
      {"name": "Rules", "value": "corridor, baku", "inline": true},
      {"name": "Severity", "value": "critical", "inline": true}])"));
}

TEST(DiscordTest, LimitsOnHugeText) {
  core::SinkSpec sink = Sink(SinkKind::kDiscord, "https://discord.com/api/webhooks/1/tok");
  sink.message_template = "{summary}";
  core::Alert alert = HugeAlert();
  alert.source = MixedText(100);  // a footer over its limit too
  json body = Body(alert::BuildRequest(sink, alert, kNow));
  const std::string content = body["content"];
  EXPECT_TRUE(CutAt(content, *alert.item.summary, alert::kDiscordContentMax, Utf16Length));
  const json& embed = body["embeds"][0];
  const std::string title = embed["title"];
  const std::string description = embed["description"];
  const std::string footer = embed["footer"]["text"];
  EXPECT_TRUE(CutAt(title, alert.item.title, alert::kDiscordEmbedTitleMax, Utf16Length));
  EXPECT_TRUE(
      CutAt(footer, "newsmon \u00b7 " + alert.source, alert::kDiscordFooterMax, Utf16Length));
  EXPECT_TRUE(IsValidUtf8(description));
  EXPECT_TRUE(description.ends_with(kEllipsis));
  EXPECT_LE(Utf16Length(description), alert::kDiscordEmbedDescriptionMax);
  std::size_t total = Utf16Length(title) + Utf16Length(description) + Utf16Length(footer);
  for (const auto& field : embed["fields"]) {
    const std::string name = field["name"];
    const std::string value = field["value"];
    EXPECT_LE(Utf16Length(name), alert::kDiscordFieldNameMax);
    EXPECT_LE(Utf16Length(value), alert::kDiscordFieldValueMax);
    EXPECT_FALSE(value.empty());
    EXPECT_TRUE(IsValidUtf8(value));
    total += Utf16Length(name) + Utf16Length(value);
  }
  EXPECT_LE(total, alert::kDiscordEmbedTotalMax);
  EXPECT_GE(total, alert::kDiscordEmbedTotalMax - 1);  // the description took what was left
}

TEST(TelegramTest, SendMessageWithTokenInPath) {
  core::SinkSpec sink = Sink(SinkKind::kTelegram, "", std::string(kTelegramToken));
  sink.chat_id = "-1001234567890";
  net::HttpRequest request = alert::BuildRequest(sink, SampleAlert(), kNow);
  EXPECT_EQ(request.url,
            "https://api.telegram.org/bot" + std::string(kTelegramToken) + "/sendMessage");
  EXPECT_EQ(Body(request), json::parse(R"({
      "chat_id": "-1001234567890",
      "text": "corridor, baku: Baku & Tbilisi <sign> corridor deal \u2014 https://caliber.az/en/post/123?a=1&b=2",
      "disable_web_page_preview": false})"));
  EXPECT_FALSE(Body(request).contains("parse_mode"));

  sink.url = "http://127.0.0.1:8081/";  // a local Bot API server
  EXPECT_EQ(alert::BuildRequest(sink, SampleAlert(), kNow).url,
            "http://127.0.0.1:8081/bot" + std::string(kTelegramToken) + "/sendMessage");
}

TEST(TelegramTest, TextLimitInUtf16Units) {
  core::SinkSpec sink = Sink(SinkKind::kTelegram, "", std::string(kTelegramToken));
  sink.chat_id = "42";
  sink.message_template = "{summary}";
  const core::Alert alert = HugeAlert();
  json body = Body(alert::BuildRequest(sink, alert, kNow));
  EXPECT_TRUE(CutAt(body["text"].get<std::string>(), *alert.item.summary, alert::kTelegramTextMax,
                    Utf16Length));
  // Every cut position: emoji that would straddle the limit are dropped whole.
  for (std::size_t shift = 0; shift < 12; ++shift) {
    core::Alert shifted = alert;
    shifted.item.summary = std::string(shift, 'x') + *alert.item.summary;
    const std::string text = Body(alert::BuildRequest(sink, shifted, kNow))["text"];
    EXPECT_TRUE(CutAt(text, *shifted.item.summary, alert::kTelegramTextMax, Utf16Length)) << shift;
  }
}

TEST(TeamsTest, AdaptiveCardMessage) {
  net::HttpRequest request =
      alert::BuildRequest(Sink(SinkKind::kTeams, "https://example.webhook.office.com/webhookb2/x"),
                          SampleAlert(), kNow);
  json body = Body(request);
  EXPECT_EQ(body["type"], "message");
  ASSERT_EQ(body["attachments"].size(), 1u);
  EXPECT_EQ(body["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
  const json& card = body["attachments"][0]["content"];
  EXPECT_EQ(card["$schema"], "http://adaptivecards.io/schemas/adaptive-card.json");
  EXPECT_EQ(card["type"], "AdaptiveCard");
  EXPECT_EQ(card["version"], "1.4");
  ASSERT_EQ(card["body"].size(), 3u);
  EXPECT_EQ(card["body"][0]["type"], "TextBlock");
  EXPECT_EQ(card["body"][0]["text"], "Baku & Tbilisi <sign> corridor deal");
  EXPECT_EQ(card["body"][0]["weight"], "Bolder");
  EXPECT_EQ(card["body"][0]["wrap"], true);
  EXPECT_EQ(card["body"][1]["type"], "TextBlock");
  EXPECT_EQ(card["body"][1]["wrap"], true);
  EXPECT_EQ(card["body"][1]["text"],
            "corridor, baku: Baku & Tbilisi <sign> corridor deal \u2014 "
            "https://caliber.az/en/post/123?a=1&b=2");
  EXPECT_EQ(card["body"][2]["type"], "FactSet");
  EXPECT_EQ(card["body"][2]["facts"], json::parse(R"([
      {"title": "Source", "value": "caliber-az"},
      {"title": "Rules", "value": "corridor, baku"},
      {"title": "Severity", "value": "critical"},
      {"title": "Published", "value": "2024-05-01T11:58:00Z"}])"));
  EXPECT_EQ(card["actions"], json::parse(R"([{"type": "Action.OpenUrl", "title": "Open",
      "url": "https://caliber.az/en/post/123?a=1&b=2"}])"));

  core::Alert no_link = SampleAlert();
  no_link.item.link.reset();
  json plain = Body(alert::BuildRequest(
      Sink(SinkKind::kTeams, "https://example.webhook.office.com/webhookb2/x"), no_link, kNow));
  EXPECT_FALSE(plain["attachments"][0]["content"].contains("actions"));
  // The default template drops its link part when there is no link.
  EXPECT_EQ(plain["attachments"][0]["content"]["body"][1]["text"],
            "corridor, baku: Baku & Tbilisi <sign> corridor deal");
}

TEST(TeamsTest, LimitsOnHugeText) {
  core::SinkSpec sink = Sink(SinkKind::kTeams, "https://example.webhook.office.com/webhookb2/x");
  sink.message_template = "{summary}";
  const core::Alert alert = HugeAlert();
  net::HttpRequest request = alert::BuildRequest(sink, alert, kNow);
  json card = Body(request)["attachments"][0]["content"];
  EXPECT_TRUE(CutAt(card["body"][1]["text"].get<std::string>(), *alert.item.summary,
                    alert::kTeamsTextMax, Bytes));
  EXPECT_LT(request.body.size(), 28u * 1024);  // the whole card stays under Teams' limit
}

TEST(NtfyTest, JsonPublishingToTheRoot) {
  core::SinkSpec sink = Sink(SinkKind::kNtfy, "https://ntfy.example/newsmon-alerts", "tk_abc");
  net::HttpRequest request = alert::BuildRequest(sink, SampleAlert(), kNow);
  EXPECT_EQ(request.url, "https://ntfy.example/");
  EXPECT_EQ(HeaderOf(request, "Authorization"), "Bearer tk_abc");
  EXPECT_EQ(Body(request), json::parse(R"({
      "topic": "newsmon-alerts",
      "message": "corridor, baku: Baku & Tbilisi <sign> corridor deal \u2014 https://caliber.az/en/post/123?a=1&b=2",
      "title": "Baku & Tbilisi <sign> corridor deal",
      "priority": 5,
      "tags": ["corridor", "baku"],
      "click": "https://caliber.az/en/post/123?a=1&b=2"})"));

  // Behind a path prefix, with a trailing slash, without a token.
  sink = Sink(SinkKind::kNtfy, "http://127.0.0.1:8080/ntfy/desk/");
  request = alert::BuildRequest(sink, SampleAlert(), kNow);
  EXPECT_EQ(request.url, "http://127.0.0.1:8080/ntfy/");
  EXPECT_EQ(Body(request)["topic"], "desk");
  EXPECT_FALSE(HeaderOf(request, "Authorization"));
}

TEST(NtfyTest, PriorityBySeverityAndByteLimits) {
  core::SinkSpec sink = Sink(SinkKind::kNtfy, "https://ntfy.example/t");
  core::Alert alert = SampleAlert();
  alert.rules.resize(1);
  alert.rules[0].severity = core::RuleSeverity::kInfo;
  EXPECT_EQ(Body(alert::BuildRequest(sink, alert, kNow))["priority"], 3);
  alert.rules[0].severity = core::RuleSeverity::kWarning;
  EXPECT_EQ(Body(alert::BuildRequest(sink, alert, kNow))["priority"], 4);

  sink.message_template = "{summary}";
  const core::Alert huge = HugeAlert();
  json body = Body(alert::BuildRequest(sink, huge, kNow));
  EXPECT_TRUE(
      CutAt(body["message"].get<std::string>(), *huge.item.summary, alert::kNtfyMessageMax, Bytes));
  EXPECT_TRUE(
      CutAt(body["title"].get<std::string>(), huge.item.title, alert::kNtfyTitleMax, Bytes));
}

// ---- Alertmanager -----------------------------------------------------------------------

TEST(AlertmanagerTest, OneAlertPerRuleWithLabels) {
  core::SinkSpec sink = Sink(SinkKind::kAlertmanager, "http://am.example:9093/");
  sink.labels = {{"team", "sink-team"}, {"env", "prod"}, {"severity", "none"}, {"9bad", "x"}};
  core::Alert alert = SampleAlert();
  alert.rules[0].labels = {{"team", "desk"},    {"region", "caucasus"}, {"alertname", "Mine"},
                           {"rule", "other"},   {"source", "x"},        {"bad-name", "x"},
                           {"__reserved", "x"}, {"empty", ""}};
  net::HttpRequest request = alert::BuildRequest(sink, alert, kNow);
  EXPECT_EQ(request.url, "http://am.example:9093/api/v2/alerts");
  json body = Body(request);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);

  const std::string item = body[0]["labels"]["item"];
  EXPECT_EQ(item.size(), 12u);
  EXPECT_EQ(item.find_first_not_of("0123456789abcdef"), std::string::npos) << item;
  EXPECT_EQ(body[0]["labels"], json::parse(R"({
      "alertname": "NewsmonMatch", "rule": "corridor", "source": "caliber-az",
      "severity": "critical", "item": ")" + item +
                                           R"(",
      "team": "sink-team", "region": "caucasus", "env": "prod"})"));
  EXPECT_EQ(body[1]["labels"], json::parse(R"({
      "alertname": "NewsmonMatch", "rule": "baku", "source": "caliber-az",
      "severity": "info", "item": ")" + item +
                                           R"(", "team": "sink-team", "env": "prod"})"));
  for (const auto& entry : body) {
    EXPECT_EQ(entry["annotations"], json::parse(R"({
        "title": "Baku & Tbilisi <sign> corridor deal",
        "link": "https://caliber.az/en/post/123?a=1&b=2",
        "summary": "Ministers met in Baku.",
        "published": "2024-05-01T11:58:00Z",
        "delivery_id": "nm_01hzx3k9v7q2m4t8b6n1c5d0ef"})"));
    EXPECT_EQ(entry["startsAt"], "2024-05-01T12:05:00.250Z");
    EXPECT_EQ(entry["generatorURL"], "https://caliber.az/en/post/123?a=1&b=2");
    EXPECT_FALSE(entry.contains("endsAt"));
  }

  // Each story is its own alert; the same story always the same.
  core::Alert other = SampleAlert();
  other.item.id = "https://caliber.az/en/post/124";
  EXPECT_NE(Body(alert::BuildRequest(sink, other, kNow))[0]["labels"]["item"], item);
  EXPECT_EQ(Body(alert::BuildRequest(sink, alert, kNow + 1h))[0]["labels"]["item"], item);
}

TEST(AlertmanagerTest, NonHttpLinkAndLongSummary) {
  core::Alert alert = SampleAlert();
  alert.item.link = "javascript:alert(1)";
  alert.item.summary = MixedText(500);
  json body =
      Body(alert::BuildRequest(Sink(SinkKind::kAlertmanager, "http://am:9093"), alert, kNow));
  EXPECT_FALSE(body[0].contains("generatorURL"));
  const std::string summary = body[0]["annotations"]["summary"];
  EXPECT_TRUE(CutAt(summary, *alert.item.summary, 1000, Bytes));
}

// ---- Log line and redaction -------------------------------------------------------------

TEST(LogLineTest, OneLine) {
  EXPECT_EQ(alert::LogLine(SampleAlert()),
            "alert [corridor, baku] (critical) source caliber-az: Baku & Tbilisi <sign> corridor "
            "deal \u2014 https://caliber.az/en/post/123?a=1&b=2 (delivery "
            "nm_01hzx3k9v7q2m4t8b6n1c5d0ef)");
  core::Alert alert = SampleAlert();
  alert.item.link.reset();
  alert.item.title = "two\nlines\xff";
  alert.test = true;
  EXPECT_EQ(alert::LogLine(alert),
            "test alert [corridor, baku] (critical) source caliber-az: two lines\uFFFD (delivery "
            "nm_01hzx3k9v7q2m4t8b6n1c5d0ef)");
}

TEST(RedactedUrlTest, SchemeHostPortOnly) {
  EXPECT_EQ(alert::RedactedUrl("https://hooks.slack.com/services/T0/B0/XYZ"),
            "https://hooks.slack.com");
  EXPECT_EQ(alert::RedactedUrl("http://user:pw@Example.org:8080/x?token=1#f"),
            "http://example.org:8080");
  EXPECT_EQ(alert::RedactedUrl("http://[::1]:9093/api"), "http://[::1]:9093");
  EXPECT_EQ(alert::RedactedUrl("https://api.telegram.org/bot1:ABC/sendMessage"),
            "https://api.telegram.org");
  EXPECT_EQ(alert::RedactedUrl("https://h?q=secret"), "https://h");
  EXPECT_EQ(alert::RedactedUrl("no-scheme/secret"), "");
  EXPECT_EQ(alert::RedactedUrl(""), "");
}

// ---- Classify ------------------------------------------------------------------------------

net::HttpResult Answer(int status, std::string body = "", std::vector<core::Header> headers = {}) {
  net::HttpResult result;
  result.response.status = status;
  result.response.body = std::move(body);
  result.response.headers = std::move(headers);
  return result;
}

net::HttpResult Failure(net::HttpError error, std::string message) {
  return net::HttpResult{.error = error, .message = std::move(message), .response = {}};
}

core::SinkSpec TelegramSink() {
  core::SinkSpec sink = Sink(SinkKind::kTelegram, "", std::string(kTelegramToken));
  sink.name = "desk";
  sink.chat_id = "42";
  return sink;
}

const std::string kTelegramUrl =
    "https://api.telegram.org/bot" + std::string(kTelegramToken) + "/sendMessage";

struct Case {
  std::string name;
  net::HttpResult result;
  DeliveryStatus status;
  int http_status;
  std::optional<milliseconds> retry_after;
  std::vector<std::string> mentions;
};

TEST(ClassifyTest, Table) {
  const std::vector<Case> cases = {
      {"200", Answer(200, R"({"ok":true})"), DeliveryStatus::kDelivered, 200, {}, {}},
      {"204", Answer(204), DeliveryStatus::kDelivered, 204, {}, {}},
      {"301",
       Answer(301, "Moved to " + kTelegramUrl,
              {{"Location", "https://elsewhere.example/bot" + std::string(kTelegramToken)}}),
       DeliveryStatus::kDeadLetter,
       301,
       {},
       {"HTTP 301", "https://elsewhere.example", "not followed", "Moved to"}},
      {"400",
       Answer(400, R"({"ok":false,"description":"Bad Request: chat not found"})"),
       DeliveryStatus::kDeadLetter,
       400,
       {},
       {"HTTP 400", "chat not found"}},
      {"404",
       Answer(404, "no such path: /bot" + std::string(kTelegramToken) + "/sendMessage"),
       DeliveryStatus::kDeadLetter,
       404,
       {},
       {"HTTP 404", "no such path"}},
      {"408", Answer(408), DeliveryStatus::kRetry, 408, {}, {"HTTP 408"}},
      {"410",
       Answer(410, "channel_is_archived"),
       DeliveryStatus::kGone,
       410,
       {},
       {"HTTP 410", "channel_is_archived"}},
      {"429 seconds",
       Answer(429, "slow down", {{"Retry-After", "7"}}),
       DeliveryStatus::kRetry,
       429,
       7s,
       {"HTTP 429", "7 s", "slow down"}},
      {"429 date",
       Answer(429, "", {{"Retry-After", "Wed, 01 May 2024 12:06:00 GMT"}}),
       DeliveryStatus::kRetry,
       429,
       59750ms,
       {"HTTP 429"}},
      {"429 telegram body",
       Answer(429, R"({"ok":false,"error_code":429,"parameters":{"retry_after":12}})"),
       DeliveryStatus::kRetry,
       429,
       12s,
       {"HTTP 429"}},
      {"429 discord body",
       Answer(429, R"({"message":"rate limited","retry_after":0.25})"),
       DeliveryStatus::kRetry,
       429,
       250ms,
       {"HTTP 429"}},
      {"429 bare", Answer(429), DeliveryStatus::kRetry, 429, {}, {"HTTP 429"}},
      {"500",
       Answer(500, "boom\n\x01\xff"),
       DeliveryStatus::kRetry,
       500,
       {},
       {"HTTP 500", "boom\\n\\x01\uFFFD"}},
      {"503",
       Answer(503, "", {{"Retry-After", "120"}}),
       DeliveryStatus::kRetry,
       503,
       120s,
       {"HTTP 503"}},
      {"503 past date",
       Answer(503, "", {{"Retry-After", "Wed, 01 May 2024 11:00:00 GMT"}}),
       DeliveryStatus::kRetry,
       503,
       0ms,
       {"HTTP 503"}},
      {"500 ignores Retry-After",
       Answer(500, "", {{"Retry-After", "5"}}),
       DeliveryStatus::kRetry,
       500,
       {},
       {"HTTP 500"}},
      {"timeout",
       Failure(net::HttpError::kTimeout,
               kTelegramUrl + " (149.154.167.220:443): timed out after 10 s (timeout)"),
       DeliveryStatus::kRetry,
       0,
       {},
       {"timeout", "timed out"}},
      {"connect",
       Failure(net::HttpError::kConnect,
               kTelegramUrl + " (149.154.167.220:443): connection refused"),
       DeliveryStatus::kRetry,
       0,
       {},
       {"connection failed", "refused"}},
      {"dns",
       Failure(net::HttpError::kDns, "cannot resolve api.telegram.org: not found"),
       DeliveryStatus::kRetry,
       0,
       {},
       {"DNS"}},
      {"tls",
       Failure(net::HttpError::kTls, kTelegramUrl + ": certificate verification failed"),
       DeliveryStatus::kRetry,
       0,
       {},
       {"TLS", "certificate"}},
  };
  const core::SinkSpec sink = TelegramSink();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    DeliveryResult result = alert::Classify(sink, c.result, kNow);
    EXPECT_EQ(result.status, c.status);
    EXPECT_EQ(result.http_status, c.http_status);
    EXPECT_EQ(result.retry_after, c.retry_after);
    if (c.status == DeliveryStatus::kDelivered) {
      EXPECT_EQ(result.message, "");
      continue;
    }
    EXPECT_TRUE(result.message.starts_with("sink desk (https://api.telegram.org): "))
        << result.message;
    for (const auto& fragment : c.mentions) {
      EXPECT_NE(result.message.find(fragment), std::string::npos)
          << "\"" << result.message << "\" does not mention \"" << fragment << "\"";
    }
    // The bot token (or any part of it) never appears.
    EXPECT_EQ(result.message.find("123456789"), std::string::npos) << result.message;
    EXPECT_EQ(result.message.find("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"), std::string::npos)
        << result.message;
    EXPECT_TRUE(IsValidUtf8(result.message));
    EXPECT_EQ(result.message.find('\n'), std::string::npos);
  }
}

TEST(ClassifyTest, RetryAfterDateFormats) {
  const core::SinkSpec sink = Sink(SinkKind::kWebhook, "https://hooks.example/n");
  auto after = [&](std::string value) {
    return alert::Classify(sink, Answer(503, "", {{"Retry-After", std::move(value)}}), kNow)
        .retry_after;
  };
  // kNow is 12:05:00.250 on Wednesday, 1 May 2024.
  EXPECT_EQ(after("Wed, 01 May 2024 12:06:00 GMT"), 59750ms);      // IMF-fixdate
  EXPECT_EQ(after("Wednesday, 01-May-24 12:06:00 GMT"), 59750ms);  // RFC 850
  EXPECT_EQ(after("Wed May  1 12:06:00 2024"), 59750ms);           // asctime
  EXPECT_EQ(after("0"), 0ms);
  EXPECT_EQ(after(" 30 "), 30s);
  EXPECT_EQ(after("99999999999"), std::chrono::hours(24));  // capped at a day
  EXPECT_EQ(after("soon"), std::nullopt);
  EXPECT_EQ(after("-5"), std::nullopt);
  EXPECT_EQ(after("Wed, 31 Feb 2024 12:06:00 GMT"), std::nullopt);
}

TEST(ClassifyTest, WebhookUrlTokensAreScrubbed) {
  // Slack and Discord keep their secret in the URL path; an answer that echoes it must not
  // carry it into a log line.
  core::SinkSpec sink =
      Sink(SinkKind::kDiscord,
           "https://discord.com/api/webhooks/1234567890123456789/Zx9-SECRETtokenVALUE_abcdef");
  DeliveryResult result = alert::Classify(
      sink,
      Answer(404,
             R"({"message": "Unknown Webhook 1234567890123456789/Zx9-SECRETtokenVALUE_abcdef"})"),
      kNow);
  EXPECT_EQ(result.status, DeliveryStatus::kDeadLetter);
  EXPECT_EQ(result.message.find("SECRET"), std::string::npos) << result.message;
  EXPECT_EQ(result.message.find("1234567890123456789"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("Unknown Webhook"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("sink test-sink (https://discord.com)"), std::string::npos);

  result =
      alert::Classify(sink,
                      Failure(net::HttpError::kTimeout,
                              sink.url + " (162.159.128.233:443): timed out after 7 s (timeout)"),
                      kNow);
  EXPECT_EQ(result.message.find("SECRET"), std::string::npos) << result.message;
  EXPECT_EQ(result.message.find("webhooks"), std::string::npos) << result.message;
}

TEST(ClassifyTest, BodyOverTheCapAfterA2xxIsDelivered) {
  const core::SinkSpec sink = Sink(SinkKind::kWebhook, "https://hooks.example/n");
  net::HttpResult result = Failure(net::HttpError::kTooLarge, "https://hooks.example/n: too big");
  result.response.status = 200;
  EXPECT_EQ(alert::Classify(sink, result, kNow).status, DeliveryStatus::kDelivered);
  result.response.status = 0;  // the header block was too large: nothing known
  EXPECT_EQ(alert::Classify(sink, result, kNow).status, DeliveryStatus::kRetry);
}

}  // namespace
}  // namespace newsmon
