#include "daemon/core/url.h"

#include <boost/url/parse.hpp>

namespace newsmon::core {

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

}  // namespace newsmon::core
