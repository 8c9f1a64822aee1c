#include "connectors/oauth/oauth_session.hpp"

#include "safetynet/core/hash.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "safetynet/connector/connector.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/net/url.hpp"

namespace safetynet {

namespace {

std::optional<long long> toNumber(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  try {
    return std::stoll(*s);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Built outside the coroutine: g++ 12 mishandles braced lists of string literals inside them.
std::vector<std::pair<std::string, std::string>> tokenState(const std::string& refresh, const std::string& access,
                                                            TimePoint expires, TimePoint minted) {
  return {{"oauth.refresh_token", refresh},
          {"oauth.access_token", access},
          {"oauth.access_expires", std::to_string(toMillis(expires))},
          {"oauth.minted_at", std::to_string(toMillis(minted))}};
}

Task<void> sleepFor(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}
}  // namespace

OAuthSession::OAuthSession(std::string connector, OAuthConfig config, HttpClientPtr http, Store& store)
    : connector_(std::move(connector)), config_(std::move(config)), http_(std::move(http)), store_(store) {
  load();
}

void OAuthSession::load() {
  const std::string seed = sha256Hex(config_.refresh_token.reveal());
  if (store_.connectorState(connector_, "oauth.seed") == seed) {
    refresh_ = store_.connectorState(connector_, "oauth.refresh_token").value_or(config_.refresh_token.reveal());
    access_ = store_.connectorState(connector_, "oauth.access_token").value_or("");
    expires_ = fromMillis(toNumber(store_.connectorState(connector_, "oauth.access_expires")).value_or(0));
    minted_ = fromMillis(toNumber(store_.connectorState(connector_, "oauth.minted_at")).value_or(0));
    return;
  }
  // A new seed: the admin authorized again. Start a new chain from it.
  refresh_ = config_.refresh_token.reveal();
  access_.clear();
  store_.putConnectorStates(connector_, {{"oauth.seed", seed},
                                         {"oauth.refresh_token", refresh_},
                                         {"oauth.access_token", ""},
                                         {"oauth.access_expires", "0"},
                                         {"oauth.minted_at", "0"}});
  logger(connector_)->info("oauth: starting from the configured refresh token");
}

bool OAuthSession::adoptStored() {
  if (store_.connectorState(connector_, "oauth.seed") != sha256Hex(config_.refresh_token.reveal())) return false;
  const TimePoint minted = fromMillis(toNumber(store_.connectorState(connector_, "oauth.minted_at")).value_or(0));
  if (minted <= minted_) return false;
  refresh_ = store_.connectorState(connector_, "oauth.refresh_token").value_or(refresh_);
  access_ = store_.connectorState(connector_, "oauth.access_token").value_or("");
  expires_ = fromMillis(toNumber(store_.connectorState(connector_, "oauth.access_expires")).value_or(0));
  minted_ = minted;
  return true;
}

Task<std::string> OAuthSession::accessToken() {
  if (access_.empty() || Clock::now() + config_.renew_before >= expires_) co_await mint();
  co_return access_;
}

Task<std::string> OAuthSession::renewAfterRejection(const std::string& rejected) {
  if (access_ == rejected || access_.empty()) {
    expires_ = TimePoint{};  // the platform says it is no good, whatever its expiry
    co_await mint();
  }
  co_return access_;
}

Task<void> OAuthSession::mint() {
  // One renewal at a time; the others wait for it and use its result.
  if (minting_) {
    while (minting_) co_await sleepFor(std::chrono::milliseconds(20));
    if (!mintError_.empty()) throw ConnectorError(mintError_);
    co_return;
  }
  minting_ = true;
  mintError_.clear();
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{minting_};

  // Several instances share the chain through the store: one may have minted meanwhile.
  if (adoptStored() && !access_.empty() && Clock::now() + config_.renew_before < expires_) co_return;
  if (const auto next = minted_ + config_.min_mint_interval; Clock::now() < next) {
    // Too soon to mint: keep using a token that still works, else wait for the platform's limit.
    if (!access_.empty() && Clock::now() < expires_) co_return;
    // At most the limit itself: a last grant "in the future" means our clock went back since.
    const auto wait = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()),
                               std::chrono::duration_cast<std::chrono::milliseconds>(config_.min_mint_interval));
    logger(connector_)->info("oauth: waiting {} ms for the platform's token-minting limit", wait.count());
    co_await sleepFor(wait);
  }
  // A second try only when another instance rotated the chain while this one asked (invalid_grant
  // for a refresh token the store no longer holds).
  std::string failure;
  for (int attempt = 0; attempt < 2; ++attempt) {
    HttpRequest req;
    req.method = "POST";
    req.url = config_.token_url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    req.body = "grant_type=refresh_token&refresh_token=" + urlEncode(refresh_) + "&client_id=" + urlEncode(config_.client_id) +
               "&client_secret=" + urlEncode(config_.client_secret.reveal());
    if (!config_.redirect_uri.empty()) req.body += "&redirect_uri=" + urlEncode(config_.redirect_uri);
    // A token POST is not repeated after a lost response: the server may have rotated already.
    req.idempotent = false;
    HttpResponse r;
    failure.clear();
    try {
      r = co_await http_->send(std::move(req));
    } catch (const std::exception& e) {
      failure = connector_ + ": the token endpoint could not be reached: " + e.what();
    }
    if (failure.empty()) {
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      const std::string token = jsonString(j, "access_token");
      if (r.status >= 200 && r.status < 300 && !token.empty()) {
        const std::string newRefresh = jsonString(j, "refresh_token", refresh_);
        long long expiresIn = 7200;
        if (j.is_object() && j.contains("expires_in") && j["expires_in"].is_number_integer())
          expiresIn = j["expires_in"].get<long long>();
        const TimePoint now = Clock::now();
        const TimePoint expires = now + std::chrono::seconds(expiresIn);
        // Stored before anything uses the token: the old refresh token is dead from here on.
        store_.putConnectorStates(connector_, tokenState(newRefresh, token, expires, now));
        refresh_ = newRefresh;
        access_ = token;
        expires_ = expires;
        minted_ = now;
        logger(connector_)->info("oauth: access token renewed (valid {} s)", expiresIn);
        co_return;
      }
      const std::string error = jsonString(j, "error");
      if (error == "invalid_grant" || r.status == 401) {
        if (attempt == 0 && adoptStored()) {  // another instance rotated the chain meanwhile
          if (!access_.empty() && Clock::now() + config_.renew_before < expires_) co_return;
          continue;
        }
        failure = connector_ + ": the platform refused the refresh token (" + (error.empty() ? std::to_string(r.status) : error) +
                  "): authorize Safety Net again and put the new refresh token in the configuration";
      } else {
        failure = connector_ + ": the token endpoint answered " + std::to_string(r.status) +
                  (error.empty() ? std::string() : " (" + error + ")");
      }
    }
    break;
  }
  mintError_ = failure;
  throw ConnectorError(failure);
}

}  // namespace safetynet
