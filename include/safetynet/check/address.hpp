#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace safetynet {

// An address that passed the strict syntax rules (notes: accept only what a sales platform and a
// real MTA will carry: dot-atom local parts, no quotes, comments or address literals).
struct Address {
  std::string original;
  std::string local;         // as written (case kept: local parts are case-sensitive in theory)
  std::string domain;        // lower-cased, Unicode (NFC) form
  std::string ascii_domain;  // A-labels, what DNS is asked
  bool smtputf8 = false;     // the local part needs SMTPUTF8 (non-ASCII)
  std::string normalized() const { return local + "@" + domain; }
};

struct AddressError {
  std::string reason;  // human words: "local part longer than 64 octets"
};

// Parses and validates; exactly one of the two is set.
struct ParsedAddress {
  std::optional<Address> address;
  std::optional<AddressError> error;
};

ParsedAddress parseAddress(std::string_view text);

// Lower-cased "local@domain" for list and cache look-ups; the input unchanged if it does not parse.
std::string canonicalAddress(std::string_view text);

}  // namespace safetynet
