#pragma once
#include <cstddef>
#include <string>

namespace safetynet {

// Lower-case hex SHA-256 of the bytes (OpenSSL): dedupe keys and secret fingerprints.
std::string sha256Hex(const std::string& bytes);
// Lower-case hex of raw bytes (digests, MACs).
std::string hexOf(const unsigned char* bytes, size_t n);

}  // namespace safetynet
