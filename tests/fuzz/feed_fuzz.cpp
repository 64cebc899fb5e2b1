// libFuzzer target: any bytes as a news feed read with kind auto. parse::Parse must return
// a Feed whose fields keep the contract (ids and titles set, clean UTF-8, no NUL) or an
// error saying why, and never crash, hang or read past a limit.
//
// Input layout: the first byte picks the HTTP Content-Type charset hint (byte % 4: none,
// windows-1251, KOI8-R, UTF-16LE); the rest is the document. Seeds in corpus/feed/ start
// with '0'..'3' for that reason ('0' is 0x30, so the digit is the hint's number).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/parse/parse.h"
#include "tests/fuzz/feed_checks.h"

namespace {

constexpr std::string_view kContentTypes[] = {
    "",
    "application/rss+xml; charset=windows-1251",
    "text/xml; charset=\"KOI8-R\"",
    "application/atom+xml;charset=UTF-16LE",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using newsmon::parse::Options;
  Options options{
      .kind = newsmon::core::SourceKind::kAuto,
      .url = "https://example.org/news/feed.xml",
      .content_type = kContentTypes[data[0] % std::size(kContentTypes)],
      .source_name = "fuzz",
      .limits = {.max_bytes = 1024 * 1024, .max_items = 1000},
  };
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto result = newsmon::parse::Parse(std::move(body), options);
  newsmon::fuzz::RequireValidResult(result, options.source_name);
  return 0;
}
