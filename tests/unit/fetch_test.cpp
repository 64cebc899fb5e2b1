#include "daemon/fetch/fetch.h"

#include <gtest/gtest.h>

namespace newsmon::fetch {
namespace {

using core::PollOutcome;
using std::chrono::milliseconds;
using std::chrono::seconds;

// 2023-09-26T06:35:00Z
const core::WallTime kNow{milliseconds(1695710100000)};

std::string Header(const net::HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "(absent)";
}

TEST(BuildRequest, SendsValidatorsHeadersAndLimits) {
  core::Source source;
  source.url = "https://example.org/feed";
  source.headers = {{"Cookie", "a=b"}};
  source.timeout = seconds(20);
  source.connect_timeout = seconds(30);  // longer than the timeout: capped to it
  source.max_body = 1234;
  source.tls_verify = false;
  source.ca_file = "/etc/ca.pem";
  source.proxy = "http://proxy:3128";
  core::SourceState state;
  state.etag = "W/\"abc\"";
  state.last_modified = "Tue, 26 Sep 2023 06:35:00 GMT";

  auto request = BuildRequest(source, state);
  EXPECT_EQ(request.url, source.url);
  EXPECT_EQ(Header(request, "If-None-Match"), "W/\"abc\"");
  EXPECT_EQ(Header(request, "If-Modified-Since"), "Tue, 26 Sep 2023 06:35:00 GMT");
  EXPECT_EQ(Header(request, "Cookie"), "a=b");
  EXPECT_NE(Header(request, "Accept").find("application/rss+xml"), std::string::npos);
  EXPECT_EQ(request.timeout, seconds(20));
  EXPECT_EQ(request.connect_timeout, seconds(20));
  EXPECT_EQ(request.max_body, 1234U);
  EXPECT_FALSE(request.tls_verify);
  EXPECT_EQ(request.ca_file, "/etc/ca.pem");
  EXPECT_EQ(request.proxy, "http://proxy:3128");
}

TEST(BuildRequest, NoValidatorsOnTheFirstPoll) {
  core::Source source;
  source.url = "http://example.org/";
  auto request = BuildRequest(source, {});
  EXPECT_EQ(Header(request, "If-None-Match"), "(absent)");
  EXPECT_EQ(Header(request, "If-Modified-Since"), "(absent)");
}

net::HttpResult Response(int status, std::vector<core::Header> headers = {},
                         std::string body = "") {
  net::HttpResult result;
  result.response.status = status;
  result.response.headers = std::move(headers);
  result.response.body = std::move(body);
  result.response.url = "https://example.org/feed";
  return result;
}

TEST(Classify, StatusesMapToOutcomes) {
  struct Case {
    int status;
    PollOutcome outcome;
  };
  for (auto [status, outcome] :
       {Case{200, PollOutcome::kOk}, Case{203, PollOutcome::kOk},
        Case{304, PollOutcome::kNotModified}, Case{300, PollOutcome::kRedirect},
        Case{400, PollOutcome::kHttp4xx}, Case{404, PollOutcome::kHttp4xx},
        Case{429, PollOutcome::kHttp429}, Case{500, PollOutcome::kHttp5xx},
        Case{503, PollOutcome::kHttp5xx}, Case{101, PollOutcome::kHttp5xx}}) {
    auto result = Classify(Response(status), kNow);
    EXPECT_EQ(result.outcome, outcome) << status;
    EXPECT_EQ(result.status, status);
    bool success = outcome == PollOutcome::kOk || outcome == PollOutcome::kNotModified;
    EXPECT_EQ(result.error.empty(), success) << status << ": " << result.error;
    if (!success) {
      EXPECT_EQ(result.error,
                "https://example.org/feed: HTTP " + std::to_string(status) +
                    (outcome == PollOutcome::kRedirect ? " (redirect not followed)" : ""));
    }
  }
}

TEST(Classify, ClientErrorsMapToOutcomes) {
  struct Case {
    net::HttpError error;
    PollOutcome outcome;
  };
  for (auto [error, outcome] : {Case{net::HttpError::kTimeout, PollOutcome::kTimeout},
                                Case{net::HttpError::kTls, PollOutcome::kTls},
                                Case{net::HttpError::kDns, PollOutcome::kDns},
                                Case{net::HttpError::kConnect, PollOutcome::kConnect},
                                Case{net::HttpError::kTooLarge, PollOutcome::kTooLarge},
                                Case{net::HttpError::kRedirect, PollOutcome::kRedirect},
                                Case{net::HttpError::kBlocked, PollOutcome::kBlocked}}) {
    net::HttpResult failed{error, "http://x/: what happened", {}};
    auto result = Classify(failed, kNow);
    EXPECT_EQ(result.outcome, outcome);
    EXPECT_EQ(result.error, "http://x/: what happened");
    EXPECT_EQ(result.status, 0);
  }
}

TEST(Classify, OkKeepsBodyValidatorsAndCacheHints) {
  auto result = Classify(Response(200,
                                  {{"ETag", "\"v2\""},
                                   {"Last-Modified", "Tue, 26 Sep 2023 06:00:00 GMT"},
                                   {"Cache-Control", "public, max-age=600"},
                                   {"Content-Type", "application/rss+xml; charset=utf-8"}},
                                  "<rss/>"),
                         kNow);
  EXPECT_EQ(result.outcome, PollOutcome::kOk);
  EXPECT_EQ(result.body, "<rss/>");
  EXPECT_EQ(result.etag, "\"v2\"");
  EXPECT_EQ(result.last_modified, "Tue, 26 Sep 2023 06:00:00 GMT");
  EXPECT_EQ(result.max_age, seconds(600));
  EXPECT_EQ(result.content_type, "application/rss+xml; charset=utf-8");
  EXPECT_EQ(result.url, "https://example.org/feed");
  EXPECT_FALSE(result.retry_after);
}

TEST(Classify, ExpiresIsACacheHintWithoutCacheControl) {
  auto result = Classify(Response(200, {{"Expires", "Tue, 26 Sep 2023 07:35:00 GMT"}}), kNow);
  EXPECT_EQ(result.max_age, seconds(3600));
  auto past = Classify(Response(200, {{"Expires", "Tue, 26 Sep 2023 05:35:00 GMT"}}), kNow);
  EXPECT_FALSE(past.max_age);
}

TEST(Classify, RetryAfterOnlyOn429And503) {
  EXPECT_EQ(Classify(Response(429, {{"Retry-After", "120"}}), kNow).retry_after, seconds(120));
  EXPECT_EQ(
      Classify(Response(503, {{"Retry-After", "Tue, 26 Sep 2023 06:40:00 GMT"}}), kNow).retry_after,
      seconds(300));
  EXPECT_FALSE(Classify(Response(500, {{"Retry-After", "120"}}), kNow).retry_after);
}

TEST(ParseRetryAfter, SecondsAndDates) {
  EXPECT_EQ(ParseRetryAfter("0", kNow), seconds(0));
  EXPECT_EQ(ParseRetryAfter(" 30 ", kNow), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Tue, 26 Sep 2023 06:36:00 GMT", kNow), seconds(60));
  EXPECT_EQ(ParseRetryAfter("Tuesday, 26-Sep-23 06:36:00 GMT", kNow), seconds(60));
  EXPECT_EQ(ParseRetryAfter("Tue Sep 26 06:36:00 2023", kNow), seconds(60));
  EXPECT_EQ(ParseRetryAfter("Tue, 26 Sep 2023 06:00:00 GMT", kNow), seconds(0));  // past
  EXPECT_EQ(ParseRetryAfter("99999999999", kNow), seconds(366LL * 86400));        // capped
  EXPECT_FALSE(ParseRetryAfter("", kNow));
  EXPECT_FALSE(ParseRetryAfter("-5", kNow));
  EXPECT_FALSE(ParseRetryAfter("soon", kNow));
  EXPECT_FALSE(ParseRetryAfter("1.5", kNow));
}

TEST(ParseMaxAge, Directives) {
  EXPECT_EQ(ParseMaxAge("max-age=60"), seconds(60));
  EXPECT_EQ(ParseMaxAge("public, MAX-AGE=\"90\", must-revalidate"), seconds(90));
  EXPECT_FALSE(ParseMaxAge("public"));
  EXPECT_FALSE(ParseMaxAge("no-store, max-age=60"));
  EXPECT_FALSE(ParseMaxAge("max-age=60, no-cache"));
  EXPECT_FALSE(ParseMaxAge("max-age=abc"));
  EXPECT_FALSE(ParseMaxAge(""));
}

}  // namespace
}  // namespace newsmon::fetch
