// The admin server's pure parts: request targets and query parameters, the bearer-token
// check, and the JSON bodies. No I/O; internal to the admin module (server.cpp and tests).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/admin/server.h"
#include "daemon/store/store.h"

namespace newsmon::admin {

inline constexpr std::size_t kDefaultMatchesLimit = 50;
inline constexpr std::size_t kMaxMatchesLimit = 1000;

// An origin-form request target ("/api/v1/matches?limit=5"), split.
struct Target {
  std::string path;  // as sent (still percent-encoded): only exact paths are routed
  std::vector<std::pair<std::string, std::string>> params;  // decoded, '+' as space, in order
};

// nullopt when `target` is not origin-form (absolute-form, "*", bad escapes).
std::optional<Target> ParseTarget(std::string_view target);

// The parameters of /api/v1/matches, checked.
struct MatchesQuery {
  std::size_t limit = kDefaultMatchesLimit;
  std::optional<std::string> rule;
  std::optional<std::string> source;
};

struct MatchesQueryResult {
  MatchesQuery query;  // valid when error is empty
  std::string error;   // for the 400 body, e.g. "limit must be a whole number from 1 to 1000"
};

// Unknown, repeated or empty parameters and a limit out of 1..1000 are errors.
MatchesQueryResult ParseMatchesQuery(
    const std::vector<std::pair<std::string, std::string>>& params);

// Whether an Authorization header value is "Bearer <token>" (scheme case-insensitive). The
// comparison takes the same time whatever the given token's content, and no time that
// depends on how much of it is right.
bool BearerMatches(std::string_view authorization, std::string_view token);

// scheme://host[:port]/path of an absolute URL: no userinfo, query or fragment. A URL that
// does not parse is cut at its first '?' or '#'.
std::string DisplayUrl(std::string_view url);

// The bodies (valid UTF-8: invalid bytes replaced).
std::string SourcesJson(const std::vector<SourceStatus>& sources);
std::string MatchesJson(const std::vector<store::HistoryEntry>& entries);
// {"status": 404, "error": "not found"}
std::string ErrorJson(int status, std::string_view message);

}  // namespace newsmon::admin
