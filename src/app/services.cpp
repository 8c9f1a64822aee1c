#include "bounce/rule_engine.hpp"
#include "checks/admin_lists.hpp"
#include "checks/bounce_history_check.hpp"
#include "checks/blocklist_check.hpp"
#include "checks/domain_check.hpp"
#include "checks/smtp_probe_check.hpp"
#include "checks/list_checks.hpp"
#include "checks/override_check.hpp"
#include "checks/profile_check.hpp"
#include "checks/provider_check.hpp"
#include "checks/syntax_check.hpp"
#include "connectors/registry.hpp"
#include "notify/email_notifier.hpp"
#include "notify/slack_notifier.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/core/logging.hpp"

namespace safetynet {

namespace {
// The running connector configured exactly as `cc` (its position in the file and its mode aside:
// the engine reads the mode from the configuration, not from the connector), or null.
ConnectorPtr unchangedConnector(const Services& previous, const ConnectorConfig& cc) {
  auto comparable = [](ConnectorConfig c) {
    c.where.clear();
    c.mode.clear();
    return c;
  };
  if (!cc.ca_file.empty()) return nullptr;  // its CA bundle is read again: it may have been replaced in place
  for (const auto& was : previous.config.connectors) {
    if (was.name != cc.name || !(comparable(was) == comparable(cc))) continue;
    for (const auto& c : previous.connectors)
      if (c->name() == cc.name) return c;
  }
  return nullptr;
}
}  // namespace

std::shared_ptr<Services> buildServices(asio::any_io_executor ex, const Config& config, Store& store,
                                        const ServiceOverrides& overrides, bool network, bool smtp,
                                        const Services* previous) {
  auto s = std::make_shared<Services>();
  s->config = config;
  std::vector<std::string> problems;
  s->policy = Policy::build(kDefaultPolicyYamlText(), config.policy, &problems);
  if (!s->policy || !problems.empty())
    throw std::runtime_error("policy: " + (problems.empty() ? std::string("cannot be built") : problems.front()));
  s->lists = AdminLists::load(config.lists, &problems);
  if (!problems.empty()) throw std::runtime_error("lists: " + problems.front());
  // The bounce rules the platforms' bounce reports are read with (bounces.rules_file). Read now
  // (a bad file refuses the build), installed last: they are process-wide, and a build that fails
  // later (a reload refused) must leave the running ones in place.
  // Without an admin's file, nullptr: the built-in ones, parsed when a bounce is first read (a
  // `check` reads none, and parsing them was half its start).
  std::shared_ptr<const bounce::RuleSet> bounceRules;
  if (!config.bounces.rules_file.empty()) {
    bounceRules = bounce::loadRuleSetFile(config.bounces.rules_file, problems);
    if (!bounceRules) throw std::runtime_error("bounces.rules_file: " + problems.front());
  }

  if (network) {
    if (overrides.dns) {
      s->dns = overrides.dns;
    } else {
      DnsOptions o;
      o.servers = config.dns.servers;
      o.timeout = config.dns.timeout;
      o.tries = config.dns.tries;
      s->dns = makeCachingResolver(makeCaresResolver(ex, o));
    }
  }
  std::vector<CheckPtr> checks;
  checks.push_back(std::make_shared<checks::SyntaxCheck>());
  // A release allows before anything else; a rep's covers only what a rep may release.
  checks.push_back(std::make_shared<checks::OverrideCheck>(&store, [admins = config.admins](const std::string& who) {
    return std::find(admins.begin(), admins.end(), who) != admins.end();
  }));
  auto lists = s->lists;
  checks.push_back(std::make_shared<checks::AdminListCheck>([lists] { return lists; }));
  checks.push_back(std::make_shared<checks::ProviderCheck>());
  checks.push_back(std::make_shared<checks::ProfileCheck>(config.engagement));
  // After the profile check: it reads the platform's bounced flag against the bounce on record.
  checks.push_back(std::make_shared<checks::BounceHistoryCheck>(&store));
  if (s->dns) checks.push_back(std::make_shared<checks::DomainCheck>(s->dns, &store));
  if (s->dns && !config.lists.dnsbl_domains.empty())
    checks.push_back(std::make_shared<checks::DomainBlocklistCheck>(s->dns, config.lists.dnsbl_domains));
  if (s->dns && !config.lists.dnsbl_ips.empty())
    checks.push_back(std::make_shared<checks::MxBlocklistCheck>(s->dns, config.lists.dnsbl_ips));
  if (s->dns && smtp && config.smtp_probe.enabled) {
    const auto& p = config.smtp_probe;
    SmtpProbeOptions po{p.helo, p.mail_from, p.port, p.connect_timeout, p.command_timeout, p.starttls};
    po.public_only = p.port == 25;  // a test server on loopback is probed only on another port
    checks::SmtpProbeCheckOptions co;
    co.skip_catch_all_mx = p.skip_catch_all_mx;
    co.per_domain_concurrency = p.per_domain_concurrency;
    co.per_mx_concurrency = p.per_mx_concurrency;
    co.max_sessions = p.max_sessions;
    co.per_domain_rate = p.per_domain_rate;
    s->smtp_sessions = previous && previous->smtp_sessions ? previous->smtp_sessions
                                                           : std::make_shared<checks::SmtpSessionCounts>();
    checks.push_back(
        std::make_shared<checks::SmtpProbeCheck>(s->dns, makeSmtpProber(s->dns, po), co, &store, s->smtp_sessions));
  }
  PipelineOptions po;
  po.positive_ttl = config.positive_ttl;
  po.negative_ttl = config.negative_ttl;
  po.unknown_ttl = config.recheck_after;
  po.network = network;
  // Recipients mostly wait on the network; keep enough of them in flight to fill the SMTP sessions
  // (a session asks several recipients of one domain).
  po.concurrency = std::max(po.concurrency, 4 * config.smtp_probe.max_sessions);
  s->pipeline = std::make_shared<Pipeline>(std::move(checks), s->policy, &store, po);
  if (previous && previous->pipeline) s->pipeline->setDnsDistrust(previous->pipeline->dnsDistrust());

  for (const auto& cc : config.connectors) {
    // A reload keeps a connector whose settings did not change: its rate budget (what the
    // platform's limit has left), its OAuth session, its listing state and caches. A new one would
    // spend the same platform quota beside the old one's in-flight work, and list in full.
    if (const auto kept = previous ? unchangedConnector(*previous, cc) : nullptr) {
      s->connectors.push_back(kept);
      continue;
    }
    HttpClientOptions ho;
    ho.ca_file = cc.ca_file;
    ho.user_agent = "safetynet (" + cc.name + ")";
    s->connectors.push_back(makeConnector(cc, makeHttpClient(ex, ho), store));
  }
  if (config.notify.slack.enabled) {
    HttpClientOptions ho;
    ho.ca_file = config.notify.slack.ca_file;
    s->notifiers["slack"] = std::make_shared<SlackNotifier>(config.notify.slack, makeHttpClient(ex, ho));
  }
  if (config.notify.email.enabled)
    s->notifiers["email"] = std::make_shared<EmailNotifier>(config.notify.email, makeMailTransport(config.notify.email));
  bounce::installRuleSet(bounceRules);  // nothing after this can fail
  return s;
}

}  // namespace safetynet
