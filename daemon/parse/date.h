// Dates as feeds and pages write them, to UTC.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/feed.h"

namespace newsmon::parse {

// A date from a feed (RSS pubDate, dc:date, Atom updated/published, JSON Feed
// date_published), in UTC. Accepts:
//  - RFC 822/1123/2822 ("Tue, 26 Sep 2023 06:35:00 GMT") with a numeric zone (+0300,
//    +03:00, GMT+0300), an RFC 822 zone name (UT, GMT, Z, EST ... PDT) or one from a small
//    table of names feeds use (MSK, CET, EEST, IST, JST, AEST ...; see kZones in date.cpp).
//    Unknown zone names of up to five ASCII letters, military letters included, read as
//    UTC as RFC 2822 says. A trailing "(comment)" is ignored.
//  - The sloppy variants: no weekday or a wrong one (ignored); full or abbreviated English
//    or Russian ("Вт, 26 сен 2023") weekday and month names in any case; one-digit day;
//    two-digit year (00–49 is 20xx, 50–99 is 19xx); no seconds; no time (midnight); no zone
//    (UTC); AM/PM; extra or missing commas and spaces; RFC 850's "26-Sep-23"; month first
//    as JavaScript's Date, asctime and "September 26, 2023 10:35 AM EDT" write it.
//  - RFC 3339 / ISO 8601 ("2023-09-26T06:35:00Z") with fractional seconds (dropped), an
//    offset (+03:00, +0300, +03) or Z in either case, a space for the T, no seconds, no
//    zone (UTC), or a date alone (midnight UTC).
// nullopt for anything else, including a field out of range (month 13, 30 February, hour
// 25). Second 60 (a leap second) reads as the next minute. Never throws, does not allocate,
// and is safe on any bytes.
std::optional<core::TimePoint> ParseDate(std::string_view text);

// A page's own date format, read in an IANA time zone: "%d %B %Y - %H:%M" in Asia/Baku
// reads "26 September 2023 - 10:35" as 2023-09-26T06:35:00Z.
//
// Directives: %d %e (day), %m (month number), %B %b %h (month name: English full or short,
// Russian nominative, genitive or short, any case), %A %a (weekday name, checked and
// ignored), %Y (four digits), %y (two: 00–49 is 20xx), %H, %I with %p (AM/PM), %M, %S,
// %z (+0300, +03:00, Z: overrides the zone), %Z (a word, ignored) and %%. Other characters
// match themselves ignoring case (ASCII and Cyrillic); a space matches any run of
// whitespace, U+00A0 included, or none. A "." right after a name is optional in the text,
// as sites abbreviate some months but not May ("сент.", "мая"). Leading and trailing
// whitespace in the text is ignored; anything else left over fails the parse.
//
// A civil time the zone skips (DST gap) or repeats (overlap) is read with the offset in
// force before the change.
//
// Parse is const and safe to call from several threads at once.
class DateFormat {
 public:
  // nullopt, with `*error` (when not null) saying why, when the zone is unknown ("unknown
  // time zone 'Mars/Base'"), the format is empty, has an unknown directive ("unknown
  // directive '%Q' ..."), lacks a day, month or year (Parse has no clock to fill them in),
  // or uses only one of %I and %p.
  static std::optional<DateFormat> Make(std::string format, const std::string& time_zone,
                                        std::string* error);

  // The instant `text` names, or nullopt when it does not match the format or names no
  // real date (30 February, hour 25).
  std::optional<core::TimePoint> Parse(std::string_view text) const;

  ~DateFormat();
  DateFormat(DateFormat&&) noexcept;
  DateFormat& operator=(DateFormat&&) noexcept;

 private:
  struct Impl;
  explicit DateFormat(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace newsmon::parse
