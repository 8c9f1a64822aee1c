#include "safetynet/net/url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

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

namespace {
bool isHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// What RFC 3986 allows in a path, query and fragment: unreserved, sub-delims, ":" and "@", the
// "/" "?" "#" that separate them; "%" only as the start of an escape (checked by the caller).
bool allowedAfterHost(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/?#").find(c) != std::string_view::npos;
}

std::string encodeForbidden(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool escape = c == '%' && i + 2 < s.size() && isHexDigit(s[i + 1]) && isHexDigit(s[i + 2]);
    if (allowedAfterHost(c) || escape) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}
}  // namespace

std::optional<std::string> resolveLink(std::string_view base, std::string_view link) {
  // The scheme and host stay as written (an IPv6 host keeps its brackets); what follows is encoded.
  size_t hostEnd = 0;
  if (link.substr(0, 2) == "//") {
    hostEnd = link.find_first_of("/?#", 2);
  } else if (const auto sep = link.find("://"); sep != std::string_view::npos && sep == link.find_first_of(":/?#")) {
    hostEnd = link.find_first_of("/?#", sep + 3);
  }
  if (hostEnd == std::string_view::npos) hostEnd = link.size();
  const std::string text = std::string(link.substr(0, hostEnd)) + encodeForbidden(link.substr(hostEnd));
  auto ref = boost::urls::parse_uri_reference(text);
  auto from = boost::urls::parse_uri(base);
  if (!ref || !from) return std::nullopt;
  boost::urls::url out(*from);
  if (out.resolve(*ref).has_error()) return std::nullopt;
  std::string resolved(out.buffer());
  if (!parseUrl(resolved)) return std::nullopt;
  return resolved;
}

bool sameOrigin(const Url& a, const Url& b) {
  auto lower = [](std::string s) {
    for (auto& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  };
  return a.scheme == b.scheme && lower(a.host) == lower(b.host) && a.port == b.port;
}

std::string urlEncode(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

// A loopback address written as an address (127.0.0.0/8, ::1, [::1]) or the name "localhost":
// "127.evil.example" and "localhost.evil.example" are names anyone may point anywhere.
bool isLoopbackHost(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace safetynet
