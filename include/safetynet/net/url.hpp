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
// A link a server wrote (JSON:API's links.next...), absolute or relative, made the absolute URL
// to request: resolved against `base` (the URL of the document it came in, RFC 3986 section 5),
// after percent-encoding what RFC 3986 does not allow outside the host: "[" and "]" as JSON:API
// servers write them in a query (page[after]=...), spaces, controls, non-ASCII bytes, a "%" that
// starts no escape. nullopt if it is no http(s) URL even so.
std::optional<std::string> resolveLink(std::string_view base, std::string_view link);
// Same scheme, host and port (a token sent to one may be sent to the other).
bool sameOrigin(const Url& a, const Url& b);
// Percent-encodes a query parameter value.
std::string urlEncode(std::string_view value);
bool isLoopbackHost(std::string_view host);

}  // namespace safetynet
