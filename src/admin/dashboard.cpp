#include "admin/dashboard.hpp"

#include <string_view>

#include "admin/web_files.hpp"

namespace safetynet::admin {

namespace {

// The policy: scripts, styles, images and API calls from this origin only; inline scripts and
// styles refused (the page builds every element from data with textContent, so an address or a
// subject can never run as code); no plugins, no framing, no <base> and forms post only here.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string_view contentType(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

AdminHttpResponse page(int status, std::string_view type, std::string_view body) {
  AdminHttpResponse r;
  r.status = status;
  r.content_type = std::string(type);
  r.body = std::string(body);
  r.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  return r;
}

}  // namespace

std::optional<AdminHttpResponse> dashboardResponse(const AdminHttpRequest& r) {
  const auto& seg = r.segments;
  const bool index = seg.empty();
  if (!index && seg[0] != "ui") return std::nullopt;
  if (r.method != "GET" && r.method != "HEAD") {
    AdminHttpResponse out = page(405, "application/json", "{\"error\":\"method not allowed here; allowed: GET, HEAD\"}\n");
    out.headers.emplace_back("Allow", "GET, HEAD");
    return out;
  }
  // One level: /ui/app.js. Segments are decoded, so "/ui/..%2Fx" is the name "../x", which no
  // embedded file has.
  const std::string name = index ? "index.html" : seg.size() == 2 ? seg[1] : "";
  for (const auto& f : webFiles())
    if (f.name == name) return page(200, contentType(f.name), f.bytes);
  return page(404, "application/json", "{\"error\":\"no such file in the dashboard\"}\n");
}

}  // namespace safetynet::admin
