#pragma once
// The characters of an address inside a text, byte by byte, as the bounce readers find addresses
// in words of any script. In the core library: the rules' text (rule_engine.cpp) and the readers
// (bounce_text.cpp) end an address at the same place.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace safetynet::bounce {

// An address's characters (RFC 5322 atext and dots; a domain's letters, digits, hyphens, dots, underscores),
// and any byte of a UTF-8 sequence (RFC 6531).
bool utf8Byte(char c);
bool localChar(char c);
bool domainChar(char c);
bool labelEdge(char c);
// Punctuation and spaces outside ASCII (quotation marks, CJK commas and stops, fullwidth forms).
bool unicodePunctuation(char32_t cp);
// The UTF-8 sequence at `from`: its code point and length (1 for a byte that opens none).
std::pair<char32_t, size_t> utf8At(std::string_view s, size_t from);
// How many bytes the character at `pos` takes in an address's domain (or local part); 0 if none.
size_t addressCharAt(std::string_view s, size_t pos, bool local);
// The bytes of the local-part character that ends just before `pos`; 0 if none.
size_t localBefore(std::string_view s, size_t pos);
// How much of `d` (the text after an "@") is a domain of at least `min_labels` labels; 0 if none.
size_t domainLength(std::string_view d, size_t min_labels);
// Where the address around the "@" at `at` begins and ends, [first, second), read as allAddresses
// reads one: a local part or a domain may hold UTF-8 letters (RFC 6531), punctuation (“ ” 「 」 ，)
// ends it, and an ASCII top-level domain ends where the text turns to other letters. {at, at} when
// no address is there.
std::pair<size_t, size_t> addressAround(const std::string& text, size_t at);

}  // namespace safetynet::bounce
