// Asynchronous DNS with a deadline per lookup, on the caller's io_context. Lookups never
// queue behind one another: one name whose servers never answer delays only itself.
//
// The production resolver is c-ares (the system's /etc/resolv.conf and /etc/hosts unless
// `servers` is given); tests inject one that points at a server they run on 127.0.0.1.
//
// Errors are values, never exceptions: "cannot resolve example.invalid: Domain name not
// found", "cannot resolve slow.test: no answer within 300 ms" (timed_out), "... Timeout
// while contacting DNS servers" (c-ares gave up first, after all its tries), "... the
// resolver was shut down", "... the lookup was cancelled" (the awaiting coroutine was
// cancelled through its cancellation slot).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

namespace newsmon::net {

struct ResolveResult {
  std::vector<boost::asio::ip::address> addresses;  // IPv6 and IPv4, in the resolver's order
  std::string error;                                // set when addresses is empty; names the host
  bool timed_out = false;                           // the deadline passed first
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Resolves `host` (an IP literal, also "[v6]" as a URL host spells it, resolves to itself
  // without a lookup). Completes by `timeout` at the latest, with timed_out set; a timeout
  // of zero or less ends at once without a lookup. Call on the resolver's io_context thread;
  // the Resolver must be alive when the returned awaitable starts. Destroying the Resolver
  // while lookups are pending completes them with an error.
  virtual boost::asio::awaitable<ResolveResult> Resolve(std::string host,
                                                        std::chrono::milliseconds timeout) = 0;
};

struct ResolverOptions {
  // "ip:port" ("[v6]:port") nameservers to ask instead of the system's (tests); empty =
  // /etc/resolv.conf. When given, resolv.conf's search domains are not applied either: names
  // are asked as they are. /etc/hosts is consulted in both cases. A malformed list makes
  // MakeResolver throw std::invalid_argument.
  std::vector<std::string> servers;
  // First try's wait per server; c-ares doubles it for each later round. A lookup whose
  // deadline passed stays inside c-ares (a few hundred bytes) until its tries run out.
  std::chrono::milliseconds attempt_timeout = std::chrono::seconds(2);
  int tries = 2;  // rounds over the servers, at least 1
};

// A c-ares resolver driven by `executor` (whose io_context must run on one thread and
// outlive the resolver). Not thread-safe. Throws std::runtime_error when c-ares cannot start.
std::unique_ptr<Resolver> MakeResolver(boost::asio::any_io_executor executor,
                                       const ResolverOptions& options = {});

}  // namespace newsmon::net
