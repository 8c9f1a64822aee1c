// Loads safetynet.yaml into Config. Every problem is collected, not just the first, so an admin
// fixes a file in one go; nothing here throws past loadConfig*().
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/yaml_reader.hpp"
#include "safetynet/check/address.hpp"
#include "safetynet/config/config.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/net/url.hpp"
#include "safetynet/policy/policy.hpp"

namespace safetynet {

namespace {

using config::Diagnostics;
using config::MapReader;

const std::vector<std::string> kReasons = {"bounce_risk", "spamtrap",   "do_not_mail", "secondary_email",
                                           "dead_email",  "unknown",    "sender_paused"};

// http:// is for a loopback peer only (tests, a local relay): the URL's host must be one.
bool isLoopbackUrl(const std::string& url) {
  const auto u = parseUrl(url);
  return u && isLoopbackHost(u->host);
}

void checkBaseUrl(MapReader& m, const std::string& key, const std::string& url) {
  if (url.rfind("https://", 0) == 0) return;
  if (url.rfind("http://", 0) == 0) {
    if (!isLoopbackUrl(url)) m.error(key, "http:// is accepted only for loopback addresses; use https://");
    return;
  }
  m.error(key, "expected an https:// URL, got \"" + url + "\"");
}

bool isPort(const std::string& p) {
  return !p.empty() && p.size() <= 5 && p.find_first_not_of("0123456789") == std::string::npos && std::stoi(p) >= 1 &&
         std::stoi(p) <= 65535;
}

// A DNS server as c-ares takes it (ares_set_servers_ports_csv): an IP address, with an optional
// port ("127.0.0.1:5353", "::1", "[::1]:5353"). Names are not allowed: who would resolve them?
bool isDnsServer(const std::string& s) {
  std::string host = s;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    const std::string rest = s.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || !isPort(rest.substr(1)))) return false;
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    const auto colon = s.find(':');
    if (!isPort(s.substr(colon + 1))) return false;
    host = s.substr(0, colon);
  }
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// A file the daemon reads when it starts (a CA, a certificate, a list): missing or unreadable is a
// configuration error now (config check, exit 2) rather than a failed start later.
void checkReadableFile(MapReader& m, const std::string& key, const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    m.error(key, "\"" + path + "\" is a directory, not a file");
  else if (::access(path.c_str(), R_OK) != 0)
    m.error(key, "cannot read \"" + path + "\": " + std::strerror(errno));
}

// The signal names config/policy.yaml (embedded) defines: policy.signals may override only these.
std::vector<std::string> shippedSignalNames() {
  std::vector<std::string> names;
  try {
    const YAML::Node root = YAML::Load(kDefaultPolicyYamlText());
    for (auto it = root["signals"].begin(); it != root["signals"].end(); ++it) names.push_back(it->first.as<std::string>());
  } catch (const YAML::Exception&) {
    // The shipped policy is checked by its own tests; Policy::build reports it at start.
  }
  return names;
}

void readPolicy(MapReader& m, PolicyConfig& p) {
  m.stringList("revert", p.revert);
  for (const auto& r : p.revert) {
    if (std::find(kReasons.begin(), kReasons.end(), r) == kReasons.end()) {
      std::string msg = "\"" + r + "\" is not a reason code";
      if (auto s = config::didYouMean(r, kReasons)) msg += " (did you mean \"" + *s + "\"?)";
      m.error("revert", msg);
    }
  }
  m.oneOf("on_internal_error", p.on_internal_error, {"allow", "revert"});
  m.optionalNumber("threshold", p.threshold, 0.0, 1e6);
  static const std::vector<std::string> kSignals = shippedSignalNames();
  m.eachEntry("signals", [&](const std::string& name, MapReader& s) {
    if (std::find(kSignals.begin(), kSignals.end(), name) == kSignals.end()) {
      std::string msg = "\"" + name + "\" is no signal of the shipped policy (docs/reason-codes.md)";
      if (auto near = config::didYouMean(name, kSignals)) msg += " (did you mean \"" + *near + "\"?)";
      m.error("signals", msg);
    }
    PolicyOverride o;
    std::string reason;
    s.string("reason", reason);
    if (!reason.empty()) {
      if (std::find(kReasons.begin(), kReasons.end(), reason) == kReasons.end())
        s.error("reason", "\"" + reason + "\" is not a reason code");
      o.reason = reason;
    }
    s.optionalNumber("weight", o.weight, -1e6, 1e6);
    p.signals[name] = o;
  });
  if (auto modes = m.map("modes")) {
    for (const auto& reason : kReasons) {
      std::string mode;
      modes->oneOf(reason, mode, {"enforce", "shadow"});
      if (!mode.empty()) p.modes[reason] = mode;
    }
    modes->finish();  // a key that is no reason code: "unknown key (did you mean ...)"
  }
}

void readOAuth(MapReader& m, OAuthConfig& o) {
  o.enabled = true;
  m.string("token_url", o.token_url);
  m.string("client_id", o.client_id);
  const bool secretGiven = m.secret("client_secret", o.client_secret);
  const bool refreshGiven = m.secret("refresh_token", o.refresh_token);
  m.string("redirect_uri", o.redirect_uri);
  m.duration("min_mint_interval", o.min_mint_interval);
  m.duration("renew_before", o.renew_before);
  if (o.client_id.empty()) m.error("client_id", "oauth needs client_id");
  if (!secretGiven) m.error("client_secret", "oauth needs client_secret or client_secret_file");
  if (!refreshGiven)
    m.error("refresh_token", "oauth needs refresh_token or refresh_token_file (from the authorization-code grant)");
  if (!o.token_url.empty()) checkBaseUrl(m, "token_url", o.token_url);
}

bool isHex(const std::string& s) {
  for (char ch : s)
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  return !s.empty() && s.size() % 2 == 0;
}

// A domain name as the syntax check reads one in an address (RFC 5321 4.1.2, LDH labels).
bool isDomainName(const std::string& d) { return !d.empty() && !parseAddress("postmaster@" + d).error; }

// RFC 5321 4.1.1.1: EHLO's argument is the client's host name (or an address literal). Checked so
// that a value can never carry a second command ("probe.test\r\nRSET") onto the wire.
bool isHeloName(const std::string& h) {
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
    std::string inner = h.substr(1, h.size() - 2);
    if (inner.rfind("IPv6:", 0) == 0) inner = inner.substr(5);
    unsigned char buf[16];
    return inet_pton(AF_INET, inner.c_str(), buf) == 1 || inet_pton(AF_INET6, inner.c_str(), buf) == 1;
  }
  return isDomainName(h);
}

// Every entry of a list of domains (canaries, DNSBL zones) is one.
void checkDomains(MapReader& m, const std::string& key, const std::vector<std::string>& domains) {
  for (const auto& d : domains)
    if (!isDomainName(d)) m.error(key, "\"" + d + "\" is not a domain name");
}

// A timeout of nothing fails every lookup or probe as our own error, quietly letting mail go.
void atLeast(MapReader& m, const std::string& key, std::chrono::milliseconds value, std::chrono::milliseconds min,
             const std::string& shown) {
  if (value < min) m.error(key, "must be at least " + shown);
}
void positive(MapReader& m, const std::string& key, std::chrono::milliseconds value) {
  if (value <= std::chrono::milliseconds(0)) m.error(key, "must be longer than 0s");
}

void readConnector(MapReader& m, ConnectorConfig& c, bool readFiles) {
  m.string("name", c.name);
  m.oneOf("type", c.type, {"close", "outreach", "salesloft"});
  m.string("base_url", c.base_url);
  const bool keyGiven = m.secret("api_key", c.api_key);
  // Outreach mints at most one token per user per 60 s (notes/platforms.md).
  if (c.type == "outreach") c.oauth.min_mint_interval = std::chrono::seconds(60);
  if (auto o = m.map("oauth")) {
    readOAuth(*o, c.oauth);
    o->finish();
  }
  m.string("ca_file", c.ca_file);
  if (readFiles) checkReadableFile(m, "ca_file", c.ca_file);
  m.duration("backfill", c.backfill);
  m.duration("resync_every", c.resync_every);
  m.string("revert_strategy", c.revert_strategy);
  m.number("rate_budget", c.rate_budget, 0.05, 1.0);
  m.secret("webhook_secret", c.webhook_secret);
  m.oneOf("mode", c.mode, {"enforce", "shadow"});
  if (c.type == "close" && !c.webhook_secret.empty() && !isHex(c.webhook_secret.reveal()))
    m.error("webhook_secret", "Close's webhook signature_key is hex, as the subscription's answer gives it");
  if (c.name.empty()) m.error("name", "every connector needs a name");
  if (c.type.empty()) m.error("type", "every connector needs a type: close, outreach or salesloft");
  positive(m, "backfill", c.backfill);
  positive(m, "resync_every", c.resync_every);
  auto strategies = [&](std::initializer_list<const char*> allowed) {
    if (c.revert_strategy.empty()) return;
    std::string list;
    for (const char* a : allowed) {
      if (c.revert_strategy == a) return;
      list += std::string(list.empty() ? "" : ", ") + a;
    }
    m.error("revert_strategy", "the " + c.type + " connector stops emails with one of: " + list);
  };
  if (c.type == "close") {
    if (c.base_url.empty()) c.base_url = "https://api.close.com/api/v1";
    if (!keyGiven) m.error("api_key", "the close connector needs api_key or api_key_file");
    if (c.oauth.enabled) m.error("oauth", "the close connector uses an API key, not oauth");
    strategies({"draft"});
  } else if (c.type == "outreach") {
    if (c.base_url.empty()) c.base_url = "https://api.outreach.io/api/v2";
    if (c.oauth.token_url.empty()) c.oauth.token_url = "https://api.outreach.io/oauth/token";
    if (!c.oauth.enabled) m.error("oauth", "the outreach connector needs oauth (Outreach has no API keys)");
    if (keyGiven) m.error("api_key", "Outreach has no API keys; use oauth");
    strategies({"draft", "pause_sequence"});
  } else if (c.type == "salesloft") {
    if (c.base_url.empty()) c.base_url = "https://api.salesloft.com/v2";
    if (c.oauth.token_url.empty()) c.oauth.token_url = "https://accounts.salesloft.com/oauth/token";
    if (keyGiven == c.oauth.enabled)
      m.error(keyGiven ? "oauth" : "api_key", "the salesloft connector needs either api_key or oauth, not both");
    strategies({"remove_from_cadence", "restrict_email"});
  }
  if (!c.base_url.empty()) checkBaseUrl(m, "base_url", c.base_url);
}

void readSlack(MapReader& m, SlackConfig& s, bool readFiles) {
  s.enabled = true;
  const bool tokenGiven = m.secret("bot_token", s.bot_token);
  m.string("base_url", s.base_url);
  m.string("channel", s.channel);
  m.boolean("dm_rep", s.dm_rep);
  m.string("ca_file", s.ca_file);
  if (readFiles) checkReadableFile(m, "ca_file", s.ca_file);
  const bool appTokenGiven = m.secret("app_token", s.app_token);
  m.boolean("actions", s.actions);
  m.duration("in_flight_wait", s.in_flight_wait);
  if (!s.app_token.empty() && s.app_token.reveal().rfind("xapp-", 0) != 0)
    m.error("app_token", "an app-level token begins with xapp- (Basic Information, App-Level Tokens, scope connections:write)");
  if (s.actions && !appTokenGiven)
    m.error("actions", "the buttons are answered over Socket Mode: set app_token (xapp-...) or app_token_file");
  if (!tokenGiven) m.error("bot_token", "slack needs bot_token or bot_token_file");
  if (s.channel.empty() && !s.dm_rep) m.error("channel", "set a channel, or dm_rep: true");
  checkBaseUrl(m, "base_url", s.base_url);
}


// The address of "Name <local@domain>" or of a bare "local@domain"; empty when it is not one.
std::string addressOf(const std::string& mailbox) {
  std::string a = mailbox;
  if (auto lt = a.rfind('<'); lt != std::string::npos) {
    auto gt = a.find('>', lt);
    if (gt == std::string::npos) return "";
    a = a.substr(lt + 1, gt - lt - 1);
  }
  while (!a.empty() && a.front() == ' ') a.erase(a.begin());
  while (!a.empty() && a.back() == ' ') a.pop_back();
  const auto at = a.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == a.size() || a.find_first_of(" <>,\"") != std::string::npos) return "";
  return a;
}

void readEmail(MapReader& m, EmailConfig& e, bool slack, bool readFiles) {
  e.enabled = true;
  m.oneOf("transport", e.transport, {"smtp", "sendmail"});
  m.string("host", e.host);
  m.integer("port", e.port, 1, 65535);
  m.oneOf("tls", e.tls, {"starttls", "implicit", "none"});
  m.string("username", e.username);
  const bool passwordGiven = m.secret("password", e.password);
  m.string("ca_file", e.ca_file);
  if (readFiles) checkReadableFile(m, "ca_file", e.ca_file);
  m.string("helo", e.helo);
  m.duration("timeout", e.timeout);
  m.string("sendmail_path", e.sendmail_path);
  m.stringList("sendmail_args", e.sendmail_args);
  m.string("from", e.from);
  m.boolean("to_rep", e.to_rep);
  m.stringList("admin_to", e.admin_to);
  m.oneOf("digest", e.digest, {"off", "daily"});
  if (e.timeout < std::chrono::seconds(1)) m.error("timeout", "must be at least 1s");
  if (!e.helo.empty() && !isHeloName(e.helo))
    m.error("helo", "must be a host name (letters, digits, '-' and '.'; RFC 5321 4.1.1.1)");
  if (e.from.empty())
    m.error("from", "email needs from (\"Safety Net <safetynet@example.com>\")");
  else if ((e.from_address = addressOf(e.from)).empty())
    m.error("from", "\"" + e.from + "\" is not an address (\"Name <local@domain>\" or local@domain)");
  for (const auto& a : e.admin_to)
    if (addressOf(a).empty() || a.find('<') != std::string::npos) m.error("admin_to", "\"" + a + "\" is not an address");
  if (!e.to_rep && e.admin_to.empty()) m.error("to_rep", "with to_rep: false, admin_to is needed, or email goes nowhere");
  if (e.digest == "daily" && e.admin_to.empty()) m.error("digest", "the daily digest goes to admin_to: set it");
  else if (!slack && e.admin_to.empty())
    m.error("admin_to", "without Slack, the admins' alerts (too late, fail-safe, paused senders) need admin_to");
  if (e.transport == "sendmail") {
    for (const char* k : {"host", "port", "tls", "username", "password", "password_file", "ca_file", "helo"})
      if (m.has(k)) m.error(k, std::string(k) + " is for transport: smtp (sendmail hands the message to the local MTA)");
    if (e.sendmail_path.empty() || e.sendmail_path.front() != '/') m.error("sendmail_path", "must be an absolute path");
    return;
  }
  if (!m.has("port") && e.tls == "implicit") e.port = 465;
  if (e.host.empty()) m.error("host", "transport smtp needs host (the submission server)");
  if (e.tls == "none" && !e.host.empty() && !isLoopbackHost(e.host))
    m.error("tls", "none sends the alerts (and any password) in clear: only to a loopback host (127.0.0.1, ::1, "
                   "localhost); use starttls (587) or implicit (465)");
  if (e.username.empty() != !passwordGiven)
    m.error(e.username.empty() ? "username" : "password", "give both username and password (or password_file), or neither");
}

// admin_api: where it listens (TLS off loopback) and its tokens (files only, long enough).
constexpr size_t kMinTokenLength = 16;

void readAdminApi(MapReader& m, AdminApiConfig& a, bool readFiles) {
  a.enabled = true;
  m.string("listen", a.listen);
  // host:port, or [v6]:port.
  const auto colon = a.listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : a.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  const std::string portText = colon == std::string::npos ? "" : a.listen.substr(colon + 1);
  const bool portOk = !portText.empty() && portText.size() <= 5 &&
                      portText.find_first_not_of("0123456789") == std::string::npos &&
                      (port = std::stoi(portText)) >= 1 && port <= 65535;
  if (host.empty() || !portOk) {
    m.error("listen", "\"" + a.listen + "\" is not host:port (127.0.0.1:8787, [::1]:8787, 0.0.0.0:8787)");
  } else {
    a.host = host;
    a.port = port;
  }
  if (m.has("token")) m.error("token", "the admin token is read from a file: token_file (mode 0600, owned by safetynet)");
  if (m.has("read_token")) m.error("read_token", "the read-only token is read from a file: read_token_file");
  const bool tokenGiven = m.secret("token", a.token);
  m.secret("read_token", a.read_token);
  if (!tokenGiven) m.error("token_file", "the admin API needs token_file (a file holding the full-access token)");
  for (const auto& [key, secret] : {std::pair<const char*, const Secret*>{"token_file", &a.token}, {"read_token_file", &a.read_token}})
    if (!secret->empty() && secret->reveal().size() < kMinTokenLength)
      m.error(key, "the token is too short: at least " + std::to_string(kMinTokenLength) +
                       " characters (openssl rand -hex 32)");
  if (!a.token.empty() && a.token.reveal() == a.read_token.reveal())
    m.error("read_token_file", "the read-only token must differ from the full-access one");
  if (auto t = m.map("tls")) {
    t->string("cert_file", a.tls_cert_file);
    t->string("key_file", a.tls_key_file);
    if (a.tls_cert_file.empty() != a.tls_key_file.empty())
      t->error(a.tls_cert_file.empty() ? "cert_file" : "key_file", "tls needs both cert_file and key_file");
    if (readFiles) {
      checkReadableFile(*t, "cert_file", a.tls_cert_file);
      checkReadableFile(*t, "key_file", a.tls_key_file);
    }
    t->finish();
  }
  m.string("public_url", a.public_url);
  if (!a.public_url.empty()) checkBaseUrl(m, "public_url", a.public_url);
  const bool loopback = isLoopbackHost(a.host);
  if (portOk && !loopback && a.tls_cert_file.empty())
    m.error("listen", a.listen + " is not a loopback address: the tokens would cross the network in clear; set "
                      "tls: {cert_file: ..., key_file: ...} or listen on 127.0.0.1");
}

// notify.route: where a rep's notification goes; each choice needs the notifiers it names.
void readRoute(MapReader& n, NotifyConfig& c) {
  const bool slack = c.slack.enabled, email = c.email.enabled;
  c.route = slack && email ? "slack_then_email" : email ? "email" : "slack";
  n.oneOf("route", c.route, {"slack", "email", "both", "slack_then_email"});
  // What Slack cannot deliver (the admins' alerts; a rep Slack has no user for) must reach someone.
  if (slack && c.slack.channel.empty() && !(email && !c.email.admin_to.empty()))
    n.error("slack", "with no channel, the admins' alerts and the reps Slack does not know would reach no one: set "
                     "notify.slack.channel, or notify.email with admin_to");
  if (!n.has("route")) return;
  if (c.route != "email" && !slack) n.error("route", c.route + " needs notify.slack");
  if (c.route != "slack" && !email) n.error("route", c.route + " needs notify.email");
  if (c.route == "slack_then_email" && slack && !c.slack.dm_rep)
    n.error("route", "slack_then_email emails the reps Slack has no user for: it needs notify.slack.dm_rep: true");
  if (c.route != "slack" && email && !c.email.to_rep)
    n.error("route", c.route + " sends email to reps: it needs notify.email.to_rep: true");
}

ConfigResult load(const YAML::Node& root, Diagnostics& diag, const std::string& name) {
  // The files only the daemon reads (CAs, the admin API's certificate and key) are checked when
  // the secrets are: admin commands may run as a user who cannot read them (Secrets::Skip).
  const bool readFiles = diag.readSecrets();
  Config c;
  c.source = name;
  if (!root.IsMap()) {
    if (!root.IsNull()) diag.error(root.Mark(), "", "the configuration must be a YAML mapping");
    ConfigResult r;
    if (root.IsNull()) r.config = c;  // an empty file is all defaults
    r.errors = diag.take();
    return r;
  }
  MapReader top(diag, root, "");
  top.string("state_dir", c.state_dir);
  if (c.state_dir.empty() || c.state_dir.front() != '/')
    top.error("state_dir", "must be an absolute path, got \"" + c.state_dir + "\"");
  top.oneOf("mode", c.mode, {"enforce", "shadow"});
  top.duration("poll_interval", c.poll_interval);
  top.duration("min_lead_time", c.min_lead_time);
  top.duration("act_margin", c.act_margin);
  top.duration("lookahead", c.lookahead);
  top.duration("recheck_after", c.recheck_after);
  positive(top, "recheck_after", c.recheck_after);
  if (auto k = top.map("cache")) {
    k->duration("positive_ttl", c.positive_ttl);
    k->duration("negative_ttl", c.negative_ttl);
    k->finish();
  }
  top.duration("shutdown_grace", c.shutdown_grace);
  top.oneOf("log_level", c.log_level, {"trace", "debug", "info", "warn", "error"});
  if (c.lookahead <= c.min_lead_time) top.error("lookahead", "must be longer than min_lead_time");
  if (c.poll_interval < std::chrono::seconds(1)) top.error("poll_interval", "must be at least 1s");
  if (c.act_margin < std::chrono::seconds(1)) top.error("act_margin", "must be at least 1s");
  else if (c.act_margin >= c.min_lead_time) top.error("act_margin", "must be shorter than min_lead_time");

  if (auto st = top.map("store")) {
    st->oneOf("backend", c.store.backend, {"sqlite", "postgres"});
    const bool conninfoGiven = st->secret("conninfo", c.store.conninfo, /*always=*/true);
    st->string("instance", c.store.instance);
    // The name is written into lease rows ("instance:NAME", "avoid:NAME|unit", held by NAME#id):
    // a host name's characters only, so that it reads back as it was written.
    if (!std::all_of(c.store.instance.begin(), c.store.instance.end(), [](unsigned char ch) {
          return std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_';
        }))
      st->error("instance", "\"" + c.store.instance + "\": letters, digits, '-', '.' and '_' only (a host name)");
    st->duration("lease", c.store.lease);
    if (c.store.backend == "postgres" && !conninfoGiven)
      st->error("conninfo", "the postgres store needs conninfo or conninfo_file (a libpq connection string)");
    if (c.store.backend == "sqlite" && conninfoGiven) st->error("conninfo", "only the postgres store takes conninfo");
    // Leases are renewed every third of their time: a poll must fit in one, with room to spare.
    if (c.store.lease < std::chrono::seconds(5)) st->error("lease", "must be at least 5s");
    else if (c.store.lease < 2 * c.poll_interval) st->error("lease", "must be at least twice poll_interval");
    st->finish();
  }
  if (auto p = top.map("policy")) { readPolicy(*p, c.policy); p->finish(); }
  if (auto d = top.map("dns")) {
    d->stringList("servers", c.dns.servers);
    for (const auto& server : c.dns.servers)
      if (!isDnsServer(server))
        d->error("servers", "\"" + server + "\" is not an IP address with an optional port (127.0.0.1:5353, [::1]:53)");
    d->duration("timeout", c.dns.timeout);
    atLeast(*d, "timeout", c.dns.timeout, std::chrono::milliseconds(100), "100ms");
    d->integer("tries", c.dns.tries, 1, 10);
    d->finish();
  }
  if (auto s = top.map("smtp_probe")) {
    s->boolean("enabled", c.smtp_probe.enabled);
    s->string("helo", c.smtp_probe.helo);
    s->string("mail_from", c.smtp_probe.mail_from);
    s->integer("port", c.smtp_probe.port, 1, 65535);
    s->duration("connect_timeout", c.smtp_probe.connect_timeout);
    s->duration("command_timeout", c.smtp_probe.command_timeout);
    atLeast(*s, "connect_timeout", c.smtp_probe.connect_timeout, std::chrono::milliseconds(100), "100ms");
    atLeast(*s, "command_timeout", c.smtp_probe.command_timeout, std::chrono::milliseconds(100), "100ms");
    if (!isHeloName(c.smtp_probe.helo))
      s->error("helo", "must be a host name (letters, digits, '-' and '.'; RFC 5321 4.1.1.1)");
    if (!c.smtp_probe.mail_from.empty() && parseAddress(c.smtp_probe.mail_from).error)
      s->error("mail_from", "must be an email address, or empty for the null sender <>");
    s->integer("per_domain_concurrency", c.smtp_probe.per_domain_concurrency, 1, 100);
    s->integer("per_mx_concurrency", c.smtp_probe.per_mx_concurrency, 1, 100);
    s->integer("max_sessions", c.smtp_probe.max_sessions, 1, 10000);
    s->integer("per_domain_rate", c.smtp_probe.per_domain_rate, 0, 60000);
    s->boolean("starttls", c.smtp_probe.starttls);
    s->stringList("skip_catch_all_mx", c.smtp_probe.skip_catch_all_mx);
    s->finish();
  }
  if (auto l = top.map("lists")) {
    l->string("allow", c.lists.allow);
    l->string("spamtraps", c.lists.spamtraps);
    l->string("complainers", c.lists.complainers);
    l->string("suppression", c.lists.suppression);
    for (const auto& [key, path] : {std::pair<const char*, const std::string*>{"allow", &c.lists.allow},
                                    {"spamtraps", &c.lists.spamtraps},
                                    {"complainers", &c.lists.complainers},
                                    {"suppression", &c.lists.suppression}})
      checkReadableFile(*l, key, *path);
    l->stringList("dnsbl_domains", c.lists.dnsbl_domains);
    checkDomains(*l, "dnsbl_domains", c.lists.dnsbl_domains);
    l->stringList("dnsbl_ips", c.lists.dnsbl_ips);
    l->finish();
  }
  if (auto b = top.map("bounces")) {
    b->integer("soft_hold_after", c.bounces.soft_hold_after, 1, 1000);
    b->duration("soft_window", c.bounces.soft_window);
    b->duration("soft_hold_for", c.bounces.soft_hold_for);
    b->duration("soft_hold_max", c.bounces.soft_hold_max);
    for (auto [key, value] : {std::pair{"soft_window", c.bounces.soft_window}, std::pair{"soft_hold_for", c.bounces.soft_hold_for},
                              std::pair{"soft_hold_max", c.bounces.soft_hold_max}})
      positive(*b, key, value);
    b->integer("permanent_after", c.bounces.permanent_after, 1, 1000);
    b->integer("domain_after", c.bounces.domain_after, 1, 1000);
    b->integer("incident_after", c.bounces.incident_after, 0, 100000);
    if (c.bounces.incident_after == 1)
      b->error("incident_after", "1 would read every unknown user as an incident: 0 (off) or 2 and more");
    b->duration("incident_window", c.bounces.incident_window);
    positive(*b, "incident_window", c.bounces.incident_window);
    b->number("provider_incident_ratio", c.bounces.provider_incident_ratio, 0.0, 1000.0);
    if (c.bounces.provider_incident_ratio > 0 && c.bounces.provider_incident_ratio < 1)
      b->error("provider_incident_ratio",
               "below 1 would read a provider's usual count of unknown users as an incident: 0 (off) or 1 and more");
    b->string("rules_file", c.bounces.rules_file);
    checkReadableFile(*b, "rules_file", c.bounces.rules_file);
    b->finish();
  }
  if (auto e = top.map("engagement")) {
    e->duration("dead_after", c.engagement.dead_after);
    positive(*e, "dead_after", c.engagement.dead_after);
    e->integer("unengaged_sends", c.engagement.unengaged_sends, 1, 10000);
    e->finish();
  }
  if (auto s = top.map("senders")) {
    s->number("pause_bounce_rate", c.senders.pause_bounce_rate, 0.0, 1.0);
    s->integer("min_sends", c.senders.min_sends, 1, 1000000);
    s->duration("pause_for", c.senders.pause_for);
    s->duration("pause_max", c.senders.pause_max);
    positive(*s, "pause_for", c.senders.pause_for);
    positive(*s, "pause_max", c.senders.pause_max);
    s->finish();
  }
  if (auto r = top.map("retention")) {
    r->duration("decisions", c.retention.decisions);
    r->duration("outbox", c.retention.outbox);
    r->duration("bounces", c.retention.bounces);
    r->duration("sends", c.retention.sends);
    r->finish();
    if (c.retention.sends < std::chrono::hours(24)) top.error("retention", "sends must be kept at least 1d (sender protection counts 24 h)");
  }
  if (auto f = top.map("failsafe")) {
    f->number("max_hold_ratio", c.failsafe.max_hold_ratio, 0.0, 1.0);
    f->integer("min_decisions", c.failsafe.min_decisions, 1, 1000000);
    f->duration("window", c.failsafe.window);
    f->number("week_factor", c.failsafe.week_factor, 0.0, 1000.0);
    f->number("week_min_ratio", c.failsafe.week_min_ratio, 0.0, 1.0);
    f->stringList("canaries", c.failsafe.canaries);
    checkDomains(*f, "canaries", c.failsafe.canaries);
    positive(*f, "window", c.failsafe.window);
    f->finish();
  }
  for (auto& m : top.mapList("connectors")) {
    ConnectorConfig cc;
    readConnector(m, cc, readFiles);
    m.finish();
    for (const auto& other : c.connectors)
      if (!cc.name.empty() && other.name == cc.name) m.error("name", "connector name \"" + cc.name + "\" is used twice");
    c.connectors.push_back(std::move(cc));
  }
  if (auto n = top.map("notify")) {
    if (auto s = n->map("slack")) { readSlack(*s, c.notify.slack, readFiles); s->finish(); }
    if (auto e = n->map("email")) { readEmail(*e, c.notify.email, c.notify.slack.enabled, readFiles); e->finish(); }
    readRoute(*n, c.notify);
    n->finish();
  }
  top.stringList("admins", c.admins);
  for (auto& a : c.admins) {
    a = asciiLower(a);
    if (addressOf(a).empty() || a.find('<') != std::string::npos) top.error("admins", "\"" + a + "\" is not an email address");
  }
  if (auto a = top.map("admin_api")) {
    readAdminApi(*a, c.admin_api, readFiles);
    a->finish();
  }
  for (const auto& cc : c.connectors)
    if (!cc.webhook_secret.empty() && !c.admin_api.enabled) {
      top.error("connectors", "connector \"" + cc.name +
                                  "\" has a webhook_secret: webhooks arrive on the admin API's listener; configure admin_api");
      break;
    }
  top.finish();

  ConfigResult r;
  r.errors = diag.take();
  if (r.errors.empty()) r.config = std::move(c);
  return r;
}

ConfigResult parseAndLoad(const std::string& text, const std::string& name, bool readSecrets) {
  Diagnostics diag(name, readSecrets);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    diag.error(e.mark, "", "invalid YAML: " + e.msg);
    ConfigResult r;
    r.errors = diag.take();
    return r;
  }
  try {
    return load(root, diag, name);
  } catch (const YAML::Exception& e) {  // yaml-cpp may throw on odd nodes; never escape
    diag.error(e.mark, "", e.msg);
    ConfigResult r;
    r.errors = diag.take();
    return r;
  }
}

}  // namespace

ConfigResult loadConfigText(const std::string& text, const std::string& name, Secrets secrets) {
  return parseAndLoad(text, name, secrets == Secrets::Read);
}

ConfigResult loadConfigFile(const std::string& path, Secrets secrets) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {  // ifstream opens one, and reads nothing: all defaults
    ConfigResult r;
    r.errors.push_back(ConfigError{path + ": is a directory, not a configuration file"});
    return r;
  }
  std::ifstream in(path);
  if (!in) {
    ConfigResult r;
    r.errors.push_back(ConfigError{path + ": cannot open the configuration file"});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parseAndLoad(ss.str(), path, secrets == Secrets::Read);
}

std::optional<std::string> shadowSetting(const Config& c, const std::string& connector, const std::string& reason) {
  if (auto it = c.policy.modes.find(reason); it != c.policy.modes.end())
    return it->second == "shadow" ? std::optional<std::string>("policy.modes." + reason) : std::nullopt;
  for (const auto& k : c.connectors)
    if (k.name == connector && !k.mode.empty())
      return k.mode == "shadow" ? std::optional<std::string>("connectors[" + connector + "].mode") : std::nullopt;
  return c.mode == "shadow" ? std::optional<std::string>("mode") : std::nullopt;
}

std::string defaultConfigPath() {
  if (const char* e = std::getenv("SAFETYNET_CONFIG"); e && *e) return e;
  return "/etc/safetynet/safetynet.yaml";
}

}  // namespace safetynet
