#include "daemon/parse/date.h"

#include <gtest/gtest.h>

#include <cctz/time_zone.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace newsmon::parse {
namespace {

// Results as RFC 3339 in UTC, so a failure shows both instants readably.
std::string Utc(std::optional<core::TimePoint> time) {
  if (!time) return "nullopt";
  return cctz::format("%Y-%m-%dT%H:%M:%SZ", *time, cctz::utc_time_zone());
}

std::string Parsed(std::string_view text) { return Utc(ParseDate(text)); }

DateFormat MakeFormat(const std::string& format, const std::string& zone) {
  std::string error;
  std::optional<DateFormat> date_format = DateFormat::Make(format, zone, &error);
  EXPECT_TRUE(date_format.has_value()) << error;
  if (!date_format) return *DateFormat::Make("%d.%m.%Y", "UTC", nullptr);
  return std::move(*date_format);
}

std::string MakeError(const std::string& format, const std::string& zone) {
  std::string error;
  EXPECT_FALSE(DateFormat::Make(format, zone, &error).has_value());
  return error;
}

// ---------------------------------------------------------------------------------------
// ParseDate: RFC 822 and relatives.

TEST(ParseDateTest, Rfc1123InGmt) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 GMT"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, ResultMatchesSysDaysArithmetic) {
  using namespace std::chrono;
  std::optional<core::TimePoint> time = ParseDate("Tue, 26 Sep 2023 06:35:07 +0300");
  ASSERT_TRUE(time);
  EXPECT_EQ(*time, sys_days{2023y / September / 26} + 3h + 35min + 7s);
}

TEST(ParseDateTest, NumericOffsetsAreSubtracted) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 +0300"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 -0500"), "2023-09-26T11:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 +03:00"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 12:05:00 +0530"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 -0000"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 +0000"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, OffsetCrossesDayAndYearBoundaries) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 01:00:00 +0300"), "2023-09-25T22:00:00Z");
  EXPECT_EQ(Parsed("Sun, 31 Dec 2023 23:30:00 -0100"), "2024-01-01T00:30:00Z");
}

TEST(ParseDateTest, Rfc822ZoneNames) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"UT", "06:35"},  {"GMT", "06:35"}, {"Z", "06:35"},   {"UTC", "06:35"},
      {"EST", "11:35"}, {"EDT", "10:35"}, {"CST", "12:35"}, {"CDT", "11:35"},
      {"MST", "13:35"}, {"MDT", "12:35"}, {"PST", "14:35"}, {"PDT", "13:35"},
  };
  for (const auto& [zone, utc] : cases) {
    EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 " + zone), "2023-09-26T" + utc + ":00Z") << zone;
  }
}

TEST(ParseDateTest, ZoneTableOfNamesFeedsUse) {
  // Local 12:00 on 26 September 2023 in each zone, and the UTC it is.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"WET", "2023-09-26T12:00:00Z"},  {"WEST", "2023-09-26T11:00:00Z"},
      {"BST", "2023-09-26T11:00:00Z"},  {"CET", "2023-09-26T11:00:00Z"},
      {"CEST", "2023-09-26T10:00:00Z"}, {"MET", "2023-09-26T11:00:00Z"},
      {"MEST", "2023-09-26T10:00:00Z"}, {"EET", "2023-09-26T10:00:00Z"},
      {"EEST", "2023-09-26T09:00:00Z"}, {"MSK", "2023-09-26T09:00:00Z"},
      {"МСК", "2023-09-26T09:00:00Z"},  {"MSD", "2023-09-26T08:00:00Z"},
      {"TRT", "2023-09-26T09:00:00Z"},  {"SAMT", "2023-09-26T08:00:00Z"},
      {"YEKT", "2023-09-26T07:00:00Z"}, {"OMST", "2023-09-26T06:00:00Z"},
      {"KRAT", "2023-09-26T05:00:00Z"}, {"IRKT", "2023-09-26T04:00:00Z"},
      {"YAKT", "2023-09-26T03:00:00Z"}, {"VLAT", "2023-09-26T02:00:00Z"},
      {"AZT", "2023-09-26T08:00:00Z"},  {"AZST", "2023-09-26T07:00:00Z"},
      {"GET", "2023-09-26T08:00:00Z"},  {"PKT", "2023-09-26T07:00:00Z"},
      {"IST", "2023-09-26T06:30:00Z"},  {"ICT", "2023-09-26T05:00:00Z"},
      {"HKT", "2023-09-26T04:00:00Z"},  {"SGT", "2023-09-26T04:00:00Z"},
      {"JST", "2023-09-26T03:00:00Z"},  {"KST", "2023-09-26T03:00:00Z"},
      {"AWST", "2023-09-26T04:00:00Z"}, {"ACST", "2023-09-26T02:30:00Z"},
      {"AEST", "2023-09-26T02:00:00Z"}, {"AEDT", "2023-09-26T01:00:00Z"},
      {"NZST", "2023-09-26T00:00:00Z"}, {"NZDT", "2023-09-25T23:00:00Z"},
      {"AST", "2023-09-26T16:00:00Z"},  {"AKST", "2023-09-26T21:00:00Z"},
      {"AKDT", "2023-09-26T20:00:00Z"}, {"HST", "2023-09-26T22:00:00Z"},
  };
  for (const auto& [zone, utc] : cases) {
    EXPECT_EQ(Parsed("Tue, 26 Sep 2023 12:00:00 " + zone), utc) << zone;
  }
}

TEST(ParseDateTest, ZoneNamesIgnoreCase) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 msk"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 Msk"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 мск"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 gmt"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, MilitaryLettersAndUnknownZonesReadAsUtc) {
  for (std::string zone : {"A", "M", "N", "Y", "J", "z", "XYZ", "ABCDE"}) {
    EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 " + zone), "2023-09-26T06:35:00Z") << zone;
  }
}

TEST(ParseDateTest, UniversalNameWithOffset) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 GMT+0300"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 UTC+3"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 01:35:00 GMT-05:00"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, ZoneNameAfterOffsetIsIgnored) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 +0300 MSK"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 +0300 GMT"), "2023-09-26T07:35:00Z");
}

TEST(ParseDateTest, TrailingCommentIsIgnored) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 +0000 (UTC)"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 GMT (UTC)"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00 (UTC)"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 10:35:00 +0300 (Moscow Standard Time)"),
            "2023-09-26T07:35:00Z");
}

TEST(ParseDateTest, WeekdayMayBeMissing) {
  EXPECT_EQ(Parsed("26 Sep 2023 06:35:00 GMT"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, WrongWeekdayIsIgnored) {
  EXPECT_EQ(Parsed("Fri, 26 Sep 2023 06:35:00 GMT"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, FullAndLongerAbbreviatedNames) {
  EXPECT_EQ(Parsed("Tuesday, 26 September 2023 06:35:00 GMT"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Tues, 26 Sept 2023 06:35:00 GMT"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Thurs, 28 Sep. 2023 06:35:00 GMT"), "2023-09-28T06:35:00Z");
}

TEST(ParseDateTest, EveryEnglishMonth) {
  const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    char expected[32];
    std::snprintf(expected, sizeof expected, "2023-%02d-01T00:00:00Z", i + 1);
    EXPECT_EQ(Parsed(std::string("1 ") + kMonths[i] + " 2023 00:00 GMT"), expected) << kMonths[i];
  }
}

TEST(ParseDateTest, OneDigitDayAndHour) {
  EXPECT_EQ(Parsed("Wed, 6 Sep 2023 6:05:00 GMT"), "2023-09-06T06:05:00Z");
}

TEST(ParseDateTest, TwoDigitYearPivotsAtFifty) {
  EXPECT_EQ(Parsed("26 Sep 00 06:35:00 GMT"), "2000-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("26 Sep 23 06:35:00 GMT"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("26 Sep 49 06:35:00 GMT"), "2049-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("26 Sep 50 06:35:00 GMT"), "1950-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("26 Sep 99 06:35:00 GMT"), "1999-09-26T06:35:00Z");
}

TEST(ParseDateTest, ThreeDigitYearAddsNineteenHundred) {
  EXPECT_EQ(Parsed("26 Sep 123 06:35:00 GMT"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, NoSeconds) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35 GMT"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, NoZoneIsUtc) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023 06:35:00"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, NoTimeIsMidnightUtc) {
  EXPECT_EQ(Parsed("Tue, 26 Sep 2023"), "2023-09-26T00:00:00Z");
  EXPECT_EQ(Parsed("26 Sep 2023 +0300"), "2023-09-25T21:00:00Z");
}

TEST(ParseDateTest, ExtraAndMissingCommasAndSpaces) {
  for (const char* text :
       {"Tue,26 Sep 2023 06:35:00 GMT", "Tue 26 Sep 2023 06:35:00 GMT",
        "Tue, 26 Sep, 2023, 06:35:00, GMT", "  Tue,  26  Sep  2023  06:35:00  GMT  ",
        ",Tue, 26 Sep 2023 06:35:00GMT", "Tue, 26Sep2023 06:35:00 GMT",
        "Tue,\t26\tSep\t2023\r\n06:35:00 GMT"}) {
    EXPECT_EQ(Parsed(text), "2023-09-26T06:35:00Z") << text;
  }
}

TEST(ParseDateTest, NoBreakSpacesSeparateFields) {
  EXPECT_EQ(Parsed("Tue,\u00a026\u00a0Sep\u00a02023\u00a006:35:00\u00a0GMT\u00a0"),
            "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, AnyCase) {
  EXPECT_EQ(Parsed("TUE, 26 SEP 2023 06:35:00 GMT"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("tue, 26 sep 2023 06:35:00 gmt"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("tUe, 26 sEPTEMBER 2023 06:35:00 gMt"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, Rfc850DashedDate) {
  EXPECT_EQ(Parsed("Tuesday, 26-Sep-23 06:35:00 GMT"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("26-Sep-2023 06:35:00"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, MonthFirstForms) {
  // JavaScript's Date.prototype.toString.
  EXPECT_EQ(Parsed("Tue Sep 26 2023 10:35:00 GMT+0300 (Moscow Standard Time)"),
            "2023-09-26T07:35:00Z");
  // asctime and date(1): the year after the time.
  EXPECT_EQ(Parsed("Tue Sep 26 06:35:00 2023"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("Tue Sep 26 10:35:00 MSK 2023"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Tue Sep  6 06:35:00 2023"), "2023-09-06T06:35:00Z");
  // US prose.
  EXPECT_EQ(Parsed("September 26, 2023 10:35 AM EDT"), "2023-09-26T14:35:00Z");
  EXPECT_EQ(Parsed("Sep 26, 2023"), "2023-09-26T00:00:00Z");
}

TEST(ParseDateTest, TwelveHourClock) {
  EXPECT_EQ(Parsed("26 Sep 2023 6:35 PM GMT"), "2023-09-26T18:35:00Z");
  EXPECT_EQ(Parsed("26 Sep 2023 6:35pm"), "2023-09-26T18:35:00Z");
  EXPECT_EQ(Parsed("26 Sep 2023 12:10 AM"), "2023-09-26T00:10:00Z");
  EXPECT_EQ(Parsed("26 Sep 2023 12:10 p.m."), "2023-09-26T12:10:00Z");
  EXPECT_EQ(Parsed("26 Sep 2023 13:10 PM"), "nullopt");
  EXPECT_EQ(Parsed("26 Sep 2023 0:10 AM"), "nullopt");
}

TEST(ParseDateTest, RussianLocalisedPubDate) {
  EXPECT_EQ(Parsed("Вт, 26 сен 2023 10:35:00 +0300"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("ВТ, 26 СЕН 2023 10:35:00 +0300"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Вторник, 26 сентября 2023 10:35:00 МСК"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Втр, 26 Сентябрь 2023 10:35 +0300"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("Сб, 1 мая 2021 00:00:00 +0000"), "2021-05-01T00:00:00Z");
  EXPECT_EQ(Parsed("Ср, 14 февр. 2024 09:00:00 +0300"), "2024-02-14T06:00:00Z");
}

TEST(ParseDateTest, EveryRussianMonthInEachForm) {
  const char* const kForms[12][3] = {
      {"янв", "январь", "января"},
      {"фев", "февраль", "февраля"},
      {"мар", "март", "марта"},
      {"апр", "апрель", "апреля"},
      {"май", "май", "мая"},
      {"июн", "июнь", "июня"},
      {"июл", "июль", "июля"},
      {"авг", "август", "августа"},
      {"сент", "сентябрь", "сентября"},
      {"окт", "октябрь", "октября"},
      {"нояб", "ноябрь", "ноября"},
      {"дек", "декабрь", "декабря"},
  };
  for (int i = 0; i < 12; ++i) {
    char expected[32];
    std::snprintf(expected, sizeof expected, "2023-%02d-01T00:00:00Z", i + 1);
    for (const char* form : kForms[i]) {
      EXPECT_EQ(Parsed(std::string("1 ") + form + " 2023"), expected) << form;
    }
  }
}

TEST(ParseDateTest, TwoLettersOrTruncatedCyrillicAreNoName) {
  EXPECT_EQ(Parsed("1 се 2023"), "nullopt");
  EXPECT_EQ(Parsed("1 се\xD0 2023"), "nullopt");
  EXPECT_EQ(Parsed("1 с\xD0\xB5\xD0 2023"), "nullopt");
  EXPECT_EQ(Parsed("Вт\xD0, 26 Sep 2023"), "nullopt");
  EXPECT_EQ(Parsed("1 Se 2023"), "nullopt");
}

TEST(ParseDateTest, LeapSecondReadsAsNextMinute) {
  EXPECT_EQ(Parsed("Sat, 31 Dec 2016 23:59:60 GMT"), "2017-01-01T00:00:00Z");
  EXPECT_EQ(Parsed("2016-12-31T23:59:60Z"), "2017-01-01T00:00:00Z");
}

TEST(ParseDateTest, LeapYearsFollowTheGregorianRule) {
  EXPECT_EQ(Parsed("29 Feb 2024"), "2024-02-29T00:00:00Z");
  EXPECT_EQ(Parsed("29 Feb 2000"), "2000-02-29T00:00:00Z");
  EXPECT_EQ(Parsed("29 Feb 2023"), "nullopt");
  EXPECT_EQ(Parsed("29 Feb 1900"), "nullopt");
}

// ---------------------------------------------------------------------------------------
// ParseDate: RFC 3339 / ISO 8601.

TEST(ParseDateTest, Rfc3339Utc) {
  EXPECT_EQ(Parsed("2023-09-26T06:35:00Z"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, Rfc3339FractionalSecondsAreDropped) {
  EXPECT_EQ(Parsed("2023-09-26T06:35:00.5Z"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T06:35:00.999999999+03:00"), "2023-09-26T03:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T06:35:00,123Z"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, Rfc3339OffsetForms) {
  EXPECT_EQ(Parsed("2023-09-26T10:35:00+03:00"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T10:35:00+0300"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T10:35:00+03"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T01:35:00-05:00"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T12:05:00+05:30"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T06:35:00-00:00"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T01:00:00+03:00"), "2023-09-25T22:00:00Z");
}

TEST(ParseDateTest, Iso8601LowerCaseSpaceAndShortForms) {
  EXPECT_EQ(Parsed("2023-09-26t06:35:00z"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26 06:35:00Z"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26 10:35:00 +0300"), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T06:35Z"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26T06:35:00"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26"), "2023-09-26T00:00:00Z");
  EXPECT_EQ(Parsed("  2023-09-26T06:35:00Z\n"), "2023-09-26T06:35:00Z");
}

TEST(ParseDateTest, GoTimeStringWithOffsetAndName) {
  EXPECT_EQ(Parsed("2023-09-26 06:35:00 +0000 UTC"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26 10:35:00 +0300 MSK"), "2023-09-26T07:35:00Z");
}

TEST(ParseDateTest, Iso8601WithZoneName) {
  EXPECT_EQ(Parsed("2023-09-26 06:35:00 UTC"), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Parsed("2023-09-26 10:35:00 MSK"), "2023-09-26T07:35:00Z");
}

// ---------------------------------------------------------------------------------------
// ParseDate: what it refuses.

TEST(ParseDateTest, RejectsEmptyAndGarbage) {
  for (const char* text : {"", " ", "\u00a0", "garbage", "yesterday", "26", "Sep", "Tue, Sep",
                           "2023", "2023-", "12:00", "Tue, 26 Foo 2023 06:35:00 GMT", "26 09 2023",
                           "26.09.2023 10:35", "09/26/2023", "(UTC)", "Tuesday", "\xff\xfe\xfd"}) {
    EXPECT_EQ(Parsed(text), "nullopt") << text;
  }
  EXPECT_EQ(Parsed(std::string_view("26 Sep\0 2023", 12)), "nullopt");
  EXPECT_EQ(Parsed(std::string_view("26 Sep 2023\0", 12)), "nullopt");
}

TEST(ParseDateTest, RejectsOutOfRangeFields) {
  for (const char* text : {"2023-13-01", "2023-00-10", "2023-09-32", "2023-09-00", "2023-02-30",
                           "2023-09-26T25:00:00Z", "2023-09-26T24:00:00Z", "2023-09-26T06:60:00Z",
                           "2023-09-26T06:35:61Z", "32 Sep 2023 06:35:00 GMT", "0 Sep 2023",
                           "30 Feb 2023 06:35:00 GMT", "31 Apr 2023", "26 Sep 2023 25:00:00 GMT",
                           "26 Sep 2023 06:60 GMT", "26 Sep 2023 06:35:00 +2400",
                           "26 Sep 2023 06:35:00 +0360", "2023-09-26T06:35:00+03:60"}) {
    EXPECT_EQ(Parsed(text), "nullopt") << text;
  }
}

TEST(ParseDateTest, RejectsMalformedFields) {
  for (const char* text :
       {"123 Sep 2023", "26 Sep 20230", "26 Sep 2", "26 Sep 2023 6",
        "26 Sep 2023 06:", "26 Sep 2023 06:5", "26 Sep 2023 06:35:5", "26 Sep 2023 06:35:00 +030",
        "26 Sep 2023 06:35:00 +", "26 Sep 2023 06:35:00 0300", "2023-09-26T", "2023-09-26T06",
        "2023-09-26X06:35:00Z", "2023-09-26T06:35:00Zjunk", "2023-09-26T06:35:00 XYZ",
        "2023-9-26-1", "20230-09-26", "2023-09-26T06:35:00+03:0"}) {
    EXPECT_EQ(Parsed(text), "nullopt") << text;
  }
}

TEST(ParseDateTest, RejectsTrailingText) {
  for (const char* text :
       {"Tue, 26 Sep 2023 06:35:00 GMT extra", "Tue, 26 Sep 2023 06:35:00 GMTX1",
        "Tue, 26 Sep 2023 06:35:00 LONGNAME", "Tue, 26 Sep 2023 06:35:00 ЖЖЖ",
        "Tue, 26 Sep 2023 06:35:00 GMT (UTC", "Tue, 26 Sep 2023 06:35:00 GMT (UTC) x",
        "2023-09-26T06:35:00Z 1", "Tue Sep 26 06:35:00 2023 GMT"}) {
    EXPECT_EQ(Parsed(text), "nullopt") << text;
  }
}

// Every prefix and every single-byte corruption of real dates, and random bytes: the
// parser must not crash or read out of bounds (run under the sanitizers), and whatever it
// accepts must be a sane instant.
TEST(ParseDateTest, SurvivesTruncatedCorruptedAndRandomInput) {
  const std::vector<std::string> seeds = {
      "Tue, 26 Sep 2023 06:35:00 GMT",
      "Вт, 26 сентября 2023 10:35:00 +0300 (MSK)",
      "2023-09-26T06:35:00.123+03:00",
      "Tue Sep 26 2023 10:35:00 GMT+0300 (Moscow Standard Time)",
      "September 26, 2023 10:35 p.m. EDT",
      "Tue,\u00a026 Sep 23 6:35 PM UTC-05:00",
  };
  const std::string alphabet = "0123456789:+-.,() TtZzGMTSepÐ\xd0\xd1\xc2\xa0\xe2\x80\xaf";
  std::mt19937 random(20230926);
  auto check = [](std::string_view text) {
    std::optional<core::TimePoint> time = ParseDate(text);
    if (time) {
      auto seconds = time->time_since_epoch().count();
      EXPECT_GT(seconds, -62200000000LL) << text;  // after year 0 minus a day
      EXPECT_LT(seconds, 253402400000LL) << text;  // before year 10000 plus a day
    }
  };
  for (const std::string& seed : seeds) {
    for (std::size_t n = 0; n <= seed.size(); ++n) check(std::string_view(seed).substr(0, n));
    for (std::size_t i = 0; i < seed.size(); ++i) {
      for (int k = 0; k < 8; ++k) {
        std::string mutated = seed;
        mutated[i] = alphabet[random() % alphabet.size()];
        check(mutated);
        mutated[i] = static_cast<char>(random());
        check(mutated);
      }
    }
  }
  for (int i = 0; i < 20000; ++i) {
    std::string text(random() % 40, ' ');
    for (char& c : text) {
      c = random() % 2 ? alphabet[random() % alphabet.size()] : static_cast<char>(random());
    }
    check(text);
  }
}

// ---------------------------------------------------------------------------------------
// DateFormat.

TEST(DateFormatTest, EnglishMonthNameInBaku) {
  DateFormat format = MakeFormat("%d %B %Y - %H:%M", "Asia/Baku");
  EXPECT_EQ(Utc(format.Parse("26 September 2023 - 10:35")), "2023-09-26T06:35:00Z");
}

TEST(DateFormatTest, RussianGenitiveMonthInMoscow) {
  DateFormat format = MakeFormat("%d %B %Y, %H:%M", "Europe/Moscow");
  EXPECT_EQ(Utc(format.Parse("26 сентября 2023, 10:35")), "2023-09-26T07:35:00Z");
}

TEST(DateFormatTest, MonthNamesInEveryFormAndCase) {
  DateFormat format = MakeFormat("%d %B %Y", "UTC");
  for (const char* text :
       {"26 September 2023", "26 september 2023", "26 SEPTEMBER 2023", "26 Sep 2023",
        "26 Sept 2023", "26 сентября 2023", "26 сентябрь 2023", "26 Сентябрь 2023",
        "26 СЕНТЯБРЯ 2023", "26 сен 2023", "26 сент 2023", "26 СЕНТ 2023"}) {
    EXPECT_EQ(Utc(format.Parse(text)), "2023-09-26T00:00:00Z") << text;
  }
}

TEST(DateFormatTest, EveryMonthInEnglishAndRussian) {
  const char* const kNames[12][5] = {
      {"January", "Jan", "январь", "января", "янв"},
      {"February", "Feb", "февраль", "февраля", "фев"},
      {"March", "Mar", "март", "марта", "мар"},
      {"April", "Apr", "апрель", "апреля", "апр"},
      {"May", "May", "май", "мая", "май"},
      {"June", "Jun", "июнь", "июня", "июн"},
      {"July", "Jul", "июль", "июля", "июл"},
      {"August", "Aug", "август", "августа", "авг"},
      {"September", "Sep", "сентябрь", "сентября", "сен"},
      {"October", "Oct", "октябрь", "октября", "окт"},
      {"November", "Nov", "ноябрь", "ноября", "ноя"},
      {"December", "Dec", "декабрь", "декабря", "дек"},
  };
  DateFormat format = MakeFormat("%d %b %Y", "UTC");
  for (int i = 0; i < 12; ++i) {
    char expected[32];
    std::snprintf(expected, sizeof expected, "2023-%02d-01T00:00:00Z", i + 1);
    for (const char* name : kNames[i]) {
      EXPECT_EQ(Utc(format.Parse(std::string("1 ") + name + " 2023")), expected) << name;
    }
  }
}

TEST(DateFormatTest, DotAfterAbbreviatedMonthIsOptional) {
  DateFormat format = MakeFormat("%d %b. %Y", "Europe/Moscow");
  EXPECT_EQ(Utc(format.Parse("26 сент. 2023")), "2023-09-25T21:00:00Z");
  EXPECT_EQ(Utc(format.Parse("1 мая 2023")), "2023-04-30T21:00:00Z");
}

TEST(DateFormatTest, NumericFieldsWithoutSeparators) {
  DateFormat format = MakeFormat("%Y%m%d%H%M%S", "UTC");
  EXPECT_EQ(Utc(format.Parse("20230926063507")), "2023-09-26T06:35:07Z");
}

TEST(DateFormatTest, NumericDateWithSeconds) {
  DateFormat format = MakeFormat("%d.%m.%Y %H:%M:%S", "Europe/Moscow");
  EXPECT_EQ(Utc(format.Parse("26.09.2023 10:35:07")), "2023-09-26T07:35:07Z");
  EXPECT_EQ(Utc(format.Parse("6.9.2023 10:35:07")), "2023-09-06T07:35:07Z");
}

TEST(DateFormatTest, TwelveHourClockWithMeridiem) {
  DateFormat format = MakeFormat("%m/%d/%y %I:%M %p", "America/New_York");
  EXPECT_EQ(Utc(format.Parse("09/26/23 06:35 PM")), "2023-09-26T22:35:00Z");
  EXPECT_EQ(Utc(format.Parse("09/26/23 06:35 am")), "2023-09-26T10:35:00Z");
  EXPECT_EQ(Utc(format.Parse("09/26/23 12:05 AM")), "2023-09-26T04:05:00Z");
  EXPECT_EQ(Utc(format.Parse("09/26/23 12:05 p.m.")), "2023-09-26T16:05:00Z");
  EXPECT_EQ(Utc(format.Parse("09/26/23 13:05 PM")), "nullopt");
  EXPECT_EQ(Utc(format.Parse("09/26/23 06:35")), "nullopt");
}

TEST(DateFormatTest, TwoDigitYearPivotsAtFifty) {
  DateFormat format = MakeFormat("%d.%m.%y", "UTC");
  EXPECT_EQ(Utc(format.Parse("26.09.49")), "2049-09-26T00:00:00Z");
  EXPECT_EQ(Utc(format.Parse("26.09.50")), "1950-09-26T00:00:00Z");
}

TEST(DateFormatTest, SpaceMatchesAnyWhitespaceRunOrNone) {
  DateFormat format = MakeFormat("%d %B %Y %H:%M", "UTC");
  EXPECT_EQ(Utc(format.Parse("26\u00a0September\u00a0\u00a02023 \t 10:35")),
            "2023-09-26T10:35:00Z");
  EXPECT_EQ(Utc(format.Parse("26September2023 10:35")), "2023-09-26T10:35:00Z");
  EXPECT_EQ(Utc(format.Parse("26\u202fSeptember 2023\u200910:35")), "2023-09-26T10:35:00Z");
}

TEST(DateFormatTest, LeadingAndTrailingWhitespaceIsIgnored) {
  DateFormat format = MakeFormat("%d %B %Y", "UTC");
  EXPECT_EQ(Utc(format.Parse(" \n\u00a026 September 2023\u00a0 \t")), "2023-09-26T00:00:00Z");
}

TEST(DateFormatTest, TrailingTextFails) {
  DateFormat format = MakeFormat("%d %B %Y", "UTC");
  EXPECT_EQ(Utc(format.Parse("26 September 2023 10:35")), "nullopt");
  EXPECT_EQ(Utc(format.Parse("26 September 2023x")), "nullopt");
}

TEST(DateFormatTest, LiteralsMatchIgnoringCaseInLatinAndCyrillic) {
  DateFormat english = MakeFormat("Posted %d %B %Y at %H:%M", "UTC");
  EXPECT_EQ(Utc(english.Parse("POSTED 26 September 2023 AT 10:35")), "2023-09-26T10:35:00Z");
  DateFormat russian = MakeFormat("%d %B %Y г. в %H:%M ещё", "Europe/Moscow");
  EXPECT_EQ(Utc(russian.Parse("26 сентября 2023 Г. В 10:35 ЕЩЁ")), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Utc(russian.Parse("26 сентября 2023 г. в 10:35 еще")), "nullopt");
}

TEST(DateFormatTest, WeekdayNameIsCheckedAndIgnored) {
  DateFormat format = MakeFormat("%A, %d %B %Y", "Europe/Moscow");
  EXPECT_EQ(Utc(format.Parse("Вторник, 26 сентября 2023")), "2023-09-25T21:00:00Z");
  EXPECT_EQ(Utc(format.Parse("Friday, 26 September 2023")), "2023-09-25T21:00:00Z");
  EXPECT_EQ(Utc(format.Parse("Someday, 26 September 2023")), "nullopt");
  DateFormat short_weekday = MakeFormat("%a. %d %b %Y", "UTC");
  EXPECT_EQ(Utc(short_weekday.Parse("Вт. 26 сен 2023")), "2023-09-26T00:00:00Z");
  EXPECT_EQ(Utc(short_weekday.Parse("Tue 26 Sep 2023")), "2023-09-26T00:00:00Z");
}

TEST(DateFormatTest, PaddedDayWithPercentE) {
  DateFormat format = MakeFormat("%b %e %Y", "UTC");
  EXPECT_EQ(Utc(format.Parse("Sep  6 2023")), "2023-09-06T00:00:00Z");
  EXPECT_EQ(Utc(format.Parse("Sep 26 2023")), "2023-09-26T00:00:00Z");
}

TEST(DateFormatTest, NumericOffsetInTextOverridesTheZone) {
  DateFormat format = MakeFormat("%Y-%m-%d %H:%M %z", "Europe/Moscow");
  EXPECT_EQ(Utc(format.Parse("2023-09-26 10:35 +0400")), "2023-09-26T06:35:00Z");
  EXPECT_EQ(Utc(format.Parse("2023-09-26 10:35 -05:00")), "2023-09-26T15:35:00Z");
  EXPECT_EQ(Utc(format.Parse("2023-09-26 10:35 Z")), "2023-09-26T10:35:00Z");
  EXPECT_EQ(Utc(format.Parse("2023-09-26 10:35 MSK")), "nullopt");
}

TEST(DateFormatTest, ZoneWordIsIgnored) {
  DateFormat format = MakeFormat("%d.%m.%Y %H:%M %Z", "Europe/Moscow");
  EXPECT_EQ(Utc(format.Parse("26.09.2023 10:35 MSK")), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Utc(format.Parse("26.09.2023 10:35 МСК")), "2023-09-26T07:35:00Z");
  EXPECT_EQ(Utc(format.Parse("26.09.2023 10:35")), "nullopt");
}

TEST(DateFormatTest, PercentPercentIsALiteralPercent) {
  DateFormat format = MakeFormat("%d%%%m%%%Y", "UTC");
  EXPECT_EQ(Utc(format.Parse("26%09%2023")), "2023-09-26T00:00:00Z");
}

TEST(DateFormatTest, DaylightSavingTimeFollowsTheZone) {
  DateFormat format = MakeFormat("%Y-%m-%d %H:%M", "Europe/Berlin");
  EXPECT_EQ(Utc(format.Parse("2023-01-15 12:00")), "2023-01-15T11:00:00Z");  // CET
  EXPECT_EQ(Utc(format.Parse("2023-07-15 12:00")), "2023-07-15T10:00:00Z");  // CEST
  // Around the spring change at 02:00 CET on 26 March 2023.
  EXPECT_EQ(Utc(format.Parse("2023-03-26 01:59")), "2023-03-26T00:59:00Z");
  EXPECT_EQ(Utc(format.Parse("2023-03-26 03:00")), "2023-03-26T01:00:00Z");
}

TEST(DateFormatTest, TimeInDstGapReadsWithTheOffsetBeforeTheChange) {
  DateFormat format = MakeFormat("%Y-%m-%d %H:%M", "Europe/Berlin");
  // 02:30 never happened in Berlin on 26 March 2023; read at +01:00 it is 03:30 CEST.
  EXPECT_EQ(Utc(format.Parse("2023-03-26 02:30")), "2023-03-26T01:30:00Z");
}

TEST(DateFormatTest, TimeInDstOverlapReadsAsTheFirstOccurrence) {
  DateFormat format = MakeFormat("%Y-%m-%d %H:%M", "Europe/Berlin");
  // 02:30 happened twice on 29 October 2023: at +02:00 and then at +01:00.
  EXPECT_EQ(Utc(format.Parse("2023-10-29 02:30")), "2023-10-29T00:30:00Z");
}

TEST(DateFormatTest, RejectsImpossibleDatesAndTimes) {
  DateFormat format = MakeFormat("%d.%m.%Y %H:%M:%S", "UTC");
  for (const char* text :
       {"32.09.2023 10:35:00", "00.09.2023 10:35:00", "30.02.2023 10:35:00", "26.13.2023 10:35:00",
        "26.00.2023 10:35:00", "26.09.2023 25:00:00", "26.09.2023 10:60:00", "26.09.2023 10:35:61",
        "26.09.23 10:35:00", "", "garbage"}) {
    EXPECT_EQ(Utc(format.Parse(text)), "nullopt") << text;
  }
}

TEST(DateFormatTest, RejectsUnknownMonthName) {
  DateFormat format = MakeFormat("%d %B %Y", "UTC");
  EXPECT_EQ(Utc(format.Parse("26 Smarch 2023")), "nullopt");
  EXPECT_EQ(Utc(format.Parse("26 Se 2023")), "nullopt");
  EXPECT_EQ(Utc(format.Parse("26 2023")), "nullopt");
}

TEST(DateFormatTest, SurvivesCorruptedInput) {
  DateFormat format = MakeFormat("%A, %d %b. %Y, %I:%M %p %z %Z", "Europe/Moscow");
  const std::string seed = "Вторник, 26 сент. 2023, 10:35 p.m. +0300 МСК";
  EXPECT_EQ(Utc(format.Parse(seed)), "2023-09-26T19:35:00Z");
  std::mt19937 random(7);
  for (std::size_t n = 0; n <= seed.size(); ++n) format.Parse(std::string_view(seed).substr(0, n));
  for (int i = 0; i < 20000; ++i) {
    std::string mutated = seed;
    for (int k = 0; k < 3; ++k) mutated[random() % mutated.size()] = static_cast<char>(random());
    format.Parse(mutated);
  }
}

TEST(DateFormatTest, MovedFormatStillParses) {
  DateFormat first = MakeFormat("%d.%m.%Y", "Asia/Baku");
  DateFormat second = std::move(first);
  EXPECT_EQ(Utc(second.Parse("26.09.2023")), "2023-09-25T20:00:00Z");
}

TEST(DateFormatTest, MakeReportsUnknownZone) {
  EXPECT_EQ(MakeError("%d %B %Y", "Mars/Base"), "unknown time zone 'Mars/Base'");
  EXPECT_EQ(MakeError("%d %B %Y", ""), "unknown time zone ''");
}

TEST(DateFormatTest, MakeReportsEmptyFormat) {
  EXPECT_EQ(MakeError("", "UTC"), "empty date format");
}

TEST(DateFormatTest, MakeNamesTheUnknownDirective) {
  EXPECT_EQ(MakeError("%d %Q %Y", "UTC"), "unknown directive '%Q' in date format '%d %Q %Y'");
  EXPECT_EQ(MakeError("%d %B %Y %д", "UTC"), "unknown directive '%д' in date format '%d %B %Y %д'");
  EXPECT_EQ(MakeError("%d %B %Y %", "UTC"), "date format '%d %B %Y %' ends with a lone '%'");
}

TEST(DateFormatTest, MakeRequiresDayMonthAndYear) {
  EXPECT_EQ(MakeError("%H:%M", "UTC"), "date format '%H:%M' has no day (%d or %e)");
  EXPECT_EQ(MakeError("%d %Y", "UTC"), "date format '%d %Y' has no month (%m, %B or %b)");
  EXPECT_EQ(MakeError("%d %B", "UTC"), "date format '%d %B' has no year (%Y or %y)");
}

TEST(DateFormatTest, MakeRequiresTwelveHourClockAndMeridiemTogether) {
  EXPECT_EQ(MakeError("%d.%m.%Y %I:%M", "UTC"),
            "date format '%d.%m.%Y %I:%M' must use %I and %p together");
  EXPECT_EQ(MakeError("%d.%m.%Y %H:%M %p", "UTC"),
            "date format '%d.%m.%Y %H:%M %p' must use %I and %p together");
}

TEST(DateFormatTest, MakeAcceptsNullErrorPointer) {
  EXPECT_FALSE(DateFormat::Make("%d", "Mars/Base", nullptr).has_value());
  EXPECT_TRUE(DateFormat::Make("%d.%m.%Y", "UTC", nullptr).has_value());
}

// The two layouts nearly every feed writes are read at fixed positions; across a grid of
// dates, days, zones and both day widths they must give what calendar arithmetic gives.
TEST(ParseDateTest, CommonLayoutsAgreeWithCalendarArithmetic) {
  using namespace std::chrono;
  static constexpr const char* kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr const char* kWeekdayNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  for (int year : {1999, 2000, 2023, 2024}) {
    for (unsigned month = 1; month <= 12; ++month) {
      for (unsigned day : {1u, 9u, 10u, 28u, 29u, 30u, 31u}) {
        year_month_day date{std::chrono::year(year), std::chrono::month(month),
                            std::chrono::day(day)};
        char rfc[64], iso[64];
        std::snprintf(rfc, sizeof rfc, "%s, %u %s %d 23:59:58 +0530",
                      kWeekdayNames[weekday(sys_days(date.year() / date.month() / 1)).c_encoding()],
                      day, kMonthNames[month - 1], year);
        std::snprintf(iso, sizeof iso, "%04d-%02u-%02uT23:59:58.25-01:30", year, month, day);
        if (!date.ok()) {
          EXPECT_EQ(ParseDate(rfc), std::nullopt) << rfc;
          EXPECT_EQ(ParseDate(iso), std::nullopt) << iso;
          continue;
        }
        auto civil = sys_days(date) + 23h + 59min + 58s;
        EXPECT_EQ(ParseDate(rfc), core::TimePoint(civil - 5h - 30min)) << rfc;
        EXPECT_EQ(ParseDate(iso), core::TimePoint(civil + 1h + 30min)) << iso;
      }
    }
  }
}

}  // namespace
}  // namespace newsmon::parse
