#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace safetynet {

struct Url {
  std::string scheme;  // http | https
  std::string host;    // without brackets for IPv6
  std::string port;    // always set: explicit or the scheme's default
  std::string target;  // path + query, at least "/"
  bool tls() const { return scheme == "https"; }
};

// nullopt unless an absolute http(s) URL with a host.
std::optional<Url> parseUrl(std::string_view text);
// Percent-encodes a query parameter value.
std::string urlEncode(std::string_view value);
bool isLoopbackHost(std::string_view host);

}  // namespace safetynet
