// Starting a peer process (nginx, Alertmanager) on a free port of 127.0.0.1.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace newsmon::test {

// Picks a port that is free a moment ago and calls `start(port)`, which returns "" once the
// peer listens there or why it did not start. When another process took the port in between
// ("address already in use" in the reason, any case), tries another, up to 5 times. Returns
// the port, or 0 with `error` set to "<what> (attempt n, port p): <reason>".
std::uint16_t StartOnFreePort(std::string_view what,
                              const std::function<std::string(std::uint16_t)>& start,
                              std::string& error);

}  // namespace newsmon::test
