// A reload (SIGHUP, POST /api/v1/reload) builds the services anew from the configuration
// (src/app/daemon.cpp reload -> buildServices). The bounce rules are process-wide, so building
// them is the one step with an effect outside the new services: it must happen only when the
// whole build succeeds, or a refused reload ("the running configuration is kept") would leave
// the new rules file live.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "bounce/record.hpp"
#include "bounce/rule_engine.hpp"
#include "fakes/static_resolver.hpp"
#include "safetynet/app/app.hpp"

using namespace safetynet;

namespace {

struct TempDir {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("sn-reload-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    bounce::installRuleSet(bounce::builtinRules());
    std::filesystem::remove_all(dir);
  }
};

std::string reasonOf(const std::string& diagnostic) {
  bounce::BounceRecord r;
  r.recipient = "kim@globex.test";
  r.action = "failed";
  r.diagnostic = diagnostic;
  return bounce::completeRecord(r).reason;
}

void writeRules(const std::filesystem::path& file, const std::string& reason) {
  std::ofstream(file) << "rules:\n"
                         "  - {id: acme-gateway-closed, kind: phrase, match: 'acme gateway: box closed', reason: "
                      << reason << ", source: {ref: 'our own gateway, 2026-11'}}\n";
}

}  // namespace

// The daemon's services as started: a rules file naming one reason for an admin's wording.
class ServicesReload : public ::testing::Test {
 protected:
  TempDir t;
  StorePtr store = openSqliteStore((t.dir / "state").string());
  boost::asio::io_context io;
  Config c;
  void SetUp() override {
    c.bounces.rules_file = (t.dir / "rules.yaml").string();
    writeRules(c.bounces.rules_file, "suspend");
    buildServices(io.get_executor(), c, *store, {}, /*network=*/false, /*smtp=*/false);
  }
};

TEST_F(ServicesReload, ARebuildRereadsTheBounceRulesFile) {
  EXPECT_EQ(reasonOf("550 acme gateway: box closed"), "suspend");
  writeRules(c.bounces.rules_file, "hasmoved");  // the admin edits the file, then reloads
  buildServices(io.get_executor(), c, *store, {}, false, false);
  EXPECT_EQ(reasonOf("550 acme gateway: box closed"), "hasmoved");
}

TEST_F(ServicesReload, ARefusedRebuildKeepsTheRunningBounceRules) {
  // The new configuration has a new rules file and a connector whose CA file cannot be read: the
  // build fails after the rules were read, and the daemon keeps what it runs.
  Config next = c;
  next.bounces.rules_file = (t.dir / "rules-next.yaml").string();
  writeRules(next.bounces.rules_file, "hasmoved");
  ConnectorConfig cc;
  cc.name = "close";
  cc.type = "close";
  cc.base_url = "https://api.close.test";
  cc.ca_file = (t.dir / "missing-ca.pem").string();
  next.connectors.push_back(cc);
  EXPECT_ANY_THROW(buildServices(io.get_executor(), next, *store, {}, false, false));
  EXPECT_EQ(reasonOf("550 acme gateway: box closed"), "suspend");
}

// What the running services carry into a reload's (buildServices' `previous`): the SMTP session
// counts, so the probe limits hold while the old check finishes (SmtpLimits.
// AReloadsNewCheckCountsTheOldOnesSessions), and the DNS distrust, so that a webhook's listing
// between the reload and the next canary check does not take a lying resolver's NXDOMAIN as a fact.
TEST_F(ServicesReload, ARebuildCarriesTheSessionCountsAndTheDnsDistrust) {
  c.smtp_probe.enabled = true;
  ServiceOverrides o;
  o.dns = std::make_shared<fakes::StaticResolver>();
  auto running = buildServices(io.get_executor(), c, *store, o, true, true);
  ASSERT_TRUE(running->smtp_sessions);
  running->pipeline->setDnsDistrust("our resolver says canary gmail.com does not exist (NXDOMAIN)");
  auto next = buildServices(io.get_executor(), c, *store, o, true, true, running.get());
  EXPECT_EQ(next->smtp_sessions, running->smtp_sessions);
  EXPECT_EQ(next->pipeline->dnsDistrust(), running->pipeline->dnsDistrust());
  // A first build (a start) has its own.
  auto fresh = buildServices(io.get_executor(), c, *store, o, true, true);
  EXPECT_NE(fresh->smtp_sessions, running->smtp_sessions);
  EXPECT_TRUE(fresh->pipeline->dnsDistrust().empty());
}

// A reload kept nothing of a connector: a new one started with a full rate budget beside the old
// one's in-flight work (both spending the platform's quota), a new OAuth session and a full first
// listing. A connector whose settings did not change is now the running one; a changed one (here
// its API key) is built anew. Its place in the file and its mode are not its settings.
TEST_F(ServicesReload, ARebuildKeepsAConnectorWhoseSettingsDidNotChange) {
  ConnectorConfig cc;
  cc.name = "close-main";
  cc.type = "close";
  cc.base_url = "https://api.close.test";
  cc.api_key = Secret("api_key_1");
  cc.where = "safetynet.yaml:12:5";
  c.connectors = {cc};
  auto running = buildServices(io.get_executor(), c, *store, {}, false, false);
  Config same = c;
  same.connectors[0].where = "safetynet.yaml:14:5";  // lines added above it
  same.connectors[0].mode = "shadow";
  auto next = buildServices(io.get_executor(), same, *store, {}, false, false, running.get());
  ASSERT_EQ(next->connectors.size(), 1u);
  EXPECT_EQ(next->connectors[0], running->connectors[0]);
  Config rotated = c;
  rotated.connectors[0].api_key = Secret("api_key_2");
  auto afterRotation = buildServices(io.get_executor(), rotated, *store, {}, false, false, next.get());
  EXPECT_NE(afterRotation->connectors[0], running->connectors[0]);
  EXPECT_EQ(afterRotation->connectors[0]->name(), "close-main");
}
