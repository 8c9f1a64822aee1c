#include "fakes/fake_oauth.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace safetynet::fakes {

namespace {
ServerResponse oauthError(int status, const std::string& error, const std::string& description) {
  return ServerResponse{status, "application/json", {{"Cache-Control", "no-store"}},
                        nlohmann::json{{"error", error}, {"error_description", description}}.dump()};
}
}  // namespace

bool tokenEndpointSurvives(const ServerRequest& r, FaultKind k) {
  return r.path != "/oauth/token" || !faultApplies(k);
}

FaultPlan withTokenEndpoint(FaultPlan plan, std::function<ServerResponse()> rate_limited) {
  if (!plan.rate_limited) plan.rate_limited = std::move(rate_limited);
  if (!plan.allows) plan.allows = tokenEndpointSurvives;
  return plan;
}

FakeOAuth::FakeOAuth(std::string client_id, std::string client_secret, std::string first_refresh_token,
                     std::chrono::seconds expires_in, std::chrono::milliseconds min_interval,
                     size_t live_refresh_tokens)
    : client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)),
      refresh_{std::move(first_refresh_token)},
      liveRefreshTokens_(std::max<size_t>(1, live_refresh_tokens)),
      expires_in_(expires_in),
      min_interval_(min_interval) {}

ServerResponse FakeOAuth::token(const ServerRequest& r) {
  std::lock_guard l(mu_);
  if (r.method != "POST") return oauthError(405, "invalid_request", "POST only");
  if (r.header("content-type").rfind("application/x-www-form-urlencoded", 0) != 0)
    return oauthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  auto form = parseFormBody(r.body);
  if (form["client_id"] != client_id_ || form["client_secret"] != client_secret_) {
    ++refused_;
    return oauthError(401, "invalid_client", "Client authentication failed");
  }
  if (form["grant_type"] != "refresh_token") return oauthError(400, "unsupported_grant_type", "refresh_token only");
  if (!redirectUri_.empty() && form["redirect_uri"] != redirectUri_) {
    ++refused_;
    return oauthError(400, "invalid_grant", "The redirect_uri does not match the one the app was authorized with");
  }
  if (std::find(refresh_.begin(), refresh_.end(), form["refresh_token"]) == refresh_.end()) {
    ++refused_;
    return oauthError(400, "invalid_grant", "The provided authorization grant is invalid, expired or revoked");
  }
  const auto now = std::chrono::steady_clock::now();
  if (grants_ > 0 && now - lastGrant_ < min_interval_) {
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(min_interval_ - (now - lastGrant_)).count() + 1;
    ServerResponse resp = oauthError(429, "rate_limited", "Too many token requests");
    resp.headers["Retry-After"] = std::to_string(wait);
    return resp;
  }
  ++grants_;
  ++serial_;
  lastGrant_ = now;
  lastAccess_ = "access-" + std::to_string(serial_);
  // One live token: the one we were given is dead now. More: the oldest goes past the limit.
  if (liveRefreshTokens_ == 1) refresh_.clear();
  refresh_.push_back("refresh-" + std::to_string(serial_));
  while (refresh_.size() > liveRefreshTokens_) refresh_.pop_front();
  access_.insert(lastAccess_);
  return ServerResponse{200, "application/json", {{"Cache-Control", "no-store"}},
                        nlohmann::json{{"access_token", lastAccess_},
                                       {"token_type", "bearer"},
                                       {"expires_in", expires_in_.count()},
                                       {"refresh_token", refresh_.back()},
                                       {"scope", std::string(kGrantedScopes)}}
                            .dump()};
}

void FakeOAuth::setLiveRefreshTokens(size_t n) {
  std::lock_guard l(mu_);
  liveRefreshTokens_ = std::max<size_t>(1, n);
  while (refresh_.size() > liveRefreshTokens_) refresh_.pop_front();
}

void FakeOAuth::requireRedirectUri(std::string uri) {
  std::lock_guard l(mu_);
  redirectUri_ = std::move(uri);
}

bool FakeOAuth::authorizes(const std::string& header) const {
  std::lock_guard l(mu_);
  const std::string prefix = "Bearer ";
  return header.rfind(prefix, 0) == 0 && access_.count(header.substr(prefix.size())) > 0;
}

void FakeOAuth::expireAccessTokens() {
  std::lock_guard l(mu_);
  access_.clear();
}

std::string FakeOAuth::liveRefreshToken() const {
  std::lock_guard l(mu_);
  return refresh_.back();
}

std::string FakeOAuth::lastAccessToken() const {
  std::lock_guard l(mu_);
  return lastAccess_;
}

int FakeOAuth::grants() const {
  std::lock_guard l(mu_);
  return grants_;
}

int FakeOAuth::refusedGrants() const {
  std::lock_guard l(mu_);
  return refused_;
}

}  // namespace safetynet::fakes
