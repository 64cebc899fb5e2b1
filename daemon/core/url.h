// URL helpers shared by the stages (parsing through Boost.URL).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace newsmon::core {

// Why `url` is not an absolute http:// or https:// URL with a host, or nullopt when it is.
std::optional<std::string> HttpUrlProblem(std::string_view url);

// `reference` resolved against `base` (RFC 3986), as an absolute URL with its path
// normalised; nullopt when `reference` is not a URL or cannot be made absolute (no base,
// or a base that is not absolute). Surrounding whitespace is ignored.
std::optional<std::string> ResolveUrl(std::string_view base, std::string_view reference);

// The form of an absolute URL used to compare and dedup: scheme and host lower-case,
// default port and fragment dropped, path normalised. `url` unchanged when it does not parse.
std::string CanonicalUrl(std::string_view url);

// The host of an absolute URL, lower-case and percent-decoded, without port or userinfo (an
// IPv6 literal keeps its brackets: "[::1]"); "" when `url` does not parse or has no host.
// Polls are limited per host by this name.
std::string UrlHost(std::string_view url);

}  // namespace newsmon::core
