// URL helpers shared by the stages (parsing through Boost.URL).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace newsmon::core {

// Why `url` is not an absolute http:// or https:// URL with a host, or nullopt when it is.
std::optional<std::string> HttpUrlProblem(std::string_view url);

}  // namespace newsmon::core
