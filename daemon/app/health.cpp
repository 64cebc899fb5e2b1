#include "daemon/app/health.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <ostream>
#include <string_view>
#include <utility>

#include "daemon/net/address_policy.h"
#include "daemon/net/http.h"
#include "daemon/net/resolver.h"

namespace newsmon::app {
namespace {

// Enough for any health answer; a longer body is cut, not an error.
constexpr std::uint64_t kMaxBody = 64 * 1024;
// How much of a failing answer's body is shown.
constexpr std::size_t kShownBody = 200;

// The first line of `body`, at most kShownBody bytes, control characters replaced.
std::string FirstLine(std::string_view body) {
  body = body.substr(0, body.find_first_of("\r\n"));
  std::string out(body.substr(0, kShownBody));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (body.size() > kShownBody) out += "...";
  return out;
}

}  // namespace

int Health(const std::string& url, std::chrono::milliseconds timeout, std::ostream& out,
           std::ostream& err) {
  try {
    boost::asio::io_context io;
    auto resolver = net::MakeResolver(io.get_executor());
    net::HttpClient client(io.get_executor(), *resolver);
    net::HttpRequest request;
    request.url = url;
    request.timeout = timeout;
    request.connect_timeout = timeout;
    request.max_body = kMaxBody;
    request.max_redirects = 0;
    request.decompress = false;
    // The daemon listens on loopback (or a container's own address).
    request.policy = net::AddressPolicy::AllowAll();
    std::optional<net::HttpResult> result;
    std::exception_ptr failure;
    // The resolver keeps sockets open, so the loop stops when the request ends, not when idle.
    boost::asio::co_spawn(io, client.Fetch(std::move(request)),
                          [&](std::exception_ptr e, net::HttpResult r) {
                            failure = e;
                            result = std::move(r);
                            io.stop();
                          });
    io.run();
    if (failure) std::rethrow_exception(failure);
    if (!result || !result->ok()) {
      err << "newsmon health: " << (result ? result->message : url + ": no answer") << '\n';
      return 1;
    }
    const net::HttpResponse& response = result->response;
    if (response.status != 200) {
      std::string body = FirstLine(response.body);
      err << "newsmon health: " << url << ": HTTP " << response.status
          << (body.empty() ? "" : ": " + body) << '\n';
      return 1;
    }
    out << "ok\n";
    return 0;
  } catch (const std::exception& e) {
    err << "newsmon health: " << url << ": " << e.what() << '\n';
    return 1;
  }
}

}  // namespace newsmon::app
