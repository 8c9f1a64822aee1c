// libFuzzer target: the address parser (src/checks/address.cpp) on any bytes, as a recipient
// address read from a platform arrives.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "safetynet/check/address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const safetynet::ParsedAddress p = safetynet::parseAddress(text);
  if (p.address.has_value() == p.error.has_value()) __builtin_trap();  // exactly one of the two
  if (p.address) {
    // What was accepted parses again to the same address (the cache and the lists key on it).
    const std::string normalized = p.address->normalized();
    const safetynet::ParsedAddress again = safetynet::parseAddress(normalized);
    if (!again.address) __builtin_trap();
  }
  (void)safetynet::canonicalAddress(text);
  return 0;
}
