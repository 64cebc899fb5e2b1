// `newsmon health`: asks a running daemon's admin server whether it is alive. The container
// image's HEALTHCHECK (the slim image has no curl).
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

namespace newsmon::app {

inline constexpr char kDefaultHealthUrl[] = "http://127.0.0.1:9787/healthz";

// GETs `url` (loopback and private addresses allowed, no redirects followed) within
// `timeout`. Prints "ok" to `out` and returns 0 on a 200; otherwise prints why to `err`
// ("newsmon health: http://127.0.0.1:9787/healthz: HTTP 503: not ready", or the connection
// error naming the URL) and returns 1.
int Health(const std::string& url, std::chrono::milliseconds timeout, std::ostream& out,
           std::ostream& err);

}  // namespace newsmon::app
