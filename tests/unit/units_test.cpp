#include "daemon/config/units.h"

#include <gtest/gtest.h>

namespace newsmon::config {
namespace {

using namespace std::chrono_literals;

TEST(ParseDurationTest, AcceptsEveryUnitAndCombinations) {
  EXPECT_EQ(ParseDuration("90s"), 90s);
  EXPECT_EQ(ParseDuration("5m"), 5min);
  EXPECT_EQ(ParseDuration("1h"), 1h);
  EXPECT_EQ(ParseDuration("2d"), 48h);
  EXPECT_EQ(ParseDuration("250ms"), 250ms);
  EXPECT_EQ(ParseDuration("1h30m"), 90min);
  EXPECT_EQ(ParseDuration("1m500ms"), 60500ms);
  EXPECT_EQ(ParseDuration("0s"), 0s);
}

TEST(ParseDurationTest, RejectsMissingUnitsAndGarbage) {
  for (const char* bad : {"", "90", "s", "5x", "1.5h", "-5m", " 5m", "5m ", "5 m", "m5",
                          "99999999999999999999s", "9999999999999999d"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
}

TEST(ParseSizeTest, AcceptsBinaryDecimalAndBareBytes) {
  EXPECT_EQ(ParseSize("512KiB"), 512u * 1024);
  EXPECT_EQ(ParseSize("10MiB"), 10u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1GiB"), 1ULL << 30);
  EXPECT_EQ(ParseSize("100kB"), 100'000u);
  EXPECT_EQ(ParseSize("2MB"), 2'000'000u);
  EXPECT_EQ(ParseSize("123B"), 123u);
  EXPECT_EQ(ParseSize("4096"), 4096u);
}

TEST(ParseSizeTest, RejectsUnknownUnitsAndOverflow) {
  for (const char* bad : {"", "MiB", "10mib", "10 MiB", "1.5MiB", "-1", "10TiB",
                          "99999999999999999999", "99999999999GiB"}) {
    EXPECT_EQ(ParseSize(bad), std::nullopt) << bad;
  }
}

TEST(FormatTest, RoundTripsToTheShortestForm) {
  EXPECT_EQ(FormatDuration(90s), "1m30s");
  EXPECT_EQ(FormatDuration(5min), "5m");
  EXPECT_EQ(FormatDuration(1500ms), "1s500ms");
  EXPECT_EQ(FormatDuration(0ms), "0s");
  EXPECT_EQ(FormatSize(10u * 1024 * 1024), "10MiB");
  EXPECT_EQ(FormatSize(1536), "1536B");
  EXPECT_EQ(FormatSize(0), "0B");
  EXPECT_EQ(FormatSize(1ULL << 30), "1GiB");
}

}  // namespace
}  // namespace newsmon::config
