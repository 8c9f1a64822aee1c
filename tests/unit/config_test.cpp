#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "safetynet/config/config.hpp"

using namespace safetynet;

namespace {

std::string firstError(const std::string& yaml) {
  auto r = loadConfigText(yaml, "sn.yaml");
  return r.errors.empty() ? std::string("(no error)") : r.errors.front().message;
}

const char* kValidClose = R"(connectors:
  - name: close-main
    type: close
    api_key: k123
)";

struct BadConfig {
  const char* name;
  std::string yaml;
  std::string expected;
};

}  // namespace

TEST(Config, DefaultsFollowTheProductBrief) {
  auto r = loadConfigText("", "sn.yaml");
  ASSERT_TRUE(r.ok());
  const Config& c = *r.config;
  EXPECT_EQ(c.state_dir, "/var/lib/safetynet");
  EXPECT_EQ(c.poll_interval, std::chrono::seconds(10));
  EXPECT_EQ(c.act_margin, std::chrono::seconds(20));
  EXPECT_EQ(c.min_lead_time, std::chrono::minutes(2));
  EXPECT_EQ(c.lookahead, std::chrono::minutes(60));
  EXPECT_EQ(c.recheck_after, std::chrono::hours(24 * 30));
  EXPECT_EQ(c.policy.on_internal_error, "allow");
  EXPECT_EQ(c.policy.revert.size(), 7u);
  EXPECT_EQ(c.smtp_probe.port, 25);
  EXPECT_TRUE(c.smtp_probe.mail_from.empty());
}

TEST(Config, ReadsTheContractKeys) {
  auto r = loadConfigText(R"(state_dir: /tmp/sn
poll_interval: 10s
min_lead_time: 3m
lookahead: 2h
recheck_after: 7d
policy:
  revert: [bounce_risk, spamtrap]
  on_internal_error: revert
  signals:
    CATCH_ALL: {weight: 1.0}
dns:
  servers: ["127.0.0.1:5353"]
  timeout: 500ms
smtp_probe: {enabled: false, helo: probe.acme.com, mail_from: "", port: 2525, connect_timeout: 5s,
             command_timeout: 5s, per_domain_concurrency: 1}
lists: {allow: /dev/null, spamtraps: /dev/null, complainers: /dev/null, suppression: /dev/null, dnsbl_domains: [dbl.example], dnsbl_ips: [zen.example]}
engagement: {dead_after: 365d}
senders: {pause_bounce_rate: 0.05, min_sends: 20, pause_for: 2h}
connectors:
  - name: close-main
    type: close
    base_url: https://api.close.com/api/v1
    api_key: k123
notify:
  slack: {bot_token: xoxb-1, channel: "#deliverability", dm_rep: true}
)",
                          "sn.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front().message;
  const Config& c = *r.config;
  EXPECT_EQ(c.poll_interval, std::chrono::seconds(10));
  EXPECT_EQ(c.lookahead, std::chrono::hours(2));
  EXPECT_EQ(c.policy.revert, (std::vector<std::string>{"bounce_risk", "spamtrap"}));
  EXPECT_EQ(c.policy.on_internal_error, "revert");
  EXPECT_EQ(c.policy.signals.at("CATCH_ALL").weight, 1.0);
  EXPECT_EQ(c.dns.servers, std::vector<std::string>{"127.0.0.1:5353"});
  EXPECT_EQ(c.dns.timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c.smtp_probe.port, 2525);
  EXPECT_EQ(c.lists.dnsbl_domains, std::vector<std::string>{"dbl.example"});
  EXPECT_EQ(c.lists.dnsbl_ips, std::vector<std::string>{"zen.example"});
  ASSERT_EQ(c.connectors.size(), 1u);
  EXPECT_EQ(c.connectors[0].api_key.reveal(), "k123");
  EXPECT_TRUE(c.notify.slack.enabled);
  EXPECT_TRUE(c.notify.slack.dm_rep);
}

TEST(Config, TableOfBadConfigsGivesExactMessages) {
  const std::vector<BadConfig> cases = {
      {"unknown top-level key", "poll_intervall: 30s\n",
       "sn.yaml:1:1: poll_intervall: unknown key (did you mean \"poll_interval\"?)"},
      {"unknown key, nothing close", "colour: blue\n", "sn.yaml:1:1: colour: unknown key"},
      {"nested unknown key", "dns:\n  server: [\"127.0.0.1\"]\n",
       "sn.yaml:2:3: dns.server: unknown key (did you mean \"servers\"?)"},
      {"bad duration", "poll_interval: 30 seconds\n",
       "sn.yaml:1:16: poll_interval: expected a duration like 250ms, 90s, 2m, 4h or 30d, got \"30 seconds\""},
      {"duration given a list", "lookahead: [1, 2]\n",
       "sn.yaml:1:12: lookahead: expected a duration, got a list"},
      {"wrong type: bool", "smtp_probe:\n  enabled: maybe\n",
       "sn.yaml:2:12: smtp_probe.enabled: expected true or false, got \"maybe\""},
      {"wrong type: integer", "smtp_probe:\n  port: http\n",
       "sn.yaml:2:9: smtp_probe.port: expected an integer, got \"http\""},
      {"integer out of range", "smtp_probe:\n  port: 70000\n",
       "sn.yaml:2:9: smtp_probe.port: must be between 1 and 65535, got 70000"},
      {"enum typo", "policy:\n  on_internal_error: alow\n",
       "sn.yaml:2:22: policy.on_internal_error: \"alow\" is not one of: allow, revert (did you mean \"allow\"?)"},
      {"unknown reason code", "policy:\n  revert: [bounce_risk, spam_trap]\n",
       "sn.yaml:2:11: policy.revert: \"spam_trap\" is not a reason code (did you mean \"spamtrap\"?)"},
      {"section is not a mapping", "dns: 8.8.8.8\n", "sn.yaml:1:6: dns: expected a mapping, got \"8.8.8.8\""},
      {"a provider's usual count read as an incident", "bounces:\n  provider_incident_ratio: 0.5\n",
       "sn.yaml:2:28: bounces.provider_incident_ratio: below 1 would read a provider's usual count of unknown users as an "
       "incident: 0 (off) or 1 and more"},
      {"lookahead shorter than lead time", "min_lead_time: 10m\nlookahead: 5m\n",
       "sn.yaml:2:12: lookahead: must be longer than min_lead_time"},
      {"act margin as long as the lead time", "act_margin: 2m\n",
       "sn.yaml:1:13: act_margin: must be shorter than min_lead_time"},
      {"connector without key",
       "connectors:\n  - name: c\n    type: close\n",
       "sn.yaml:2:5: connectors[0].api_key: the close connector needs api_key or api_key_file"},
      {"connector type typo", "connectors:\n  - name: c\n    type: closed\n    api_key: k\n",
       "sn.yaml:3:11: connectors[0].type: \"closed\" is not one of: close, outreach, salesloft (did you mean \"close\"?)"},
      {"plain http to a remote host",
       "connectors:\n  - name: c\n    type: close\n    api_key: k\n    base_url: http://api.close.com/api/v1\n",
       "sn.yaml:5:15: connectors[0].base_url: http:// is accepted only for loopback addresses; use https://"},
      {"plain http to a name that only begins like a loopback address",
       "connectors:\n  - name: c\n    type: close\n    api_key: k\n    base_url: http://127.evil.example/api/v1\n",
       "sn.yaml:5:15: connectors[0].base_url: http:// is accepted only for loopback addresses; use https://"},
      {"plain http to localhost's namesake",
       "connectors:\n  - name: c\n    type: close\n    api_key: k\n    base_url: http://localhost.evil.example:8080/\n",
       "sn.yaml:5:15: connectors[0].base_url: http:// is accepted only for loopback addresses; use https://"},
      {"duplicate connector names",
       std::string(kValidClose) + "  - name: close-main\n    type: close\n    api_key: k2\n",
       "sn.yaml:5:11: connectors[1].name: connector name \"close-main\" is used twice"},
      {"missing environment variable",
       "connectors:\n  - name: c\n    type: close\n    api_key: ${SAFETYNET_TEST_UNSET_VAR}\n",
       "sn.yaml:4:14: connectors[0].api_key: environment variable SAFETYNET_TEST_UNSET_VAR is not set"},
      {"both a secret and its file",
       "connectors:\n  - name: c\n    type: close\n    api_key: k\n    api_key_file: /etc/k\n",
       "sn.yaml:5:19: connectors[0].api_key_file: set either api_key or api_key_file, not both"},
      {"outreach without oauth", "connectors:\n  - name: o\n    type: outreach\n",
       "sn.yaml:2:5: connectors[0].oauth: the outreach connector needs oauth (Outreach has no API keys)"},
      {"oauth without a refresh token",
       "connectors:\n  - name: o\n    type: outreach\n    oauth: {client_id: x, client_secret: y}\n",
       "sn.yaml:4:12: connectors[0].oauth.refresh_token: oauth needs refresh_token or refresh_token_file (from the "
       "authorization-code grant)"},
      {"salesloft with both key and oauth",
       "connectors:\n  - name: s\n    type: salesloft\n    api_key: k\n"
       "    oauth: {client_id: x, client_secret: y, refresh_token: z}\n",
       "sn.yaml:5:12: connectors[0].oauth: the salesloft connector needs either api_key or oauth, not both"},
      {"revert strategy of another platform",
       "connectors:\n  - name: s\n    type: salesloft\n    api_key: k\n    revert_strategy: draft\n",
       "sn.yaml:5:22: connectors[0].revert_strategy: the salesloft connector stops emails with one of: "
       "remove_from_cadence, restrict_email"},
      {"rate budget out of range",
       "connectors:\n  - name: s\n    type: salesloft\n    api_key: k\n    rate_budget: 2\n",
       "sn.yaml:5:18: connectors[0].rate_budget: must be between 0.05 and 1, got 2"},
      {"slack without a token", "notify:\n  slack: {channel: \"#x\"}\n",
       "sn.yaml:2:10: notify.slack.bot_token: slack needs bot_token or bot_token_file"},
      {"mode typo", "mode: shadwo\n",
       "sn.yaml:1:7: mode: \"shadwo\" is not one of: enforce, shadow (did you mean \"shadow\"?)"},
      {"policy.modes keyed by something not a reason code", "policy:\n  modes: {spam_trap: shadow}\n",
       "sn.yaml:2:11: policy.modes.spam_trap: unknown key (did you mean \"spamtrap\"?)"},
      {"connector mode typo", std::string(kValidClose) + "    mode: off\n",
       "sn.yaml:5:11: connectors[0].mode: \"off\" is not one of: enforce, shadow"},
      {"a DNS server that is no IP address", "dns:\n  servers: [\"127.0.0.1:5353\", bogus]\n",
       "sn.yaml:2:12: dns.servers: \"bogus\" is not an IP address with an optional port (127.0.0.1:5353, [::1]:53)"},
      {"a DNS server's port that is no number", "dns:\n  servers: [\"[::1]:dns\"]\n",
       "sn.yaml:2:12: dns.servers: \"[::1]:dns\" is not an IP address with an optional port (127.0.0.1:5353, [::1]:53)"},
      {"a DNS server port out of range", "dns:\n  servers: [\"127.0.0.1:99999\"]\n",
       "sn.yaml:2:12: dns.servers: \"127.0.0.1:99999\" is not an IP address with an optional port (127.0.0.1:5353, [::1]:53)"},
      {"a list file that is not there", "lists:\n  allow: /nonexistent/allow.txt\n",
       "sn.yaml:2:10: lists.allow: cannot read \"/nonexistent/allow.txt\": No such file or directory"},
      {"a connector's CA file that is not there", std::string(kValidClose) + "    ca_file: /nonexistent/ca.pem\n",
       "sn.yaml:5:14: connectors[0].ca_file: cannot read \"/nonexistent/ca.pem\": No such file or directory"},
      {"a signal the policy does not have", "policy:\n  signals:\n    CATCHALL: {weight: 1}\n",
       "sn.yaml:3:5: policy.signals: \"CATCHALL\" is no signal of the shipped policy (docs/reason-codes.md) (did you mean "
       "\"CATCH_ALL\"?)"},
      {"a connector without a type", "connectors:\n  - name: c\n    api_key: k\n",
       "sn.yaml:2:5: connectors[0].type: every connector needs a type: close, outreach or salesloft"},
      {"an empty secret", "connectors:\n  - {name: c, type: close, api_key: \"\"}\n",
       "sn.yaml:2:37: connectors[0].api_key: is empty"},
      {"no state directory", "state_dir: \"\"\n", "sn.yaml:1:12: state_dir: must be an absolute path, got \"\""},
      {"a relative state directory", "state_dir: var/sn\n",
       "sn.yaml:1:12: state_dir: must be an absolute path, got \"var/sn\""},
      {"a DNS timeout of nothing", "dns:\n  timeout: 0s\n", "sn.yaml:2:12: dns.timeout: must be at least 100ms"},
      {"an SMTP command timeout of nothing", "smtp_probe:\n  command_timeout: 0ms\n",
       "sn.yaml:2:20: smtp_probe.command_timeout: must be at least 100ms"},
      {"a HELO name that would carry another command", "smtp_probe:\n  helo: \"probe.test\\r\\nRSET\"\n",
       "sn.yaml:2:9: smtp_probe.helo: must be a host name (letters, digits, '-' and '.'; RFC 5321 4.1.1.1)"},
      {"an empty HELO name", "smtp_probe:\n  helo: \"\"\n",
       "sn.yaml:2:9: smtp_probe.helo: must be a host name (letters, digits, '-' and '.'; RFC 5321 4.1.1.1)"},
      {"a MAIL FROM that is no address", "smtp_probe:\n  mail_from: \"a@b.c>\\r\\nRCPT TO:<x@y.z\"\n",
       "sn.yaml:2:14: smtp_probe.mail_from: must be an email address, or empty for the null sender <>"},
      {"a canary that is no domain", "failsafe:\n  canaries: [\"not a domain!!\"]\n",
       "sn.yaml:2:13: failsafe.canaries: \"not a domain!!\" is not a domain name"},
      {"a DNSBL zone that is no domain", "lists:\n  dnsbl_domains: [\"\"]\n",
       "sn.yaml:2:18: lists.dnsbl_domains: \"\" is not a domain name"},
      {"a re-check after nothing", "recheck_after: 0s\n", "sn.yaml:1:16: recheck_after: must be longer than 0s"},
      {"a pause for nothing", "senders:\n  pause_for: 0s\n", "sn.yaml:2:14: senders.pause_for: must be longer than 0s"},
      {"invalid YAML", "poll_interval: [30s\n", "sn.yaml:2:1: invalid YAML: end of sequence flow not found"},
      {"not a mapping", "- a\n- b\n", "sn.yaml:1:1: the configuration must be a YAML mapping"},
  };
  for (const auto& c : cases) EXPECT_EQ(firstError(c.yaml), c.expected) << c.name;
}

// Shadow mode: top level, per connector, per reason; the most specific setting given wins.
TEST(Config, ShadowModeTheMostSpecificSettingWins) {
  auto r = loadConfigText(std::string(kValidClose) + "  - {name: close-two, type: close, api_key: k2, mode: shadow}\n"
                          "  - {name: close-three, type: close, api_key: k3, mode: enforce}\n"
                          "mode: shadow\npolicy:\n  modes: {unknown: shadow, spamtrap: enforce}\n",
                          "sn.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front().message;
  const Config& c = *r.config;
  EXPECT_EQ(c.mode, "shadow");
  EXPECT_EQ(c.connectors[1].mode, "shadow");
  EXPECT_EQ(c.policy.modes.size(), 2u);
  EXPECT_EQ(shadowSetting(c, "close-main", "bounce_risk"), "mode");  // no mode of its own: the top level's
  EXPECT_EQ(shadowSetting(c, "close-two", "bounce_risk"), "connectors[close-two].mode");
  EXPECT_EQ(shadowSetting(c, "close-three", "bounce_risk"), std::nullopt);
  EXPECT_EQ(shadowSetting(c, "close-three", "unknown"), "policy.modes.unknown");
  EXPECT_EQ(shadowSetting(c, "close-two", "spamtrap"), std::nullopt);  // the reason's enforce beats the connector's shadow
  Config defaults;
  EXPECT_EQ(defaults.mode, "enforce");
  EXPECT_EQ(shadowSetting(defaults, "any", "bounce_risk"), std::nullopt);
}

TEST(Config, PlainHttpIsForLoopbackAddressesOnly) {
  for (const char* url : {"http://127.0.0.1:8080/api", "http://127.3.4.5/", "http://[::1]:9000/", "http://localhost:1/",
                          "http://LOCALHOST/"}) {
    auto r = loadConfigText(std::string("connectors:\n  - {name: c, type: close, api_key: k, base_url: \"") + url + "\"}\n",
                            "sn.yaml");
    EXPECT_TRUE(r.ok()) << url << ": " << (r.errors.empty() ? "" : r.errors.front().message);
  }
  for (const char* url : {"http://127.evil.example/", "http://localhost.evil.example/", "http://128.0.0.1/",
                          "http://[::2]/", "http://10.0.0.1/"}) {
    auto r = loadConfigText(std::string("connectors:\n  - {name: c, type: close, api_key: k, base_url: \"") + url + "\"}\n",
                            "sn.yaml");
    EXPECT_FALSE(r.ok()) << url;
  }
}

TEST(Config, ADirectoryIsNoConfigurationFile) {
  auto r = loadConfigFile(std::filesystem::temp_directory_path().string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("is a directory"), std::string::npos) << r.errors[0].message;
}

TEST(Config, ReportsEveryProblemNotJustTheFirst) {
  auto r = loadConfigText("poll_intervall: 30s\nlookahed: 1h\n", "sn.yaml");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_FALSE(r.config);
}

TEST(Config, SecretsComeFromEnvironmentFilesAndCredentialsDirectory) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sn-config-test-" + std::to_string(::getpid()));
  fs::create_directories(dir / "creds");
  std::ofstream(dir / "creds" / "close.key") << "from-credentials\n";
  std::ofstream(dir / "slack.token") << "xoxb-from-file\n";
  ::setenv("SN_TEST_CLOSE_KEY", "from-env", 1);
  ::setenv("CREDENTIALS_DIRECTORY", (dir / "creds").c_str(), 1);
  auto r = loadConfigText("connectors:\n"
                          "  - {name: a, type: close, api_key: \"${SN_TEST_CLOSE_KEY}\"}\n"
                          "  - {name: b, type: close, api_key_file: close.key}\n"
                          "notify:\n  slack: {bot_token_file: " + (dir / "slack.token").string() + ", channel: \"#x\"}\n",
                          (dir / "sn.yaml").string());
  ::unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_TRUE(r.ok()) << r.errors.front().message;
  EXPECT_EQ(r.config->connectors[0].api_key.reveal(), "from-env");
  EXPECT_EQ(r.config->connectors[1].api_key.reveal(), "from-credentials");  // relative: $CREDENTIALS_DIRECTORY
  EXPECT_EQ(r.config->notify.slack.bot_token.reveal(), "xoxb-from-file");     // trailing newline trimmed
  fs::remove_all(dir);
}

TEST(Config, MissingFileIsAClearError) {
  auto r = loadConfigFile("/nonexistent/safetynet.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "/nonexistent/safetynet.yaml: cannot open the configuration file");
}

TEST(Config, ShippedExampleIsValid) {
  namespace fs = std::filesystem;
  fs::path creds = fs::temp_directory_path() / ("sn-example-" + std::to_string(::getpid()));
  fs::create_directories(creds);
  std::ofstream(creds / "close.key") << "k\n";
  std::ofstream(creds / "slack.token") << "xoxb\n";
  // The files it names under /etc/safetynet/ (the lists) must be readable: here, in a temp dir.
  std::ifstream in(SAFETYNET_SOURCE_DIR "/config/safetynet.example.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t at = text.find("/etc/safetynet/"); at != std::string::npos; at = text.find("/etc/safetynet/", at))
    text.replace(at, 15, creds.string() + "/");
  for (const char* list : {"allow.txt", "spamtraps.txt", "complainers.txt", "suppression.txt"}) std::ofstream(creds / list) << "";
  ::setenv("CREDENTIALS_DIRECTORY", creds.c_str(), 1);
  auto r = loadConfigText(text, "safetynet.example.yaml");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  fs::remove_all(creds);
  ASSERT_TRUE(r.ok()) << r.errors.front().message;
  EXPECT_EQ(r.config->connectors.at(0).api_key.reveal(), "k");
}

TEST(Config, UnreadableSecretFileIsReportedOnce) {
  auto r = loadConfigText("connectors:\n  - {name: c, type: close, api_key_file: /nonexistent/key}\n", "sn.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "sn.yaml:2:42: connectors[0].api_key_file: cannot read /nonexistent/key");
}

TEST(Config, ReadsTheFailsafeKeys) {
  auto r = loadConfigText("failsafe:\n  max_hold_ratio: 0.3\n  min_decisions: 50\n  window: 30m\n  canaries: [gmail.com]\n"
                          "  week_factor: 8\n  week_min_ratio: 0.1\n",
                          "sn.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front().message;
  EXPECT_DOUBLE_EQ(r.config->failsafe.max_hold_ratio, 0.3);
  EXPECT_EQ(r.config->failsafe.min_decisions, 50);
  EXPECT_EQ(r.config->failsafe.window, std::chrono::minutes(30));
  EXPECT_EQ(r.config->failsafe.canaries, std::vector<std::string>{"gmail.com"});
  EXPECT_DOUBLE_EQ(r.config->failsafe.week_factor, 8);
  EXPECT_DOUBLE_EQ(r.config->failsafe.week_min_ratio, 0.1);
  auto bad = loadConfigText("failsafe:\n  max_hold_ratio: 1.5\n", "sn.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.errors.front().message.find("failsafe.max_hold_ratio"), std::string::npos) << bad.errors.front().message;
}

TEST(Config, ReadsTheSlackButtonsAndTheAdmins) {
  auto r = loadConfigText(R"(admins: [Ops@Example.com, kim@example.com]
notify:
  slack: {bot_token: xoxb-1, app_token: xapp-1-A0-2, actions: true, channel: "#x"}
)", "sn.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().message);
  EXPECT_TRUE(r.config->notify.slack.actions);
  EXPECT_EQ(r.config->notify.slack.app_token.reveal(), "xapp-1-A0-2");
  EXPECT_EQ(r.config->admins, (std::vector<std::string>{"ops@example.com", "kim@example.com"}));

  EXPECT_EQ(firstError("notify:\n  slack: {bot_token: xoxb-1, actions: true, channel: \"#x\"}\n"),
            "sn.yaml:2:39: notify.slack.actions: the buttons are answered over Socket Mode: set app_token (xapp-...) or app_token_file");
  EXPECT_EQ(firstError("notify:\n  slack: {bot_token: xoxb-1, app_token: xoxb-2, actions: true, channel: \"#x\"}\n"),
            "sn.yaml:2:41: notify.slack.app_token: an app-level token begins with xapp- (Basic Information, App-Level Tokens, scope connections:write)");
  EXPECT_EQ(firstError("admins: [ops]\n"), "sn.yaml:1:9: admins: \"ops\" is not an email address");
  // The admin commands do not read secrets: the check of the token's form waits for `run`.
  EXPECT_TRUE(loadConfigText("notify:\n  slack: {bot_token: xoxb-1, app_token: \"${NO_SUCH_VAR_FOR_SN}\", actions: true, channel: \"#x\"}\n",
                             "sn.yaml", Secrets::Skip)
                  .ok());
}

// DMs only, no channel, no admin_to: the admins' alerts and a rep Slack does not know would reach
// no one (issue 10: a rep never gets nothing).
TEST(Config, SlackWithoutAChannelNeedsTheAdminsEmail) {
  EXPECT_NE(firstError("notify:\n  slack: {bot_token: x, dm_rep: true}\n").find("would reach no one"), std::string::npos);
  EXPECT_EQ(firstError("notify:\n  slack: {bot_token: x, dm_rep: true}\n  email: {host: h, from: a@example.com, "
                       "admin_to: [b@example.com]}\n"),
            "(no error)");
  EXPECT_EQ(firstError("notify:\n  slack: {bot_token: x, channel: \"#c\", dm_rep: true}\n"), "(no error)");
}

// store: (notes/product.md, "Scale"): PostgreSQL shared by several instances, with its connection
// string as a secret, read even by commands that skip the others (they all read the state).
TEST(Config, StoreIsSqliteOrAPostgresDatabaseWithItsLease) {
  Config defaults;
  EXPECT_EQ(defaults.store.backend, "sqlite");
  EXPECT_EQ(defaults.store.lease, std::chrono::seconds(30));
  auto ok = loadConfigText(std::string(kValidClose) +
                               "store: {backend: postgres, conninfo: 'host=db.internal dbname=safetynet', instance: mx-2, lease: 45s}\n",
                           "sn.yaml", Secrets::Skip);
  ASSERT_TRUE(ok.ok()) << ok.errors.front().message;
  EXPECT_EQ(ok.config->store.backend, "postgres");
  EXPECT_EQ(ok.config->store.conninfo.reveal(), "host=db.internal dbname=safetynet");
  EXPECT_EQ(ok.config->store.instance, "mx-2");
  EXPECT_EQ(ok.config->store.lease, std::chrono::seconds(45));
  auto errorsOf = [](const std::string& yaml) {
    auto r = loadConfigText(std::string(kValidClose) + yaml, "sn.yaml");
    std::string all;
    for (const auto& e : r.errors) all += e.message + "\n";
    return all;
  };
  EXPECT_NE(errorsOf("store: {backend: postgres}\n").find("needs conninfo or conninfo_file"), std::string::npos);
  EXPECT_NE(errorsOf("store: {backend: mysql}\n").find("backend"), std::string::npos);
  EXPECT_NE(errorsOf("store: {conninfo: 'host=x'}\n").find("only the postgres store"), std::string::npos);
  EXPECT_NE(errorsOf("poll_interval: 20s\nstore: {backend: postgres, conninfo: x, lease: 30s}\n").find("twice poll_interval"),
            std::string::npos);
  EXPECT_NE(errorsOf("store: {backend: postgres, conninfo: x, lease: 2s}\n").find("at least 5s"), std::string::npos);
  // The name goes into lease rows ("avoid:NAME|unit", "NAME#id"): a host name's characters only.
  EXPECT_NE(errorsOf("store: {backend: postgres, conninfo: x, instance: 'mx|1'}\n").find("a host name"), std::string::npos);
  EXPECT_NE(errorsOf("store: {backend: postgres, conninfo: x, instance: 'mx#1'}\n").find("a host name"), std::string::npos);
  EXPECT_EQ(errorsOf("store: {backend: postgres, conninfo: x, instance: mx-1.eu_west}\n"), "");
}
