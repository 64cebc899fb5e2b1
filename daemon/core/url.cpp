#include "daemon/core/url.h"

#include <algorithm>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace newsmon::core {
namespace {

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

std::optional<std::string> HttpUrlProblem(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "not an absolute URL (" + parsed.error().message() + ")";
  if (parsed->scheme_id() != boost::urls::scheme::http &&
      parsed->scheme_id() != boost::urls::scheme::https) {
    return "scheme must be http or https, not '" + std::string(parsed->scheme()) + "'";
  }
  if (!parsed->has_authority() || parsed->host().empty()) return "the URL has no host";
  if (parsed->has_userinfo()) return "credentials in the URL are not allowed: use headers";
  return std::nullopt;
}

std::optional<std::string> ResolveUrl(std::string_view base, std::string_view reference) {
  reference = Trim(reference);
  if (reference.empty()) return std::nullopt;
  auto ref = boost::urls::parse_uri_reference(reference);
  if (!ref) return std::nullopt;
  if (ref->has_scheme()) {
    boost::urls::url absolute(*ref);
    absolute.normalize_path();
    return std::string(absolute.buffer());
  }
  auto parsed_base = boost::urls::parse_absolute_uri(Trim(base));
  if (!parsed_base) {
    // parse_absolute_uri rejects a fragment; a page URL may carry one.
    auto with_fragment = boost::urls::parse_uri(Trim(base));
    if (!with_fragment) return std::nullopt;
    boost::urls::url out;
    if (!boost::urls::resolve(*with_fragment, *ref, out)) return std::nullopt;
    return std::string(out.buffer());
  }
  boost::urls::url out;
  if (!boost::urls::resolve(*parsed_base, *ref, out)) return std::nullopt;
  return std::string(out.buffer());
}

std::string CanonicalUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(Trim(url));
  if (!parsed) return std::string(url);
  boost::urls::url canonical(*parsed);
  if (canonical.encoded_path().empty() && canonical.has_authority()) canonical.set_path("/");
  canonical.normalize_scheme();
  canonical.normalize_authority();
  canonical.normalize_path();
  canonical.remove_fragment();
  if ((canonical.scheme_id() == boost::urls::scheme::http && canonical.port() == "80") ||
      (canonical.scheme_id() == boost::urls::scheme::https && canonical.port() == "443")) {
    canonical.remove_port();
  }
  return std::string(canonical.buffer());
}

std::string UrlHost(std::string_view url) {
  auto parsed = boost::urls::parse_uri(Trim(url));
  if (!parsed) return {};
  std::string host(parsed->host());  // decoded; an IP-literal keeps its brackets
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return host;
}

}  // namespace newsmon::core
