// Which addresses an outgoing request may connect to: the SSRF guard. Pure.
//
// Sources must not reach loopback, private (RFC 1918, IPv6 ULA), link-local (incl. cloud
// metadata 169.254.169.254), CGNAT (100.64/10), multicast, unspecified, broadcast and the
// other special-purpose ranges, unless the source allows them. The check runs on the
// address actually connected to (after DNS, on every redirect hop); IPv4-mapped IPv6
// addresses are judged as the IPv4 address they carry.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "daemon/core/cidr.h"
#include "daemon/core/source.h"

namespace newsmon::net {

// The special-purpose range `address` falls in, or nullopt for an ordinary public address.
// Labels: "unspecified" (0.0.0.0, ::), "this-network" (0/8), "private" (RFC 1918, fc00::/7,
// fec0::/10, 64:ff9b:1::/48), "loopback", "link-local", "cgnat" (100.64/10), "multicast",
// "broadcast", "reserved" (192.0.0/24, 240/4, ::/96), "documentation", "benchmarking",
// "discard" (100::/64). IPv6 addresses that carry an IPv4 address (::ffff:0:0/96, NAT64
// 64:ff9b::/96, 6to4 2002::/16) get the label of that IPv4 address.
std::optional<std::string_view> SpecialRange(const boost::asio::ip::address& address);

class AddressPolicy {
 public:
  AddressPolicy() = default;  // public addresses only
  static AddressPolicy AllowAll();
  // From a source's setting; CIDRs are assumed valid (config checked them): an invalid one
  // throws std::invalid_argument.
  static AddressPolicy FromAllowance(const core::NetworkAllowance& allowance);

  // nullopt when `address` may be connected to (a public address, or a special one that is
  // allowed: all of them, or those in one of the CIDRs, an IPv6 address also when the IPv4
  // address it carries is in one), else why not, e.g.
  // "127.0.0.1 is a loopback address (allow it with allow_private_networks)",
  // "::ffff:10.0.0.1 maps to 10.0.0.1, which is a private address (allow it with ...)",
  // "127.0.0.1 is a loopback address outside allow_private_networks (127.0.0.2/32)".
  std::optional<std::string> Check(const boost::asio::ip::address& address) const;

 private:
  bool allow_all_ = false;
  std::vector<core::Cidr> allowed_;
};

}  // namespace newsmon::net
