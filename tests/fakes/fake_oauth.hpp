#pragma once
// The token endpoint of a platform that rotates refresh tokens (Outreach, Salesloft): RFC 6749
// section 6 refresh-token grant, form-encoded, client credentials in the body. Each grant issues
// a new access token and a new refresh token. With `live_refresh_tokens` 1 (Salesloft: "refresh
// tokens rotate") it kills the refresh token it was given, so a lost newest refresh token means
// re-authorizing; Outreach keeps up to 100 active refresh tokens per user and app
// (shared/notes/platforms.md, from its getting-started page), the oldest going past that, so a
// grant whose answer a client never kept leaves the older token working. Errors as RFC 6749 5.2
// ({"error":"invalid_grant"}); minting faster than `min_interval` answers 429 with Retry-After
// (Outreach: one per user per 60 s).
#include <chrono>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "safetynet/net/http_server.hpp"

namespace safetynet::fakes {

// The scopes an app's grant carries here: what docs/connectors/outreach.md says the connector
// needs, and no more (the fake Outreach refuses what they do not cover).
inline constexpr const char* kGrantedScopes =
    "mailings.all prospects.read sequenceStates.all users.read emailAddresses.read webhooks.write";

// For FaultPlan::allows on a server that also serves the token endpoint: each grant rotates the
// refresh token and (with one live token) kills the old one, so a grant whose answer is lost (or cut, or a 500 after it
// was carried out) leaves no live refresh token, which no client can recover from short of being
// authorized again. The token endpoint gets only the faults that do not carry the grant out.
bool tokenEndpointSurvives(const ServerRequest& r, FaultKind k);
// `plan` for such a server: its own 429 unless the plan has one, and tokenEndpointSurvives unless
// the plan says which faults go where.
FaultPlan withTokenEndpoint(FaultPlan plan, std::function<ServerResponse()> rate_limited);

class FakeOAuth {
 public:
  FakeOAuth(std::string client_id, std::string client_secret, std::string first_refresh_token,
            std::chrono::seconds expires_in = std::chrono::seconds(7200),
            std::chrono::milliseconds min_interval = std::chrono::milliseconds(0), size_t live_refresh_tokens = 1);
  ServerResponse token(const ServerRequest& r);
  // "Bearer <token>" names a live access token.
  bool authorizes(const std::string& authorization_header) const;
  // Every access token issued so far stops working (as when they expire).
  void expireAccessTokens();
  // How many refresh tokens stay live from now on (1: each grant kills the one it was given).
  void setLiveRefreshTokens(size_t n);
  // The newest refresh token (older ones may still be live, up to live_refresh_tokens).
  std::string liveRefreshToken() const;
  std::string lastAccessToken() const;
  int grants() const;
  int refusedGrants() const;
  // A grant must name this redirect_uri (the app's, as registered; Outreach's token examples send
  // it with the refresh grant): 400 invalid_grant otherwise. Empty (the default): not checked.
  void requireRedirectUri(std::string uri);

 private:
  mutable std::mutex mu_;
  std::string client_id_, client_secret_, redirectUri_;
  std::deque<std::string> refresh_;  // live refresh tokens, the newest last
  size_t liveRefreshTokens_;
  std::chrono::seconds expires_in_;
  std::chrono::milliseconds min_interval_;
  std::set<std::string> access_;
  std::string lastAccess_;
  std::chrono::steady_clock::time_point lastGrant_{};
  int grants_ = 0, refused_ = 0, serial_ = 0;
};

}  // namespace safetynet::fakes
