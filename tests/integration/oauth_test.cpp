// OAuth2 refresh-token grant against a fake token endpoint that rotates refresh tokens and kills
// the old one, as Salesloft does (Outreach keeps older ones live: this is the stricter case).
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <thread>

#include "connectors/oauth/oauth_session.hpp"
#include "fakes/fake_oauth.hpp"
#include "integration/peers.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/core/time_format.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;
using namespace asio::experimental::awaitable_operators;

namespace {

class OAuthTest : public ::testing::Test {
 protected:
  asio::io_context io;
  TempDir dir;
  StorePtr store = openSqliteStore(dir.path().string());
  std::unique_ptr<fakes::FakeOAuth> fake = std::make_unique<fakes::FakeOAuth>("client-1", "s3cret", "seed-refresh");
  HttpServer server{io.get_executor(), [this](const ServerRequest& r) { return fake->token(r); }};

  OAuthConfig config(const std::string& seed = "seed-refresh") {
    OAuthConfig c;
    c.enabled = true;
    c.token_url = server.baseUrl() + "/oauth/token";
    c.client_id = "client-1";
    c.client_secret = Secret("s3cret");
    c.refresh_token = Secret(seed);
    return c;
  }
  std::unique_ptr<OAuthSession> session(OAuthConfig c) {
    HttpClientOptions o;
    o.retry.base_delay = milliseconds(10);
    return std::make_unique<OAuthSession>("outreach-test", c, makeHttpClient(io.get_executor(), o), *store);
  }
  std::string token(OAuthSession& s) { return runTask(io, s.accessToken()); }
};

TEST_F(OAuthTest, MintsOnceAndReusesTheToken) {
  auto s = session(config());
  EXPECT_EQ(token(*s), "access-1");
  EXPECT_EQ(token(*s), "access-1");
  EXPECT_EQ(fake->grants(), 1);
  // The rotated refresh token is in the store, with the access token and its expiry.
  EXPECT_EQ(store->connectorState("outreach-test", "oauth.refresh_token"), "refresh-1");
  EXPECT_EQ(store->connectorState("outreach-test", "oauth.access_token"), "access-1");
}

TEST_F(OAuthTest, ARestartUsesTheRotatedTokenNotTheSeed) {
  {
    auto s = session(config());
    EXPECT_EQ(token(*s), "access-1");
  }
  fake->expireAccessTokens();  // and the seed is dead since the first grant
  auto s = session(config());
  // The stored access token is still within its expiry: used without a grant...
  EXPECT_EQ(token(*s), "access-1");
  EXPECT_EQ(fake->grants(), 1);
  // ...and when the platform rejects it, the newest refresh token renews it.
  EXPECT_EQ(runTask(io, s->renewAfterRejection("access-1")), "access-2");
  EXPECT_EQ(fake->refusedGrants(), 0);
  EXPECT_EQ(store->connectorState("outreach-test", "oauth.refresh_token"), "refresh-2");
}

TEST_F(OAuthTest, ANewSeedInTheConfigStartsANewChain) {
  {
    auto s = session(config());
    EXPECT_EQ(token(*s), "access-1");
  }
  // The admin authorized again: the platform's live refresh token is the new seed.
  fake = std::make_unique<fakes::FakeOAuth>("client-1", "s3cret", "seed-2");
  auto s = session(config("seed-2"));
  EXPECT_EQ(token(*s), "access-1");  // the new fake's first
  EXPECT_EQ(fake->refusedGrants(), 0);
  EXPECT_EQ(store->connectorState("outreach-test", "oauth.refresh_token"), "refresh-1");
}

TEST_F(OAuthTest, ConcurrentCallersShareOneRenewal) {
  auto s = session(config());
  auto both = [&]() -> Task<std::pair<std::string, std::string>> {
    auto ex = co_await asio::this_coro::executor;
    auto a = asio::co_spawn(ex, s->accessToken(), asio::use_future);
    std::string b = co_await s->accessToken();
    while (a.wait_for(seconds(0)) != std::future_status::ready) {
      asio::steady_timer t(ex, milliseconds(5));
      co_await t.async_wait(asio::use_awaitable);
    }
    co_return std::make_pair(a.get(), b);
  };
  auto [a, b] = runTask(io, both());
  EXPECT_EQ(a, "access-1");
  EXPECT_EQ(b, "access-1");
  EXPECT_EQ(fake->grants(), 1);
}

TEST_F(OAuthTest, RenewsBeforeExpiry) {
  fake = std::make_unique<fakes::FakeOAuth>("client-1", "s3cret", "seed-refresh", seconds(303));
  auto c = config();
  c.renew_before = seconds(300);
  auto s = session(c);
  EXPECT_EQ(token(*s), "access-1");
  // 303 s left > 300 s. (3 s of margin: the session stamps the expiry with its own clock and then
  // writes the tokens to the store, which under a loaded sanitizer build took over a second.)
  EXPECT_EQ(token(*s), "access-1");
  std::this_thread::sleep_for(milliseconds(3100));
  EXPECT_EQ(token(*s), "access-2");  // under 300 s left: renewed before it expires
}

TEST_F(OAuthTest, RespectsTheMintingLimit) {
  fake = std::make_unique<fakes::FakeOAuth>("client-1", "s3cret", "seed-refresh", seconds(7200), milliseconds(800));
  auto c = config();
  c.min_mint_interval = milliseconds(800);
  auto s = session(c);
  EXPECT_EQ(token(*s), "access-1");
  fake->expireAccessTokens();
  const auto start = steady_clock::now();
  EXPECT_EQ(runTask(io, s->renewAfterRejection("access-1")), "access-2");
  EXPECT_GE(steady_clock::now() - start, milliseconds(600));  // waited instead of drawing a 429
  EXPECT_EQ(fake->grants(), 2);
}

TEST_F(OAuthTest, ARefusedRefreshTokenIsAClearErrorWithoutSecrets) {
  auto s = session(config("not-the-live-one"));
  try {
    token(*s);
    FAIL() << "expected a ConnectorError";
  } catch (const ConnectorError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("refused the refresh token (invalid_grant)"), std::string::npos) << what;
    EXPECT_NE(what.find("authorize Safety Net again"), std::string::npos) << what;
    EXPECT_EQ(what.find("not-the-live-one"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
  }
}

}  // namespace

TEST_F(OAuthTest, AClockSteppedBackDoesNotMakeTheNextRenewalWaitForIt) {
  fake = std::make_unique<fakes::FakeOAuth>("client-1", "s3cret", "seed-refresh", seconds(7200), milliseconds(800));
  auto c = config();
  c.min_mint_interval = milliseconds(800);
  {
    auto s = session(c);
    EXPECT_EQ(token(*s), "access-1");
  }
  // The wall clock went back a day since that grant: its time is now a day ahead (as a restart
  // finds it in the store). The platform rejects the token: the renewal waits out the minting
  // limit at most, not the day until the clock catches up with the grant.
  store->putConnectorState("outreach-test", "oauth.minted_at", std::to_string(toMillis(Clock::now() + hours(24))));
  auto s = session(c);
  fake->expireAccessTokens();
  const auto start = steady_clock::now();
  auto bounded = [&]() -> Task<std::string> {
    asio::steady_timer giveUp(co_await asio::this_coro::executor, seconds(5));
    auto r = co_await (s->renewAfterRejection("access-1") || giveUp.async_wait(asio::use_awaitable));
    co_return r.index() == 0 ? std::get<0>(r) : "still waiting after 5 s";
  };
  EXPECT_EQ(runTask(io, bounded()), "access-2");
  EXPECT_LT(steady_clock::now() - start, seconds(3));
}

// Two instances sharing one database (store.backend postgres) each hold a session on the same
// chain. When one rotates it, the other's refresh token in memory is dead: it takes the stored,
// newer tokens instead of failing with invalid_grant (before: "authorize Safety Net again" on the
// instance that took a connector over).
TEST_F(OAuthTest, AnotherInstanceRotatingTheChainIsFollowedNotFatal) {
  auto a = session(config());
  auto b = session(config());
  EXPECT_EQ(token(*a), "access-1");  // a rotates seed -> refresh-1
  // b never minted: it takes a's token from the store, no grant.
  EXPECT_EQ(token(*b), "access-1");
  EXPECT_EQ(fake->grants(), 1);
  // a renews again (refresh-1 -> refresh-2); b's memory still holds refresh-1, now dead.
  fake->expireAccessTokens();
  EXPECT_EQ(runTask(io, a->renewAfterRejection("access-1")), "access-2");
  EXPECT_EQ(runTask(io, b->renewAfterRejection("access-1")), "access-2");  // adopted, not minted with refresh-1
  EXPECT_EQ(fake->refusedGrants(), 0);
  EXPECT_EQ(store->connectorState("outreach-test", "oauth.refresh_token"), "refresh-2");
}
