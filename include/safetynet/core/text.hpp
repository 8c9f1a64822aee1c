#pragma once
// Small text helpers shared by the parsers of outside text (addresses, bounces, replies).
#include <algorithm>
#include <string>
#include <string_view>

namespace safetynet {

// ASCII lower case: mail protocol keywords and domain names; other bytes are left alone.
inline std::string asciiLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

inline bool isAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x80; });
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace safetynet
