// Time helpers shared by the stages. Time zones come from the system's IANA database
// (tzdata) through CCTZ.
#pragma once

#include <string>

#include "daemon/core/feed.h"

namespace newsmon::core {

// True when `name` is an IANA time zone the system knows ("UTC", "Asia/Baku", "+03:00"
// style fixed offsets are not accepted: use "Etc/GMT-3").
bool IsKnownTimeZone(const std::string& name);

// RFC 3339 in UTC with a "Z": 2023-09-26T06:35:00Z.
std::string FormatRfc3339(TimePoint time);

}  // namespace newsmon::core
