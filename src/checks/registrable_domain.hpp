#pragma once
// The registrable domain of a name, from the public suffix list (libpsl's built-in copy): a file
// of its own so the bounce history can use it without the provider check and its lists.
#include <string>

namespace safetynet::checks {

// The registrable domain ("example.co.uk" for "mail.example.co.uk"), or the input.
std::string registrableDomain(const std::string& ascii_domain);

}  // namespace safetynet::checks
