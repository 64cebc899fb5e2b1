#include "daemon/core/cidr.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace newsmon::core {
namespace {

namespace ip = boost::asio::ip;

// ::ffff:a.b.c.d as a.b.c.d; every other address unchanged.
ip::address Unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::uint32_t MaskV4(int prefix) { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }

ip::address_v6::bytes_type MaskV6(ip::address_v6::bytes_type bytes, int prefix) {
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(prefix - 8 * i, 0, 8);
    bytes[i] &= static_cast<unsigned char>(0xff00u >> keep);
  }
  return bytes;
}

std::optional<Cidr> Fail(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return std::nullopt;
}

}  // namespace

bool Cidr::Contains(const ip::address& address) const {
  ip::address candidate = Unmapped(address);
  if (network.is_v4()) {
    if (!candidate.is_v4()) return false;
    std::uint32_t mask = MaskV4(prefix);
    return (candidate.to_v4().to_uint() & mask) == (network.to_v4().to_uint() & mask);
  }
  if (!candidate.is_v6()) return false;
  return MaskV6(candidate.to_v6().to_bytes(), prefix) == MaskV6(network.to_v6().to_bytes(), prefix);
}

std::string Cidr::ToString() const { return network.to_string() + "/" + std::to_string(prefix); }

std::optional<Cidr> ParseCidr(std::string_view text, std::string* error) {
  if (text.empty()) return Fail(error, "empty network");
  auto slash = text.find('/');
  std::string_view address_text = text.substr(0, slash);
  if (address_text.find('%') != std::string_view::npos) {
    return Fail(error, "'" + std::string(text) + "' has an IPv6 zone, which a network cannot have");
  }
  boost::system::error_code ec;
  ip::address address = ip::make_address(std::string(address_text), ec);
  if (ec) return Fail(error, "'" + std::string(address_text) + "' is not an IP address");

  int max_prefix = address.is_v4() ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view prefix_text = text.substr(slash + 1);
    if (prefix_text.empty()) return Fail(error, "missing prefix length after '/'");
    if (prefix_text.size() > 3 || !std::all_of(prefix_text.begin(), prefix_text.end(),
                                               [](char c) { return c >= '0' && c <= '9'; })) {
      return Fail(error, "prefix '" + std::string(prefix_text) + "' is not a number from 0 to " +
                             std::to_string(max_prefix));
    }
    prefix = 0;
    for (char c : prefix_text) prefix = prefix * 10 + (c - '0');
    if (prefix > max_prefix) {
      return Fail(error, "prefix " + std::to_string(prefix) + " is longer than " +
                             std::to_string(max_prefix));
    }
  }

  if (address.is_v6() && address.to_v6().is_v4_mapped() && prefix >= 96) {
    address = Unmapped(address);
    prefix -= 96;
  }
  if (address.is_v4()) {
    address = ip::address_v4(address.to_v4().to_uint() & MaskV4(prefix));
  } else {
    address = ip::address_v6(MaskV6(address.to_v6().to_bytes(), prefix));
  }
  return Cidr{.network = address, .prefix = prefix};
}

}  // namespace newsmon::core
