// The SSRF guard: which addresses a request may connect to, and the CIDR parsing it uses.
#include "daemon/net/address_policy.h"

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "daemon/core/cidr.h"

namespace newsmon::net {
namespace {

using boost::asio::ip::make_address;

std::optional<std::string_view> Range(const char* address) {
  return SpecialRange(make_address(address));
}

struct Case {
  const char* address;
  const char* label;
};

void ExpectRanges(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(Range(c.address), std::optional<std::string_view>(c.label)) << c.address;
  }
}

void ExpectPublic(std::initializer_list<const char*> addresses) {
  for (const char* address : addresses) {
    EXPECT_EQ(Range(address), std::nullopt) << address;
  }
}

TEST(SpecialRange, Ipv4Ranges) {
  ExpectRanges({
      {"0.0.0.0", "unspecified"},        {"0.1.2.3", "this-network"},
      {"0.255.255.255", "this-network"}, {"10.0.0.0", "private"},
      {"10.255.255.255", "private"},     {"172.16.0.0", "private"},
      {"172.31.255.255", "private"},     {"192.168.0.0", "private"},
      {"192.168.255.255", "private"},    {"127.0.0.1", "loopback"},
      {"127.255.255.255", "loopback"},   {"169.254.0.0", "link-local"},
      {"169.254.169.254", "link-local"}, {"169.254.255.255", "link-local"},
      {"100.64.0.0", "cgnat"},           {"100.127.255.255", "cgnat"},
      {"224.0.0.0", "multicast"},        {"239.255.255.255", "multicast"},
      {"240.0.0.0", "reserved"},         {"255.255.255.254", "reserved"},
      {"255.255.255.255", "broadcast"},  {"192.0.0.0", "reserved"},
      {"192.0.0.255", "reserved"},       {"192.0.2.1", "documentation"},
      {"198.51.100.1", "documentation"}, {"203.0.113.255", "documentation"},
      {"198.18.0.0", "benchmarking"},    {"198.19.255.255", "benchmarking"},
  });
}

TEST(SpecialRange, Ipv4BoundariesArePublic) {
  ExpectPublic({
      "1.0.0.0",         "9.255.255.255",  "11.0.0.0",        "172.15.255.255",  "172.32.0.0",
      "192.167.255.255", "192.169.0.0",    "126.255.255.255", "128.0.0.0",       "169.253.255.255",
      "169.255.0.0",     "100.63.255.255", "100.128.0.0",     "223.255.255.255", "192.0.1.0",
      "192.0.3.0",       "198.17.255.255", "198.20.0.0",      "198.51.99.255",   "198.51.101.0",
      "203.0.112.255",   "203.0.114.0",    "8.8.8.8",         "93.184.216.34",
  });
}

TEST(SpecialRange, Ipv6Ranges) {
  ExpectRanges({
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"::2", "reserved"},
      {"fc00::", "private"},
      {"fd12:3456:789a::1", "private"},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"},
      {"fe80::1", "link-local"},
      {"febf:ffff::1", "link-local"},
      {"fec0::1", "private"},
      {"ff02::1", "multicast"},
      {"ff0e::101", "multicast"},
      {"2001:db8::1", "documentation"},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"},
      {"100::", "discard"},
      {"100::ffff:ffff:ffff:ffff", "discard"},
      {"64:ff9b:1::1", "private"},
  });
}

TEST(SpecialRange, Ipv6BoundariesArePublic) {
  ExpectPublic({
      "2001:4860:4860::8888",
      "2a00:1450:4001:80b::200e",
      "fbff:ffff::1",
      "fe00::1",
      "2001:db7:ffff::1",
      "2001:db9::",
      "100:0:0:1::",
      "fe7f::1",
  });
}

TEST(SpecialRange, MappedIpv6IsJudgedAsItsIpv4) {
  ExpectRanges({
      {"::ffff:127.0.0.1", "loopback"},
      {"::ffff:169.254.169.254", "link-local"},
      {"::ffff:10.1.2.3", "private"},
      {"::ffff:0.0.0.0", "unspecified"},
      {"::ffff:100.64.0.1", "cgnat"},
  });
  ExpectPublic({"::ffff:8.8.8.8", "::ffff:172.15.255.255"});
}

TEST(SpecialRange, Nat64And6to4AreJudgedAsTheEmbeddedIpv4) {
  ExpectRanges({
      {"64:ff9b::7f00:1", "loopback"},
      {"64:ff9b::a9fe:a9fe", "link-local"},
      {"64:ff9b::c0a8:101", "private"},
      {"2002:7f00:1::", "loopback"},
      {"2002:a00:1:1::1", "private"},
  });
  ExpectPublic({"64:ff9b::808:808", "2002:808:808::1"});
}

TEST(AddressPolicy, DefaultRefusesSpecialAndAllowsPublic) {
  AddressPolicy policy;
  EXPECT_EQ(policy.Check(make_address("93.184.216.34")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("2606:2800:220:1:248:1893:25c8:1946")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("127.0.0.1")),
            "127.0.0.1 is a loopback address (allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("169.254.169.254")),
            "169.254.169.254 is a link-local address (allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("10.0.0.1")),
            "10.0.0.1 is a private address (allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("100.64.0.0")),
            "100.64.0.0 is a carrier-grade NAT (100.64.0.0/10) address (allow it with "
            "allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("0.0.0.0")),
            "0.0.0.0 is an unspecified address (allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("255.255.255.255")),
            "255.255.255.255 is the broadcast address (allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("::1")),
            "::1 is a loopback address (allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("fd00::1")),
            "fd00::1 is a private address (allow it with allow_private_networks)");
}

TEST(AddressPolicy, MessageNamesTheEmbeddedIpv4) {
  AddressPolicy policy;
  EXPECT_EQ(policy.Check(make_address("::ffff:127.0.0.1")),
            "::ffff:127.0.0.1 maps to 127.0.0.1, which is a loopback address (allow it with "
            "allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("64:ff9b::a9fe:a9fe")),
            "64:ff9b::a9fe:a9fe translates to 169.254.169.254, which is a link-local address "
            "(allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("::ffff:8.8.8.8")), std::nullopt);
}

TEST(AddressPolicy, AllowAllAllowsEverything) {
  AddressPolicy policy = AddressPolicy::AllowAll();
  for (const char* address :
       {"127.0.0.1", "169.254.169.254", "::1", "fe80::1", "0.0.0.0", "224.0.0.1", "8.8.8.8"}) {
    EXPECT_EQ(policy.Check(make_address(address)), std::nullopt) << address;
  }
  EXPECT_EQ(AddressPolicy::FromAllowance({.all_private = true}).Check(make_address("10.0.0.1")),
            std::nullopt);
}

TEST(AddressPolicy, EmptyAllowanceIsTheDefault) {
  AddressPolicy policy = AddressPolicy::FromAllowance({});
  EXPECT_EQ(policy.Check(make_address("127.0.0.1")),
            "127.0.0.1 is a loopback address (allow it with allow_private_networks)");
  EXPECT_EQ(policy.Check(make_address("1.1.1.1")), std::nullopt);
}

TEST(AddressPolicy, CidrListAllowsOnlyThoseNetworks) {
  AddressPolicy policy = AddressPolicy::FromAllowance({.cidrs = {"127.0.0.2/32", "10.0.0.0/8"}});
  EXPECT_EQ(policy.Check(make_address("127.0.0.2")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("::ffff:127.0.0.2")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("64:ff9b::7f00:2")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("10.200.0.1")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("127.0.0.1")),
            "127.0.0.1 is a loopback address outside allow_private_networks (127.0.0.2/32, "
            "10.0.0.0/8)");
  EXPECT_EQ(policy.Check(make_address("192.168.1.1")),
            "192.168.1.1 is a private address outside allow_private_networks (127.0.0.2/32, "
            "10.0.0.0/8)");
  EXPECT_TRUE(policy.Check(make_address("::1")).has_value());
  EXPECT_EQ(policy.Check(make_address("8.8.8.8")), std::nullopt);
}

TEST(AddressPolicy, Ipv6CidrList) {
  AddressPolicy policy = AddressPolicy::FromAllowance({.cidrs = {"fd00:1::/32", "::1"}});
  EXPECT_EQ(policy.Check(make_address("fd00:1:2::3")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("::1")), std::nullopt);
  EXPECT_EQ(policy.Check(make_address("fd00:2::1")),
            "fd00:2::1 is a private address outside allow_private_networks (fd00:1::/32, ::1/128)");
  EXPECT_TRUE(policy.Check(make_address("127.0.0.1")).has_value());
}

TEST(AddressPolicy, InvalidCidrInAllowanceThrows) {
  EXPECT_THROW(AddressPolicy::FromAllowance({.cidrs = {"10.0.0.0/33"}}), std::invalid_argument);
}

}  // namespace
}  // namespace newsmon::net

namespace newsmon::core {
namespace {

using boost::asio::ip::make_address;

std::string ParseError(std::string_view text) {
  std::string error;
  EXPECT_EQ(ParseCidr(text, &error), std::nullopt) << text;
  return error;
}

std::string Parsed(std::string_view text) {
  auto cidr = ParseCidr(text);
  return cidr ? cidr->ToString() : "nullopt";
}

TEST(ParseCidr, NetworksAndBareAddresses) {
  EXPECT_EQ(Parsed("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(Parsed("127.0.0.2/32"), "127.0.0.2/32");
  EXPECT_EQ(Parsed("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(Parsed("192.168.1.7"), "192.168.1.7/32");
  EXPECT_EQ(Parsed("fd00::/8"), "fd00::/8");
  EXPECT_EQ(Parsed("::1"), "::1/128");
  EXPECT_EQ(Parsed("::/0"), "::/0");
  EXPECT_EQ(Parsed("2001:db8::/32"), "2001:db8::/32");
}

TEST(ParseCidr, HostBitsAreCleared) {
  EXPECT_EQ(Parsed("10.1.2.3/8"), "10.0.0.0/8");
  EXPECT_EQ(Parsed("172.31.255.255/12"), "172.16.0.0/12");
  EXPECT_EQ(Parsed("192.168.1.77/0"), "0.0.0.0/0");
  EXPECT_EQ(Parsed("fd12:3456::1/16"), "fd12::/16");
  EXPECT_EQ(Parsed("fe80::ffff/9"), "fe80::/9");
  EXPECT_EQ(Parsed("2001:db8:ffff::/33"), "2001:db8:8000::/33");
}

TEST(ParseCidr, MappedNetworkBecomesIpv4) {
  EXPECT_EQ(Parsed("::ffff:10.0.0.0/104"), "10.0.0.0/8");
  EXPECT_EQ(Parsed("::ffff:127.0.0.1"), "127.0.0.1/32");
  EXPECT_EQ(Parsed("::ffff:0:0/96"), "0.0.0.0/0");
}

TEST(ParseCidr, Errors) {
  EXPECT_EQ(ParseError(""), "empty network");
  EXPECT_EQ(ParseError("10.0.0.0/33"), "prefix 33 is longer than 32");
  EXPECT_EQ(ParseError("fd00::/129"), "prefix 129 is longer than 128");
  EXPECT_EQ(ParseError("10.0.0.0/"), "missing prefix length after '/'");
  EXPECT_EQ(ParseError("10.0.0.0/-1"), "prefix '-1' is not a number from 0 to 32");
  EXPECT_EQ(ParseError("10.0.0.0/+8"), "prefix '+8' is not a number from 0 to 32");
  EXPECT_EQ(ParseError("10.0.0.0/8a"), "prefix '8a' is not a number from 0 to 32");
  EXPECT_EQ(ParseError("10.0.0.0/1000"), "prefix '1000' is not a number from 0 to 32");
  EXPECT_EQ(ParseError("10.0.0.0/8/8"), "prefix '8/8' is not a number from 0 to 32");
  EXPECT_EQ(ParseError("fd00::/ 8"), "prefix ' 8' is not a number from 0 to 128");
  EXPECT_EQ(ParseError("example.com/8"), "'example.com' is not an IP address");
  EXPECT_EQ(ParseError("10.0.0/8"), "'10.0.0' is not an IP address");
  EXPECT_EQ(ParseError("256.0.0.0/8"), "'256.0.0.0' is not an IP address");
  EXPECT_EQ(ParseError(" 10.0.0.0/8"), "' 10.0.0.0' is not an IP address");
  EXPECT_EQ(ParseError("/8"), "'' is not an IP address");
  EXPECT_EQ(ParseError("[::1]/128"), "'[::1]' is not an IP address");
  EXPECT_EQ(ParseError("fe80::1%eth0/64"),
            "'fe80::1%eth0/64' has an IPv6 zone, which a network cannot have");
  EXPECT_EQ(ParseCidr("junk"), std::nullopt);  // no error string asked for
}

TEST(Cidr, Contains) {
  Cidr v4 = ParseCidr("172.16.0.0/12").value();
  EXPECT_TRUE(v4.Contains(make_address("172.16.0.0")));
  EXPECT_TRUE(v4.Contains(make_address("172.31.255.255")));
  EXPECT_FALSE(v4.Contains(make_address("172.15.255.255")));
  EXPECT_FALSE(v4.Contains(make_address("172.32.0.0")));
  EXPECT_TRUE(v4.Contains(make_address("::ffff:172.20.1.1")));
  EXPECT_FALSE(v4.Contains(make_address("fd00::1")));

  Cidr v6 = ParseCidr("fe80::/10").value();
  EXPECT_TRUE(v6.Contains(make_address("fe80::1")));
  EXPECT_TRUE(v6.Contains(make_address("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(v6.Contains(make_address("fec0::")));
  EXPECT_FALSE(v6.Contains(make_address("169.254.0.1")));

  Cidr all_v4 = ParseCidr("0.0.0.0/0").value();
  EXPECT_TRUE(all_v4.Contains(make_address("255.255.255.255")));
  EXPECT_TRUE(all_v4.Contains(make_address("::ffff:1.2.3.4")));
  EXPECT_FALSE(all_v4.Contains(make_address("::1")));

  Cidr all_v6 = ParseCidr("::/0").value();
  EXPECT_TRUE(all_v6.Contains(make_address("2001:db8::1")));
  EXPECT_FALSE(all_v6.Contains(make_address("1.2.3.4")));
  EXPECT_FALSE(all_v6.Contains(make_address("::ffff:1.2.3.4")));  // compared as IPv4

  Cidr host = ParseCidr("127.0.0.2").value();
  EXPECT_TRUE(host.Contains(make_address("127.0.0.2")));
  EXPECT_FALSE(host.Contains(make_address("127.0.0.1")));
  EXPECT_FALSE(host.Contains(make_address("127.0.0.3")));
}

}  // namespace
}  // namespace newsmon::core
