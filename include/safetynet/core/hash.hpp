#pragma once
#include <string>

namespace safetynet {

// Lower-case hex SHA-256 of the bytes (OpenSSL): dedupe keys and secret fingerprints.
std::string sha256Hex(const std::string& bytes);

}  // namespace safetynet
