#include "admin/queries.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "admin/overrides.hpp"
#include "safetynet/app/app.hpp"
#include "safetynet/check/address.hpp"
#include "safetynet/core/duration.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::admin {

namespace {

Json orNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

// The cursor: "v1", the last row's decided_at (ms) and key, and the window's start (ms), hex-encoded
// so that it is one opaque token in a URL.
std::string hexEncode(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> hexDecode(const std::string& s) {
  if (s.size() % 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

struct Cursor {
  long long decided_ms = 0, since_ms = 0;
  std::string key;
};

std::string encodeCursor(const Cursor& c) {
  return hexEncode("v1\n" + std::to_string(c.decided_ms) + "\n" + std::to_string(c.since_ms) + "\n" + c.key);
}

std::optional<long long> toInteger(std::string_view s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<Cursor> decodeCursor(const std::string& text) {
  auto raw = hexDecode(text);
  if (!raw) return std::nullopt;
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t nl = raw->find('\n', start);
    if (nl == std::string::npos) return std::nullopt;
    parts.push_back(raw->substr(start, nl - start));
    start = nl + 1;
  }
  if (parts[0] != "v1") return std::nullopt;
  auto decided = toInteger(parts[1]), since = toInteger(parts[2]);
  // Within the years a time point holds (a forged cursor must not overflow the clock's nanoseconds).
  constexpr long long kYear3000Ms = 32503680000000LL;
  if (!decided || !since || *decided < 0 || *since < 0 || *decided > kYear3000Ms || *since > kYear3000Ms)
    return std::nullopt;
  return Cursor{*decided, *since, raw->substr(start)};
}

bool activeStanding(const Standing& s, TimePoint now) {
  return s.state == "hard" || s.state == "complained" || s.state == "soft_permanent" || s.state == "suppressed" ||
         (s.state == "soft_hold" && s.until && *s.until > now);
}

}  // namespace

std::variant<DecisionPage, std::string> decisionsPage(Store& store, const DecisionFilter& f, TimePoint now) {
  DecisionQuery q;
  const auto since = parseDuration(f.since);
  if (!since || since->count() < 0) return "since expects a duration like 24h or 7d, got \"" + f.since + "\"";
  // The clock counts nanoseconds: a window of centuries would overflow it.
  if (*since > kDecisionsMaxSince) return "since is at most " + formatDuration(kDecisionsMaxSince) + ", not " + f.since;
  q.since = now - *since;
  if (!f.verdict.empty() && f.verdict != "allow" && f.verdict != "revert")
    return "verdict is allow or revert, not \"" + f.verdict + "\"";
  q.verdict = f.verdict;
  q.reason = f.reason;
  q.connector = f.connector;
  q.rep = f.rep;
  q.address = f.address;
  q.limit = kDecisionsDefaultLimit;
  if (!f.limit.empty()) {
    auto n = toInteger(f.limit);
    if (!n || *n < 1 || *n > kDecisionsMaxLimit)
      return "limit is a number from 1 to " + std::to_string(kDecisionsMaxLimit) + ", not \"" + f.limit + "\"";
    q.limit = static_cast<int>(*n);
  }
  if (!f.cursor.empty()) {
    auto c = decodeCursor(f.cursor);
    if (!c) return "cursor is not one this server gave (pass next_cursor from the previous page as it is)";
    q.after = std::make_pair(fromMillis(c->decided_ms), c->key);
    q.since = fromMillis(c->since_ms);  // the first page's window: a later page does not lose its oldest rows
  }
  // One row more than asked: whether there is a next page, without a second query.
  const int want = q.limit;
  q.limit = want + 1;
  DecisionPage page;
  page.decisions = store.decisionsPage(q);
  if (static_cast<int>(page.decisions.size()) > want) {
    page.decisions.resize(want);
    const EmailDecision& last = page.decisions.back();
    page.next_cursor = encodeCursor(Cursor{toMillis(last.decided_at), toMillis(q.since), last.key});
  }
  return page;
}

Json decisionJson(const EmailDecision& x) {
  auto addresses = Json::array();
  for (const auto& r : x.recipients) addresses.push_back(jsonString(r, "address"));
  const std::string repName = jsonString(x.email, "user_name"), repId = jsonString(x.email, "user_id");
  return Json{{"key", x.key},
              {"connector", x.connector},
              {"email_id", x.email_id},
              {"scheduled_at", formatIso8601(x.scheduled_at)},
              {"state", toString(x.state)},
              {"verdict", x.verdict},
              {"reason", orNull(x.reason)},
              {"evidence", x.evidence},
              {"next_step", x.next_step},
              {"subject", x.subject},
              {"sender", x.sender},
              {"rep", Json{{"id", orNull(repId)}, {"name", orNull(repName)}}},
              {"addresses", addresses},
              {"recipients", x.recipients},
              {"detail", x.detail},
              {"attempts", x.attempts},
              {"decided_at", formatIso8601(x.decided_at)},
              {"updated_at", formatIso8601(x.updated_at)}};
}

std::optional<Json> decisionDetail(Store& store, const std::string& key) {
  auto d = store.findDecision(key);
  if (!d) return std::nullopt;
  Json j = decisionJson(*d);
  auto signals = Json::array();
  for (const auto& r : d->recipients) {
    auto sigs = Json::array();
    if (r.contains("signals") && r["signals"].is_array())
      for (const auto& s : r["signals"])
        sigs.push_back(Json{{"name", jsonString(s, "name")},
                            {"weight", s.contains("weight") && s["weight"].is_number() ? Json(s["weight"].get<double>()) : Json(nullptr)},
                            {"evidence", jsonString(s, "evidence")}});
    signals.push_back(Json{{"address", jsonString(r, "address")},
                           {"verdict", jsonString(r, "verdict")},
                           {"reason", orNull(jsonString(r, "reason"))},
                           {"signals", sigs}});
  }
  j["signals"] = signals;
  auto actions = Json::array();
  for (const auto& a : store.auditFor(key))
    actions.push_back(Json{{"at", formatIso8601(a.at)}, {"event", a.event}, {"detail", a.detail}});
  j["actions"] = actions;
  auto notes = Json::array();
  for (const auto& m : store.outboxFor(key))
    notes.push_back(Json{{"id", m.id},
                         {"kind", m.kind},
                         {"audience", orNull(jsonString(m.payload, "audience"))},
                         {"state", m.state},
                         {"attempts", m.attempts},
                         {"next_attempt_at", formatIso8601(m.next_attempt_at)},
                         {"last_error", m.last_error},
                         {"sent_ref", m.sent_ref}});
  j["notifications"] = notes;
  return j;
}

std::variant<HoldStats, std::string> holdsPerDay(Store& store, const std::string& days, TimePoint now) {
  auto n = toInteger(days);
  if (!n || *n < 1 || *n > kHoldStatsMaxDays)
    return "days is a number from 1 to " + std::to_string(kHoldStatsMaxDays) + ", not \"" + days + "\"";
  // Whole UTC days: from midnight `days - 1` days ago to now.
  constexpr auto kDay = std::chrono::days(1);
  const TimePoint first = std::chrono::floor<std::chrono::days>(now) - (*n - 1) * kDay;
  HoldStats out;
  std::map<std::string, size_t> index;
  for (long long i = 0; i < *n; ++i) {
    out.days.push_back(formatIso8601(first + i * kDay).substr(0, 10));
    index[out.days.back()] = static_cast<size_t>(i);
  }
  for (const auto& c : store.holdsPerDay(first)) {
    auto day = index.find(c.day);
    if (day == index.end()) continue;  // a clock set back: a decision "from the future" is not charted
    auto& counts = out.per_reason[c.reason.empty() ? "none" : c.reason];
    counts.resize(out.days.size());
    counts[day->second] += c.count;
  }
  return out;
}

Json holdStatsJson(const HoldStats& s) {
  Json reasons = Json::object();
  for (const auto& [reason, counts] : s.per_reason) reasons[reason] = counts;
  return Json{{"days", s.days}, {"reasons", reasons}};
}

std::vector<Standing> activeSuppressions(Store& store, TimePoint now) {
  std::vector<Standing> out;
  for (auto& s : store.standings())
    if (activeStanding(s, now)) out.push_back(std::move(s));
  return out;
}

Json suppressionJson(const Standing& s) {
  return Json{{"subject", s.subject},
              {"state", s.state},
              {"since", formatIso8601(s.since)},
              {"until", s.until ? Json(formatIso8601(*s.until)) : Json(nullptr)},
              {"reason", s.reason},
              {"evidence", s.evidence}};
}

std::string suppressionSubject(const std::string& given) {
  if (!given.empty() && given.front() == '@') {
    // A domain: valid when "postmaster@domain" is an address; kept as its A-label, lower-case.
    const std::string canonical = canonicalAddress("postmaster" + given);
    if (!parseAddress("postmaster" + given).address || canonical.empty()) return "";
    return asciiLower(canonical.substr(canonical.rfind('@')));
  }
  if (!parseAddress(given).address) return "";
  return asciiLower(canonicalAddress(given));
}

std::variant<Standing, std::string> addSuppression(Store& store, const std::string& given, const std::string& reason,
                                                   const std::string& by, TimePoint now) {
  const std::string subject = suppressionSubject(given);
  if (subject.empty()) return "\"" + given + "\" is neither an email address nor @domain";
  const std::string evidence = "suppressed by " + by + (reason.empty() ? std::string() : ": " + reason);
  // A suppression and a release do not stand together (as with Slack's "Keep held and suppress").
  if (subject.front() != '@') removeOverride(store, subject, by, now);
  store.suppress(subject, by, evidence, now);
  if (auto s = store.standing(subject)) return *s;
  return "the suppression of " + subject + " was not recorded";
}

bool clearSuppression(Store& store, const std::string& given, const std::string& by) {
  std::string subject = suppressionSubject(given);
  if (subject.empty()) subject = asciiLower(given);  // whatever was recorded before, as the CLI always did
  return store.clearStanding(subject, by);
}

std::vector<SenderRow> listSenders(Store& store, TimePoint now) {
  std::map<std::string, std::optional<SenderState>> mailboxes;
  for (const auto& m : store.sendersActiveSince(now - std::chrono::hours(24))) mailboxes[m];
  for (const auto& s : store.senders()) mailboxes[s.mailbox] = s;
  std::vector<SenderRow> out;
  for (const auto& [mailbox, s] : mailboxes) {
    SenderRow r;
    r.mailbox = mailbox;
    const bool paused = s && s->state == "paused" && s->until && *s->until > now;
    r.state = paused ? "paused" : !s ? "sending" : (s->state == "paused" ? "pause over" : s->state);
    const auto counts = senderCounts(store, mailbox, now);
    r.sends = counts.sends;
    r.bounces = counts.bounces;
    r.bounce_rate = counts.sends ? static_cast<double>(counts.bounces) / counts.sends : 0.0;
    r.counted_since = counts.from;
    r.stored = s;
    out.push_back(std::move(r));
  }
  return out;
}

Json senderJson(const SenderRow& r) {
  const auto& s = r.stored;
  return Json{{"mailbox", r.mailbox},
              {"state", r.state},
              {"sends", r.sends},
              {"bounces", r.bounces},
              {"bounce_rate", std::round(r.bounce_rate * 10000) / 10000},
              {"counted_since", formatIso8601(r.counted_since)},
              {"since", s ? Json(formatIso8601(s->since)) : Json(nullptr)},
              {"until", s && s->until ? Json(formatIso8601(*s->until)) : Json(nullptr)},
              {"pauses", s ? s->pauses : 0},
              {"evidence", s ? s->evidence : ""}};
}

bool releaseSender(Store& store, const std::string& mailbox, const std::string& by, TimePoint now) {
  return store.releaseSender(asciiLower(mailbox), by, now);
}

Json failsafeJson(const FailsafeStatus& st) {
  return Json{{"active", st.active},
              {"since", st.active ? Json(formatIso8601(st.since)) : Json(nullptr)},
              {"why", st.active ? Json(st.why) : Json(nullptr)},
              {"dns_distrusted", st.dns_distrusted},
              {"dns_evidence", st.dns_distrusted ? Json(st.dns_evidence) : Json(nullptr)}};
}

}  // namespace safetynet::admin
