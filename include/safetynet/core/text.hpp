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

// At most `max_bytes` of `s`, cut before a UTF-8 continuation byte: never half a character.
inline std::string utf8Prefix(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

}  // namespace safetynet
