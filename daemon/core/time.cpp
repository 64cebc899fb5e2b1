#include "daemon/core/time.h"

#include <cctz/time_zone.h>

namespace newsmon::core {

bool IsKnownTimeZone(const std::string& name) {
  if (name.empty()) return false;
  cctz::time_zone zone;
  return cctz::load_time_zone(name, &zone);
}

}  // namespace newsmon::core
