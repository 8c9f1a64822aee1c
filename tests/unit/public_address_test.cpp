// Which addresses the SMTP probe never connects to in production (IANA's special-purpose
// registries): each block's edges, and public neighbours just outside them.
#include <gtest/gtest.h>

#include "safetynet/net/public_address.hpp"

using safetynet::nonPublicAddress;

TEST(PublicAddress, LoopbackPrivateLinkLocalAndReservedAreNotPublic) {
  EXPECT_EQ(nonPublicAddress("127.0.0.1"), "loopback");
  EXPECT_EQ(nonPublicAddress("127.255.255.254"), "loopback");
  EXPECT_EQ(nonPublicAddress("0.0.0.0"), "\"this network\" (RFC 791)");
  EXPECT_EQ(nonPublicAddress("10.1.2.3"), "private (RFC 1918)");
  EXPECT_EQ(nonPublicAddress("172.16.0.1"), "private (RFC 1918)");
  EXPECT_EQ(nonPublicAddress("172.31.255.255"), "private (RFC 1918)");
  EXPECT_EQ(nonPublicAddress("192.168.1.1"), "private (RFC 1918)");
  EXPECT_EQ(nonPublicAddress("100.64.0.1"), "shared carrier-grade NAT space (RFC 6598)");
  EXPECT_EQ(nonPublicAddress("169.254.169.254"), "link-local (RFC 3927)");  // the cloud metadata service
  EXPECT_EQ(nonPublicAddress("192.0.2.10"), "documentation (RFC 5737)");
  EXPECT_EQ(nonPublicAddress("224.0.0.1"), "multicast");
  EXPECT_EQ(nonPublicAddress("255.255.255.255"), "broadcast");
  EXPECT_EQ(nonPublicAddress("::1"), "loopback");
  EXPECT_EQ(nonPublicAddress("::"), "unspecified");
  EXPECT_EQ(nonPublicAddress("::ffff:10.0.0.1"), "private (RFC 1918)");
  EXPECT_EQ(nonPublicAddress("fd12:3456::1"), "unique local (RFC 4193)");
  EXPECT_EQ(nonPublicAddress("fe80::1"), "link-local");
  EXPECT_EQ(nonPublicAddress("2001:db8::25"), "documentation (RFC 3849)");
  EXPECT_EQ(nonPublicAddress("ff02::1"), "multicast");
}

TEST(PublicAddress, MailServersOnThePublicInternetAre) {
  for (const char* ip : {"142.250.153.27", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
                         "11.0.0.1", "192.169.0.1", "2a00:1450:4010:c0e::1a", "2001:4860::1", "::ffff:8.8.8.8"})
    EXPECT_EQ(nonPublicAddress(ip), std::nullopt) << ip;
  EXPECT_EQ(nonPublicAddress("mx.example.com"), std::nullopt);  // not an address: not this function's call
}
