#include "daemon/core/time.h"

#include <cctz/time_zone.h>

namespace newsmon::core {

bool IsKnownTimeZone(const std::string& name) {
  if (name.empty()) return false;
  cctz::time_zone zone;
  return cctz::load_time_zone(name, &zone);
}

std::string FormatRfc3339(TimePoint time) {
  return cctz::format("%Y-%m-%dT%H:%M:%SZ", time, cctz::utc_time_zone());
}

}  // namespace newsmon::core
