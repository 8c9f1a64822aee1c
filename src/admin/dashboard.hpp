#pragma once
// The web dashboard's pages (issue 11 item 4): GET / is index.html, GET /ui/<file> the other
// embedded files (admin/web_files.hpp). Served without a token: they hold no data, and every data
// call the page makes carries the token (Authorization: Bearer). Each answer carries a page's
// security headers: a Content-Security-Policy that allows only our own scripts and styles (never
// inline ones), no framing, no referrer; the server adds nosniff and no-store to every answer.
#include <optional>

#include "safetynet/net/admin_server.hpp"

namespace safetynet::admin {

// The answer when `r` is a dashboard path (an unknown /ui/ file is a 404, a method other than GET
// or HEAD a 405); nullopt for any other path.
std::optional<AdminHttpResponse> dashboardResponse(const AdminHttpRequest& r);

}  // namespace safetynet::admin
