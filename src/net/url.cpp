#include "safetynet/net/url.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace safetynet {

std::optional<Url> parseUrl(std::string_view text) {
  auto r = boost::urls::parse_absolute_uri(text);
  if (!r) return std::nullopt;
  Url u;
  u.scheme = std::string(r->scheme());
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  if (!r->has_authority() || r->encoded_host().empty()) return std::nullopt;
  // encoded_host() is the name or the IPv4 address as written; IPv6 loses its brackets.
  u.host = r->host_type() == boost::urls::host_type::ipv6 ? std::string(r->encoded_host_address())
                                                         : std::string(r->encoded_host());
  u.port = r->has_port() ? std::string(r->port()) : (u.scheme == "https" ? "443" : "80");
  u.target = std::string(r->encoded_path());
  if (u.target.empty()) u.target = "/";
  if (r->has_query()) u.target += "?" + std::string(r->encoded_query());
  return u;
}

std::string urlEncode(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

bool isLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace safetynet
