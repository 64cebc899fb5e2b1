// IP networks in CIDR notation, for the address policy (net) and its config (config). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace newsmon::core {

struct Cidr {
  boost::asio::ip::address network;  // with the host bits cleared
  int prefix = 0;                    // 0..32 for IPv4, 0..128 for IPv6
  // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are compared as the IPv4 address. An IPv4
  // network never contains an IPv6 address and the other way round ("::/0" holds no IPv4).
  bool Contains(const boost::asio::ip::address& address) const;
  // "10.0.0.0/8", "fd00::/8".
  std::string ToString() const;
};

// "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). nullopt when malformed, with
// the reason in `*error` when given ("prefix 33 is longer than 32", ...).
//
// Host bits set below the prefix are accepted and cleared ("10.1.2.3/8" is 10.0.0.0/8), the
// way `ip route` reads them. An IPv4-mapped network with a prefix of at least 96
// ("::ffff:10.0.0.0/104") becomes the IPv4 network it maps (10.0.0.0/8). Rejected: empty
// text, surrounding spaces, an address that does not parse, an IPv6 zone ("fe80::1%eth0"),
// a missing, signed, non-decimal or out-of-range prefix.
std::optional<Cidr> ParseCidr(std::string_view text, std::string* error = nullptr);

}  // namespace newsmon::core
