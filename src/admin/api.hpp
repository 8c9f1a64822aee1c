#pragma once
// The admin HTTP API (notes/product.md, "Acting on a hold, and the admin's view"): routing, bearer
// tokens and JSON, on the queries and actions of src/admin (the same ones the CLI runs). Pure:
// one request in, one response out, no sockets (the server is net/admin_server.hpp), so the
// tests and the fuzz target call it directly.
//
//   GET  /, /ui/<file>                    no token: the dashboard's static files (admin/dashboard.hpp)
//   GET  /healthz                         no token
//   GET  /readyz                          no token (probes); 503 with the reasons when not ready
//   POST /webhooks/{connector}            no token: the platform's signature (admin/webhooks.hpp)
//   GET  /metrics                         read or full token
//   GET  /api/v1/...                      read or full token
//   POST|DELETE /api/v1/...               full token (the read-only one: 403)
#include <functional>
#include <optional>
#include <string>

#include "admin/health.hpp"
#include "admin/webhooks.hpp"
#include "safetynet/config/secret.hpp"
#include "safetynet/net/admin_server.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::admin {

// "Who" in the audit log for a write made with the full-access token.
inline constexpr const char* kApiWho = "admin API (token_file)";

struct ApiHooks {
  // GET /readyz; unset: ready whenever the store answers.
  std::function<Readiness()> readiness;
  // POST /api/v1/reload (the same as SIGHUP): nullopt when the configuration was reloaded, else
  // why it was refused (the running one is kept). Unset: 501.
  std::function<std::optional<std::string>()> reload;
  // GET /metrics: the Prometheus text; unset: 501.
  std::function<std::string()> metrics;
  std::function<TimePoint()> now;  // unset: the system clock
  // POST /webhooks/{connector}: no token; the platform's own signature, which the hook verifies
  // (admin/webhooks.hpp). Unset: 404.
  std::function<WebhookOutcome(const std::string& connector, const AdminHttpRequest&)> webhook;
};

class AdminApi {
 public:
  AdminApi(Store& store, Secret token, Secret read_token, ApiHooks hooks);
  // A reload may change the tokens.
  void setTokens(Secret token, Secret read_token);
  // Never throws: an unexpected failure is logged and answered 500.
  AdminHttpResponse handle(const AdminHttpRequest& request);

 private:
  enum class Access { None, Read, Full };
  Access access(const AdminHttpRequest& r) const;
  AdminHttpResponse route(const AdminHttpRequest& r);

  Store& store_;
  std::string tokenDigest_, readTokenDigest_;  // SHA-256 of each: compared in constant time
  ApiHooks hooks_;
};

}  // namespace safetynet::admin
