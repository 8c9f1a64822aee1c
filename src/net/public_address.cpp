#include "safetynet/net/public_address.hpp"

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>

namespace safetynet {

namespace {
struct Block4 {
  uint32_t net;
  int bits;
  const char* why;
};

// IANA IPv4 Special-Purpose Address Registry, the blocks not globally reachable (as of 2024).
constexpr std::array<Block4, 15> kIpv4{{
    {0x00000000, 8, "\"this network\" (RFC 791)"},
    {0x0A000000, 8, "private (RFC 1918)"},
    {0x64400000, 10, "shared carrier-grade NAT space (RFC 6598)"},
    {0x7F000000, 8, "loopback"},
    {0xA9FE0000, 16, "link-local (RFC 3927)"},
    {0xAC100000, 12, "private (RFC 1918)"},
    {0xC0000000, 24, "IETF protocol assignments (RFC 6890)"},
    {0xC0000200, 24, "documentation (RFC 5737)"},
    {0xC0A80000, 16, "private (RFC 1918)"},
    {0xC6120000, 15, "benchmarking (RFC 2544)"},
    {0xC6336400, 24, "documentation (RFC 5737)"},
    {0xCB007100, 24, "documentation (RFC 5737)"},
    {0xE0000000, 4, "multicast"},
    {0xFFFFFFFF, 32, "broadcast"},  // before the reserved block that holds it
    {0xF0000000, 4, "reserved (RFC 1112)"},
}};

std::optional<std::string> nonPublic4(uint32_t a) {
  for (const auto& b : kIpv4) {
    const uint32_t mask = b.bits == 0 ? 0 : ~uint32_t{0} << (32 - b.bits);
    if ((a & mask) == b.net) return b.why;
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> nonPublicAddress(const std::string& ip) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(ip, ec);
  if (ec) return std::nullopt;
  if (address.is_v4()) return nonPublic4(address.to_v4().to_uint());
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return nonPublic4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint());
  const auto bytes = v6.to_bytes();
  if (v6.is_unspecified()) return "unspecified";
  if (v6.is_loopback()) return "loopback";
  if (bytes[0] == 0xff) return "multicast";
  if ((bytes[0] & 0xfe) == 0xfc) return "unique local (RFC 4193)";
  if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) return "link-local";
  if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8) return "documentation (RFC 3849)";
  if (bytes[0] == 0x01 && bytes[1] == 0x00 && bytes[2] == 0 && bytes[3] == 0 && bytes[4] == 0 && bytes[5] == 0 &&
      bytes[6] == 0 && bytes[7] == 0)
    return "discard-only (RFC 6666)";
  return std::nullopt;
}

}  // namespace safetynet
