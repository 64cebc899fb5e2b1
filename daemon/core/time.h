// Time helpers shared by the stages. Time zones come from the system's IANA database
// (tzdata) through CCTZ.
#pragma once

#include <string>

namespace newsmon::core {

// True when `name` is an IANA time zone the system knows ("UTC", "Asia/Baku", "+03:00"
// style fixed offsets are not accepted: use "Etc/GMT-3").
bool IsKnownTimeZone(const std::string& name);

}  // namespace newsmon::core
