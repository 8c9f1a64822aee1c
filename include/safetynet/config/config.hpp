#pragma once
// The configuration contract of notes/product.md, as typed values. Loaded by loadConfig().
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/config/secret.hpp"

namespace safetynet {

using std::chrono::milliseconds;

struct PolicyOverride {
  std::optional<std::string> reason;
  std::optional<double> weight;
};

struct PolicyConfig {
  std::vector<std::string> revert = {"bounce_risk",     "spamtrap",   "do_not_mail", "secondary_email",
                                     "dead_email",      "unknown",    "sender_paused"};
  std::string on_internal_error = "allow";  // allow | revert
  std::optional<double> threshold;          // overrides the shipped threshold
  std::map<std::string, PolicyOverride> signals;  // per-signal overrides of the shipped policy
  // Per reason code: enforce | shadow (shadowSetting below). Absent: the connector's mode.
  std::map<std::string, std::string> modes;
};

struct DnsConfig {
  std::vector<std::string> servers;  // "127.0.0.1:5353"; empty: the system's resolv.conf
  milliseconds timeout{3000};
  int tries = 2;
};

struct SmtpProbeConfig {
  bool enabled = true;
  std::string helo = "probe.example.com";
  std::string mail_from;
  int port = 25;
  milliseconds connect_timeout{10000};
  milliseconds command_timeout{15000};
  int per_domain_concurrency = 2;
  int per_mx_concurrency = 5;
  int max_sessions = 50;
  int per_domain_rate = 30;  // sessions started per minute per domain
  bool starttls = true;
  // MX host suffixes whose answer to a random address means nothing: no catch-all test there.
  std::vector<std::string> skip_catch_all_mx = {".google.com", ".googlemail.com", ".outlook.com", ".yahoodns.net",
                                                ".antispamcloud.com"};
};

struct ListsConfig {
  std::string allow, spamtraps, complainers, suppression;  // file paths; empty: none
  std::vector<std::string> dnsbl_domains;  // domain lists (DBL style)
  std::vector<std::string> dnsbl_ips;      // IP lists asked about the recipient domain's MX hosts (ZEN style)
};

// What bounces do to an address (docs/bounces.md). A hard bounce suppresses it until an admin
// clears it; a complaint makes it do_not_mail; soft bounces are counted, and soft_hold_after of
// them within soft_window hold it, for soft_hold_for, doubling each time up to soft_hold_max, and
// for good from the permanent_after-th hold.
struct BouncesConfig {
  int soft_hold_after = 3;
  milliseconds soft_window{std::chrono::hours(24 * 7)};
  milliseconds soft_hold_for{std::chrono::hours(72)};
  milliseconds soft_hold_max{std::chrono::hours(24 * 30)};
  int permanent_after = 5;
  // A dead domain (hostunknown, notaccept) is suppressed as a whole (@domain) once bounces say so
  // for this many different addresses; before that, only the address that bounced.
  int domain_after = 2;
  // A provider's incident (Gmail answered "does not exist" for live addresses on 14 December
  // 2020) reads like many dead mailboxes at once: when this many different addresses at
  // one domain bounce as unknown within incident_window, their hard bounces hold nobody on their
  // own, a hard bounce after it does, and the admins are told (docs/bounces.md, "Provider
  // incidents"). 0: off.
  int incident_after = 10;
  milliseconds incident_window{std::chrono::hours(1)};
  // The same at a provider that runs many companies' mail (Google Workspace, Microsoft 365), where
  // each domain sees a bounce or two: incident_after different addresses at its domains within
  // incident_window, and this many times its usual count per window over the week before (a
  // sender's normal share of dead addresses there). 0: off.
  double provider_incident_ratio = 5.0;
  // An admin's bounce rules (docs/bounces.md, "Overriding a rule"): tried before the built-in
  // data/bounce/rules.yaml, whose rules it can also disable by id. "" for the built-in ones only.
  std::string rules_file;
};

struct EngagementConfig {
  milliseconds dead_after{std::chrono::hours(24 * 365)};
  // Emails sent to a person with no engagement after which the address counts as dead.
  int unengaged_sends = 8;
};

struct SendersConfig {
  double pause_bounce_rate = 0.03;
  int min_sends = 50;
  milliseconds pause_for{std::chrono::hours(4)};
  // Each pause of a mailbox lasts twice the one before, up to this.
  milliseconds pause_max{std::chrono::hours(24 * 7)};
};

// The safety net never becomes the outage (notes/product.md): when its own inputs look broken it
// lets emails go and tells the admins (docs/operations.md, "The fail-safe").
struct FailsafeConfig {
  // More than this share of the recent decisions held on guesses (not the admin's lists or the
  // bounce history), with at least min_decisions of them: stop holding on guesses until resumed.
  double max_hold_ratio = 0.5;
  int min_decisions = 20;
  milliseconds window{std::chrono::minutes(15)};  // "recent"
  // Also trips when the recent share held on guesses is more than week_factor times the trailing
  // week's (and above week_min_ratio): a company whose week held 2% is in trouble at 30%, long
  // before max_hold_ratio. 0: off. Needs a week with at least 20 x min_decisions decisions.
  double week_factor = 5;
  double week_min_ratio = 0.2;
  // Domains that always have MX records: a definite "no" for one of them means our resolver lies,
  // and NXDOMAIN / no-mail-host answers are not trusted while it does. Empty: no canary check.
  std::vector<std::string> canaries = {"gmail.com", "outlook.com", "yahoo.com"};
};

// How long the database keeps what it no longer needs to act (docs/operations.md, "Retention"):
// older rows are pruned in small batches every poll, so the file stops growing.
struct RetentionConfig {
  milliseconds decisions{std::chrono::hours(24 * 180)};  // decided emails and their audit lines
  milliseconds outbox{std::chrono::hours(24 * 30)};      // notifications sent (or given up)
  milliseconds bounces{std::chrono::hours(24 * 365)};    // bounce events (standings stay)
  milliseconds sends{std::chrono::hours(24 * 30)};       // sends counted by sender protection (24 h)
};

// OAuth2 refresh-token grant (Outreach; Salesloft when no api_key).
struct OAuthConfig {
  bool enabled = false;
  std::string token_url;
  std::string client_id;
  Secret client_secret;
  Secret refresh_token;  // the first one; rotated ones live in the store
  // Sent with the refresh grant when set: the redirect URI the app was authorized with (Outreach's
  // token examples send it). Empty: not sent.
  std::string redirect_uri;
  // Tokens minted at most this often (Outreach: one per user per 60 s).
  milliseconds min_mint_interval{0};
  // An access token is renewed this long before it expires.
  milliseconds renew_before{std::chrono::minutes(5)};
  bool operator==(const OAuthConfig&) const = default;
};

struct ConnectorConfig {
  std::string name;
  std::string type;  // close | outreach | salesloft
  std::string base_url;
  Secret api_key;
  OAuthConfig oauth;
  std::string ca_file;
  // How an email is stopped: outreach draft | pause_sequence; salesloft remove_from_cadence |
  // restrict_email. Empty: the connector's default.
  std::string revert_strategy;
  // Share of the platform's rate limit this connector may use; the rest is left to the
  // customer's other integrations.
  double rate_budget = 0.5;
  // close: how far back the first sweep looks for emails created earlier and scheduled now.
  milliseconds backfill{std::chrono::hours(24 * 30)};
  // close: a full sweep at least this often, in case an event was missed.
  milliseconds resync_every{std::chrono::hours(6)};
  // The platform's webhook subscription secret (Close: its signature_key, hex; Outreach: the
  // secret; Salesloft: the callback_token). Set: POST /webhooks/{name} on the admin API's
  // listener, signature verified, lists this connector at once (src/admin/webhooks.hpp).
  Secret webhook_secret;
  // enforce | shadow; empty: the top-level mode (shadowSetting below).
  std::string mode;
  // source position, for messages
  std::string where;
  bool operator==(const ConnectorConfig&) const = default;
};

struct SlackConfig {
  bool enabled = false;
  Secret bot_token;
  std::string base_url = "https://slack.com/api";
  std::string channel;
  bool dm_rep = false;
  std::string ca_file;
  // Buttons on each held email's message (Release and send, Keep held), answered over Socket Mode
  // with the app-level token (xapp-...): no public URL needed.
  Secret app_token;
  bool actions = false;
  // How long a post Slack never answered (a timeout, the daemon killed mid-post) may still land:
  // the outbox looks for it in the channel's history no sooner than this after the attempt, so a
  // post Slack carries out late is found, not posted twice (Slack has no idempotency key).
  milliseconds in_flight_wait{std::chrono::minutes(2)};
};

// Email alerts (docs/configuration.md, notify.email): to the rep, and to the admins with a
// daily digest. Submission over SMTP (libcurl) or the local MTA's sendmail program.
struct EmailConfig {
  bool enabled = false;
  std::string transport = "smtp";  // smtp | sendmail
  std::string host;
  int port = 587;
  std::string tls = "starttls";    // starttls | implicit | none (none: loopback hosts only)
  std::string username;
  Secret password;
  std::string ca_file;             // a private CA (tests); the system's trust store otherwise
  std::string helo;                // the EHLO name; empty: libcurl's default
  milliseconds timeout{30000};     // a whole SMTP transaction, or the sendmail program's run
  std::string sendmail_path = "/usr/sbin/sendmail";
  std::vector<std::string> sendmail_args;  // before -t -oi (tests: -C DIR for a test Postfix)
  std::string from;                // "Safety Net <safetynet@example.com>"
  std::string from_address;        // its address (set by the loader): the envelope sender
  bool to_rep = true;
  std::vector<std::string> admin_to;
  std::string digest = "off";      // off | daily
};

struct NotifyConfig {
  SlackConfig slack;
  EmailConfig email;
  // slack | email | both | slack_then_email: where a rep's notification goes. Empty in the file:
  // the configured notifier, or slack_then_email when both are.
  std::string route = "slack";
};

// The admin HTTP API (docs/operations.md, "The admin API"): loopback by default; TLS required on
// any other address. Tokens come from files; `token` may do everything, `read_token` only read.
struct AdminApiConfig {
  bool enabled = false;
  std::string listen = "127.0.0.1:8787";
  std::string host = "127.0.0.1";  // from listen (an IPv6 address without its brackets)
  int port = 8787;
  Secret token, read_token;
  std::string tls_cert_file, tls_key_file;  // both, or neither
  std::string public_url;  // the base of links in alerts ("https://safetynet.example.com:8787"); optional
};

// Where the state lives (notes/product.md, "Scale"): SQLite in state_dir, for one instance; or one
// PostgreSQL database shared by several instances on different machines, each doing the work whose
// lease it holds (docs/operations.md, "Several instances").
struct StoreConfig {
  std::string backend = "sqlite";  // sqlite | postgres
  Secret conninfo;                  // postgres: a libpq connection string or postgresql:// URI
  std::string instance;             // this instance's name among those sharing it; default: the host name
  milliseconds lease{30000};        // an instance that stops renewing its work is taken over after this
};

struct Config {
  std::string source;  // the file it came from
  // enforce: held emails are stopped and their reps told. shadow: every email is decided and
  // recorded as usual, but nothing is changed on a platform and nobody is told (a trial run).
  // Also per connector (connectors[].mode) and per reason (policy.modes): shadowSetting().
  std::string mode = "enforce";
  std::string state_dir = "/var/lib/safetynet";
  StoreConfig store;
  milliseconds poll_interval{10000};
  // The least lead a user can give an email (sequence steps, "send later"): emails are listed from
  // now, but this is the promise the daemon is measured against.
  milliseconds min_lead_time{120000};
  // The time it takes to stop an email and confirm it: an email with less than this left before
  // its send when it could be decided is too late (notes/product.md main loop, step 6).
  milliseconds act_margin{20000};
  milliseconds lookahead{3600000};
  milliseconds recheck_after{std::chrono::hours(24 * 30)};
  // Network results per address (DNS, SMTP), like Postfix's verify cache: a clean result is kept
  // positive_ttl, a bad one negative_ttl; an inconclusive one recheck_after.
  milliseconds positive_ttl{std::chrono::hours(24 * 31)};
  milliseconds negative_ttl{std::chrono::hours(24 * 3)};
  milliseconds shutdown_grace{10000};
  std::string log_level = "info";
  PolicyConfig policy;
  DnsConfig dns;
  SmtpProbeConfig smtp_probe;
  ListsConfig lists;
  BouncesConfig bounces;
  EngagementConfig engagement;
  SendersConfig senders;
  FailsafeConfig failsafe;
  RetentionConfig retention;
  std::vector<ConnectorConfig> connectors;
  NotifyConfig notify;
  // Who may release any held email (do_not_mail, spamtrap, sender_paused too), by email address;
  // a rep may release their own held as bounce_risk, unknown, secondary_email or dead_email.
  std::vector<std::string> admins;
  AdminApiConfig admin_api;
};

struct ConfigError {
  std::string message;  // "file:line:col: key.path: what is wrong (did you mean ...?)"
};

struct ConfigResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  bool ok() const { return config.has_value() && errors.empty(); }
};

// Secrets::Skip: the keys are checked but the secrets are not read (admin commands that talk to no
// platform: they may run as a user who cannot read them, or without the daemon's environment).
enum class Secrets { Read, Skip };
// Reads and validates a YAML file. Never throws: problems come back as errors.
ConfigResult loadConfigFile(const std::string& path, Secrets secrets = Secrets::Read);
// Same from text (tests); `name` stands for the file in messages.
ConfigResult loadConfigText(const std::string& text, const std::string& name, Secrets secrets = Secrets::Read);

// Whether a hold for `reason` on `connector` is only recorded (shadow mode), and which setting says
// so ("policy.modes.unknown", "connectors[close-main].mode", "mode"); nullopt: carried out. The
// most specific setting given wins: the reason's, then the connector's, then the top-level mode.
std::optional<std::string> shadowSetting(const Config& c, const std::string& connector, const std::string& reason);

// The path the commands use: -c, else $SAFETYNET_CONFIG, else /etc/safetynet/safetynet.yaml.
std::string defaultConfigPath();

}  // namespace safetynet
