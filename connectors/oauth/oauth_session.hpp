#pragma once
// OAuth2 refresh-token grant for a connector (RFC 6749 section 6), built for platforms that rotate
// refresh tokens (Outreach, Salesloft): the previous refresh token stops working once a new one is
// issued, so the newest must never be lost.
//
//  - Every token response is written to the store (refresh token, access token, expiry, mint
//    time) in one transaction before the access token is used; a crash after that finds the
//    newest tokens on restart.
//  - The configured refresh token is only the seed: its SHA-256 is stored beside the rotated
//    token, and a different seed in the config (an admin re-authorized) replaces the stored chain.
//  - Access tokens are renewed `renew_before` their expiry and when the platform answers 401;
//    concurrent callers share one renewal.
//  - Tokens are minted at most every `min_mint_interval` (Outreach: one per user per 60 s).
#include <optional>

#include "safetynet/config/config.hpp"
#include "safetynet/core/task.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet {

class OAuthSession {
 public:
  OAuthSession(std::string connector, OAuthConfig config, HttpClientPtr http, Store& store);

  // A usable access token. Throws ConnectorError when none can be had (refused refresh token).
  Task<std::string> accessToken();
  // The platform answered 401 to `rejected`: returns a newer token (renewing unless another
  // caller already did).
  Task<std::string> renewAfterRejection(const std::string& rejected);

 private:
  Task<void> mint();
  void load();
  // The tokens another instance sharing the database minted since this one last did (a chain
  // rotates: the refresh token in memory may be dead): adopted when newer. Whether it adopted.
  bool adoptStored();

  std::string connector_;
  OAuthConfig config_;
  HttpClientPtr http_;
  Store& store_;
  std::string refresh_, access_;
  TimePoint expires_{}, minted_{};
  bool minting_ = false;
  std::string mintError_;
};

}  // namespace safetynet
