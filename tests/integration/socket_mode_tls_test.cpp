// Socket Mode over wss://, as Slack's: the fake Slack's apps.connections.open hands out a wss://
// URL to a local TLS WebSocket whose certificate comes from a test CA made here by openssl; the
// client (notify.slack.ca_file) verifies it and its host name, and refuses one from another CA.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>

#include "fakes/fake_slack.hpp"
#include "integration/peers.hpp"
#include "notify/socket_mode.hpp"
#include "safetynet/net/http_client.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

class SocketModeTls : public ::testing::Test {
 protected:
  asio::io_context io;
  TestCa ca;
  fakes::FakeSlack slack{io.get_executor(), "xoxb-test"};
  std::vector<std::pair<std::string, nlohmann::json>> envelopes;
  std::unique_ptr<SocketModeClient> client;
  bool ended = false;

  void SetUp() override { slack.enableSocketMode("xapp-1-test", fakes::FakeTls{ca.cert(), ca.key()}); }
  void TearDown() override {
    if (!client) return;
    client->stop();
    runUntil([&] { return ended; }, seconds(5));
  }

  // A Socket Mode client trusting `ca_file` only (as notify.slack.ca_file does in the daemon).
  void start(const std::string& ca_file) {
    HttpClientOptions ho;
    ho.ca_file = ca_file;
    SocketModeOptions o;
    o.base_url = slack.baseUrl();
    o.app_token = Secret("xapp-1-test");
    o.websocket.ca_file = ca_file;
    o.min_backoff = milliseconds(100);
    o.max_backoff = milliseconds(200);
    client = std::make_unique<SocketModeClient>(io.get_executor(), makeHttpClient(io.get_executor(), ho), o,
                                                [this](std::string type, nlohmann::json payload) -> Task<void> {
                                                  envelopes.emplace_back(std::move(type), std::move(payload));
                                                  co_return;
                                                });
    asio::co_spawn(io, client->run(), [this](std::exception_ptr) { ended = true; });
  }

  bool runUntil(const std::function<bool()>& done, milliseconds limit = seconds(10)) {
    const auto end = steady_clock::now() + limit;
    io.restart();
    while (!done() && steady_clock::now() < end) io.run_one_for(milliseconds(20));
    return done();
  }
};

}  // namespace

TEST_F(SocketModeTls, TheClientVerifiesTheWssCertificateAgainstTheTestCaAndGetsEnvelopes) {
  start(ca.ca());
  ASSERT_TRUE(runUntil([&] { return client->connected(); })) << "no wss:// link";
  EXPECT_EQ(slack.socketMode().connectionsAccepted(), 1);
  EXPECT_EQ(slack.socketMode().tlsHandshakeFailures(), 0);
  const std::string env = slack.socketMode().sendEnvelope("interactive", {{"type", "block_actions"}});
  ASSERT_TRUE(runUntil([&] { return slack.socketMode().ackCount(env) == 1 && envelopes.size() == 1; }));
  EXPECT_EQ(envelopes[0].first, "interactive");
  EXPECT_EQ(envelopes[0].second["type"], "block_actions");
  // A refresh over TLS too: a new wss:// URL, a new verified link.
  slack.socketMode().sendDisconnect("refresh_requested", milliseconds(200));
  ASSERT_TRUE(runUntil([&] { return client->links() == 2 && client->connected(); }));
  EXPECT_EQ(slack.socketMode().ticketsUsed().size(), 2u);
}

TEST_F(SocketModeTls, ACertificateFromAnotherCaIsRefusedAndNothingIsReceived) {
  TestCa other;
  start(other.ca());
  // The client tries (and tries again, with backoff), and refuses the certificate every time.
  ASSERT_TRUE(runUntil([&] { return slack.socketMode().tlsHandshakeFailures() >= 2; }))
      << "the client did not try the wss:// link twice";
  EXPECT_FALSE(client->connected());
  EXPECT_EQ(client->links(), 0);
  EXPECT_EQ(slack.socketMode().connectionsAccepted(), 0);
  EXPECT_TRUE(slack.socketMode().sendEnvelope("interactive", {{"type", "block_actions"}}).empty());
  EXPECT_TRUE(envelopes.empty());
}

TEST_F(SocketModeTls, TheSystemTrustStoreAloneDoesNotTrustTheTestCa) {
  start("");  // no ca_file: the system's CAs, which do not know the test CA
  ASSERT_TRUE(runUntil([&] { return slack.socketMode().tlsHandshakeFailures() >= 1; }));
  EXPECT_FALSE(client->connected());
  EXPECT_EQ(slack.socketMode().connectionsAccepted(), 0);
}
