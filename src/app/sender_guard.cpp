// Sender protection (issue 5): a mailbox that bounces too much hurts every rep's delivery, so all
// its emails are held (sender_paused) for a while, longer each time, and the admins are told.
#include <algorithm>
#include <cstdio>

#include "bounce/history.hpp"
#include "bounce/record.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet {

namespace {
constexpr auto kWindow = std::chrono::hours(24);
constexpr auto kOverlap = std::chrono::minutes(5);

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
  return buf;
}

nlohmann::json pausePayload(const SenderState& st) {
  nlohmann::json p;
  p["type"] = "sender_paused";
  p["mailbox"] = st.mailbox;
  p["evidence"] = st.evidence;
  p["until"] = st.until ? formatIso8601(*st.until) : "";
  p["pauses"] = st.pauses;
  return p;
}
}  // namespace

OutboxMessage bounceIncidentNote(const Config& config, const bounce::BounceIncident& incident) {
  nlohmann::json p;
  p["type"] = "bounce_incident";
  p["domain"] = incident.domain;
  if (!incident.provider.empty() || !incident.site.empty()) {
    if (!incident.provider.empty()) p["provider"] = incident.provider;
    if (!incident.site.empty()) p["site"] = incident.site;
    p["domains"] = incident.domains;
    p["usual"] = incident.usual;
    p["threshold"] = incident.threshold;
    p["ratio"] = config.bounces.provider_incident_ratio;
  }
  p["addresses"] = incident.addresses;
  p["since"] = formatIso8601(incident.since);
  p["window_minutes"] = std::chrono::duration_cast<std::chrono::minutes>(config.bounces.incident_window).count();
  p["incident_after"] = config.bounces.incident_after;
  p["rewritten"] = incident.rewritten;
  const std::string scope = !incident.site.empty()       ? "site:" + incident.site
                            : incident.provider.empty() ? incident.domain
                                                        : "provider:" + incident.provider;
  return outboxNote(config, "bounce_incident|" + scope + "|" + std::to_string(toMillis(incident.since)), p);
}

std::optional<SenderState> pauseDecision(const std::optional<SenderState>& current, const std::string& mailbox, int sends,
                                         int bounces, const SendersConfig& config, TimePoint now) {
  if (current && current->state == "paused" && current->until && *current->until > now) return std::nullopt;
  if (sends < config.min_sends || sends <= 0) return std::nullopt;
  const double rate = static_cast<double>(bounces) / sends;
  if (rate <= config.pause_bounce_rate) return std::nullopt;
  SenderState st;
  st.mailbox = mailbox;
  st.state = "paused";
  st.since = now;
  st.pauses = (current ? current->pauses : 0) + 1;
  auto length = config.pause_for;
  for (int i = 1; i < st.pauses && length < config.pause_max; ++i) length *= 2;
  length = std::min(length, config.pause_max);
  st.until = now + length;
  st.evidence = "bounce rate " + percent(rate) + " (" + std::to_string(bounces) + " of " + std::to_string(sends) +
                " emails) over the last 24 h, above " + percent(config.pause_bounce_rate) + "; paused until " +
                formatIso8601(*st.until) + " (pause " + std::to_string(st.pauses) + ")";
  return st;
}

SenderCounts senderCounts(Store& store, const std::string& mailbox, TimePoint now) {
  SenderCounts c;
  c.from = now - kWindow;
  if (auto current = store.sender(mailbox)) c.from = std::max(c.from, current->since);  // a release or a pause restarts it
  c.sends = store.sendsFrom(mailbox, c.from);
  c.bounces = store.bouncesFrom(mailbox, c.from);
  return c;
}

std::map<std::string, SenderState> storedPauses(Store& store, TimePoint now) {
  std::map<std::string, SenderState> paused;
  for (const auto& st : store.senders())
    if (st.state == "paused" && st.until && *st.until > now) paused[st.mailbox] = st;
  return paused;
}

Task<std::map<std::string, SenderState>> guardSenders(Services& s, Store& store, TimePoint now,
                                                      const std::function<bool(const std::string&)>& reads, bool decide) {
  // 1. What the platforms sent and bounced since the last look (a few minutes of overlap: the
  //    sends and bounces are keyed, so seeing one twice counts it once).
  for (auto& c : s.connectors) {
    if (reads && !reads(c->name())) continue;
    auto since = store.connectorState(c->name(), "activity_since");
    TimePoint from = now - kWindow;
    if (since) from = std::max(from, fromMillis(std::stoll(*since)) - kOverlap);
    Activity a;
    std::string error;
    try {
      a = co_await c->recentActivity(from);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      logger(c->name())->warn("sent and bounced emails not read: {}", error);
      continue;
    }
    if (!a.supported) continue;
    for (const auto& sent : a.sent) store.recordSend(sent.key, asciiLower(sent.mailbox), sent.at);
    for (const auto& b : a.bounced) {
      bounce::Classification cl;
      bounce::BounceRecord r;
      r.recipient = b.address;
      r.diagnostic = b.diagnostic;
      r.action = "failed";
      // The same reading as a bounce email's (vendor codes, what receivers mean by their words).
      cl.records.push_back(bounce::completeRecord(r));
      const auto alert = [&s](const bounce::BounceIncident& inc) -> std::optional<OutboxMessage> {
        if (s.notifiers.empty()) return std::nullopt;
        return bounceIncidentNote(s.config, inc);
      };
      const auto result =
          bounce::recordBounces(store, s.config.bounces, cl, b.key, "connector: " + c->name(), asciiLower(b.mailbox), b.at, alert);
      for (const auto& inc : result.incidents)
        if (inc.began)
          logger("bounces")->warn("{} different addresses at {} bounced as unknown within {} min: a suspected provider "
                                  "or relay incident; their hard bounces suppress nobody on their own (bounces.incident_after, "
                                  "provider_incident_ratio)",
                                  inc.addresses, bounce::incidentPlace(inc),
                                  std::chrono::duration_cast<std::chrono::minutes>(s.config.bounces.incident_window).count());
    }
    store.putConnectorState(c->name(), "activity_since", std::to_string(toMillis(now)));
  }
  // 2. Each mailbox's rate over the last 24 h (or since an admin released it).
  std::map<std::string, SenderState> paused;
  if (!decide) co_return storedPauses(store, now);  // another instance decides: the pauses it recorded
  for (const auto& mailbox : store.sendersActiveSince(now - kWindow)) {
    auto current = store.sender(mailbox);
    if (current && current->state == "paused" && current->until && *current->until > now) {
      paused[mailbox] = *current;
      continue;
    }
    const auto counts = senderCounts(store, mailbox, now);
    auto next = pauseDecision(current, mailbox, counts.sends, counts.bounces, s.config.senders, now);
    if (!next) continue;
    OutboxMessage note = outboxNote(s, "sender_paused|" + mailbox + "|" + std::to_string(toMillis(now)), pausePayload(*next));
    store.putSender(*next, !s.notifiers.empty() ? std::optional<OutboxMessage>(note) : std::nullopt);
    logger("senders")->warn("mailbox {} paused: {}", mailbox, next->evidence);
    paused[mailbox] = *next;
  }
  co_return paused;
}

}  // namespace safetynet
