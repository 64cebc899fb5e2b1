#include "daemon/net/address_policy.h"

#include <initializer_list>
#include <stdexcept>
#include <utility>

namespace newsmon::net {
namespace {

namespace ip = boost::asio::ip;

struct Range {
  core::Cidr cidr;
  std::string_view label;
};

std::vector<Range> MakeRanges(
    std::initializer_list<std::pair<std::string_view, std::string_view>> ranges) {
  std::vector<Range> out;
  for (const auto& [text, label] : ranges) out.push_back({core::ParseCidr(text).value(), label});
  return out;
}

// Most specific first: the first range that contains an address names it.
const std::vector<Range>& V4Ranges() {
  static const std::vector<Range> ranges = MakeRanges({
      {"0.0.0.0/32", "unspecified"},  // connecting to it reaches this host
      {"0.0.0.0/8", "this-network"},
      {"10.0.0.0/8", "private"},
      {"100.64.0.0/10", "cgnat"},
      {"127.0.0.0/8", "loopback"},
      {"169.254.0.0/16", "link-local"},  // incl. cloud metadata 169.254.169.254
      {"172.16.0.0/12", "private"},
      {"192.0.0.0/24", "reserved"},  // IETF protocol assignments
      {"192.0.2.0/24", "documentation"},
      {"192.168.0.0/16", "private"},
      {"198.18.0.0/15", "benchmarking"},
      {"198.51.100.0/24", "documentation"},
      {"203.0.113.0/24", "documentation"},
      {"224.0.0.0/4", "multicast"},
      {"255.255.255.255/32", "broadcast"},
      {"240.0.0.0/4", "reserved"},
  });
  return ranges;
}

// IPv6 ranges that carry an IPv4 address are handled before these (see Embedded).
const std::vector<Range>& V6Ranges() {
  static const std::vector<Range> ranges = MakeRanges({
      {"::/128", "unspecified"},  // connecting to it reaches this host
      {"::1/128", "loopback"},
      {"::/96", "reserved"},          // deprecated IPv4-compatible addresses
      {"64:ff9b:1::/48", "private"},  // local-use NAT64 (RFC 8215)
      {"100::/64", "discard"},
      {"2001:2::/48", "benchmarking"},
      {"2001:db8::/32", "documentation"},
      {"3fff::/20", "documentation"},
      {"fc00::/7", "private"},  // unique local addresses
      {"fe80::/10", "link-local"},
      {"fec0::/10", "private"},  // deprecated site-local addresses
      {"ff00::/8", "multicast"},
  });
  return ranges;
}

std::optional<std::string_view> FindIn(const std::vector<Range>& ranges, const ip::address& a) {
  for (const Range& range : ranges) {
    if (range.cidr.Contains(a)) return range.label;
  }
  return std::nullopt;
}

ip::address_v4 V4At(const ip::address_v6::bytes_type& bytes, int offset) {
  return ip::address_v4({bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]});
}

struct Embedding {
  ip::address_v4 v4;
  std::string_view how;  // "maps to", ...
};

// The IPv4 address an IPv6 address stands for, when a connection to it reaches that IPv4
// host: IPv4-mapped (::ffff:0:0/96), well-known NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
std::optional<Embedding> Embedded(const ip::address& address) {
  if (!address.is_v6()) return std::nullopt;
  const ip::address_v6 v6 = address.to_v6();
  const auto bytes = v6.to_bytes();
  if (v6.is_v4_mapped()) return Embedding{V4At(bytes, 12), "maps to"};
  static const core::Cidr kNat64 = core::ParseCidr("64:ff9b::/96").value();
  static const core::Cidr k6to4 = core::ParseCidr("2002::/16").value();
  if (kNat64.Contains(address)) return Embedding{V4At(bytes, 12), "translates to"};
  if (k6to4.Contains(address)) return Embedding{V4At(bytes, 2), "tunnels to"};
  return std::nullopt;
}

// "a loopback address": the label with its article, as read in a message.
std::string Describe(std::string_view label) {
  if (label == "cgnat") return "a carrier-grade NAT (100.64.0.0/10) address";
  if (label == "unspecified") return "an unspecified address";
  if (label == "this-network") return "a \"this network\" (0.0.0.0/8) address";
  if (label == "broadcast") return "the broadcast address";
  if (label == "discard") return "a discard-only address";
  return "a " + std::string(label) + " address";
}

}  // namespace

std::optional<std::string_view> SpecialRange(const ip::address& address) {
  if (auto embedded = Embedded(address)) {
    // 6to4 of a public IPv4 address is an ordinary (if obsolete) public address.
    return FindIn(V4Ranges(), embedded->v4);
  }
  return FindIn(address.is_v4() ? V4Ranges() : V6Ranges(), address);
}

AddressPolicy AddressPolicy::AllowAll() {
  AddressPolicy policy;
  policy.allow_all_ = true;
  return policy;
}

AddressPolicy AddressPolicy::FromAllowance(const core::NetworkAllowance& allowance) {
  if (allowance.all_private) return AllowAll();
  AddressPolicy policy;
  for (const std::string& text : allowance.cidrs) {
    std::string error;
    auto cidr = core::ParseCidr(text, &error);
    if (!cidr) throw std::invalid_argument("allow_private_networks: " + error);
    policy.allowed_.push_back(*cidr);
  }
  return policy;
}

std::optional<std::string> AddressPolicy::Check(const ip::address& address) const {
  if (allow_all_) return std::nullopt;
  auto label = SpecialRange(address);
  if (!label) return std::nullopt;
  auto embedded = Embedded(address);
  for (const core::Cidr& cidr : allowed_) {
    if (cidr.Contains(address) || (embedded && cidr.Contains(ip::address(embedded->v4)))) {
      return std::nullopt;
    }
  }

  std::string message = address.to_string();
  if (embedded) {
    message += " " + std::string(embedded->how) + " " + embedded->v4.to_string() + ", which";
  }
  message += " is " + Describe(*label);
  if (allowed_.empty()) {
    message += " (allow it with allow_private_networks)";
  } else {
    message += " outside allow_private_networks (";
    for (std::size_t i = 0; i < allowed_.size(); ++i) {
      if (i > 0) message += ", ";
      message += allowed_[i].ToString();
    }
    message += ")";
  }
  return message;
}

}  // namespace newsmon::net
