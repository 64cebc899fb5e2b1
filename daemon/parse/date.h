// Dates as feeds and pages write them, to UTC.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/feed.h"

namespace newsmon::parse {

// RFC 822/1123 (with obsolete zone names such as GMT, UT, EST, MSK and numeric offsets),
// RFC 3339 / ISO 8601, and the sloppy variants real feeds carry: no weekday, one-digit
// day, two-digit year, no seconds, no zone (read as UTC). nullopt when it is none of those.
std::optional<core::TimePoint> ParseDate(std::string_view text);

// A page's own date format: strftime-like (%d %m %Y %y %H %M %S %B %b %e %p %I %z %Z and
// literals), with English and Russian month names (any case, nominative, genitive and
// short forms) for %B/%b, read in an IANA time zone.
class DateFormat {
 public:
  // nullopt and `*error` set when the zone is unknown or the format is empty.
  static std::optional<DateFormat> Make(std::string format, const std::string& time_zone,
                                        std::string* error);
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
