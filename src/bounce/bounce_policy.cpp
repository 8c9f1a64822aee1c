#include "bounce/bounce_policy.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "safetynet/bounce/bounce.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::bounce {

namespace {
std::string day(TimePoint t) { return formatIso8601(t).substr(0, 10); }

std::string what(const BounceEvent& e) {
  std::string s = e.reason;
  if (!e.status.empty()) s += " " + e.status;
  if (!e.diagnostic.empty()) s += " (\"" + e.diagnostic.substr(0, 160) + "\")";
  return s;
}

bool notABounce(const std::string& reason) { return reason == "delivered" || reason == "vacation" || reason.empty(); }
}  // namespace

// Declared in bounce.hpp: the classifier names such a report, the history skips it.
bool isComplaint(const std::string& feedback_type) {
  static const std::set<std::string> notComplaints{"auth-failure", "not-spam", "virus"};
  return !notComplaints.count(asciiLower(feedback_type));
}

bool countsAgainstRecipient(const std::string& reason) {
  static const std::vector<std::string> ours = {"blocked",      "badreputation", "requireptr",    "authfailure",
                                                "rejected",     "norelaying",    "toomanyconn",   "speeding",
                                                "securityerror", "policyviolation", "spamdetected", "virusdetected",
                                                "contenterror", "notcompliantrfc", "mesgtoobig",   "syntaxerror",
                                                "mailererror",  "suppressed",
                                                // the failure was another recipient's (classifier.cpp)
                                                "otherrecipient"};
  return std::find(ours.begin(), ours.end(), reason) == ours.end();
}

bool aboutTheDomain(const std::string& reason) { return reason == "hostunknown" || reason == "notaccept"; }

std::string subjectOf(const BounceEvent& e, bool domain_confirmed) {
  if (aboutTheDomain(e.reason) && domain_confirmed) {
    const auto at = e.address.rfind('@');
    if (at != std::string::npos) return e.address.substr(at);
  }
  return e.address;
}

TimePoint softCountingStart(const std::optional<Standing>& current, const BouncesConfig& config, TimePoint now) {
  TimePoint start = now - config.soft_window;
  // After a hold, counting starts again from the hold.
  // (strictly after the bounce that began the hold).
  if (current && current->holds > 0) start = std::max(start, current->since + std::chrono::milliseconds(1));
  return start;
}

std::optional<Standing> applyBounce(const std::optional<Standing>& current, const BounceEvent& e, const std::string& subject,
                                    int soft_in_window,
                                    const BouncesConfig& config, TimePoint now) {
  if (notABounce(e.reason)) return std::nullopt;
  Standing s = current.value_or(Standing{});
  s.subject = subject;
  s.reason = e.reason;
  // Permanent states stay as they are until an admin clears them.
  const bool permanent = current && (current->state == "hard" || current->state == "complained" ||
                                     current->state == "soft_permanent" || current->state == "suppressed");
  if (e.reason == "feedback") {
    s.state = "complained";
    s.since = e.at;
    s.until.reset();
    s.evidence = "complained about an email (" + (e.diagnostic.empty() ? std::string("abuse report") : e.diagnostic) +
                 ") on " + day(e.at);
    return s;
  }
  if (e.hard) {
    if (current && current->state == "complained") return std::nullopt;  // do_not_mail stays
    // A mailbox the domain's own server refused stays refused: a later bounce that says the domain
    // takes no mail (a DNS answer on the sending side, which our DNS may contradict) is weaker.
    if (current && current->state == "hard" && !aboutTheDomain(current->reason) && aboutTheDomain(e.reason))
      return std::nullopt;
    // Nor is any hard standing replaced by a hard bounce that gives no reason (a platform's flag).
    if (current && current->state == "hard" && e.reason == "undefined") return std::nullopt;
    s.state = "hard";
    s.since = e.at;
    s.until.reset();
    s.evidence = "hard bounce on " + day(e.at) + ": " + what(e) +
                 (s.subject[0] == '@' ? " (the whole domain: " + std::to_string(config.domain_after) + " or more addresses)" : "");
    return s;
  }
  if (permanent || !countsAgainstRecipient(e.reason)) return std::nullopt;
  // A soft bounce: counted; enough of them within the window hold the address.
  s.soft_count = soft_in_window;
  if (soft_in_window < config.soft_hold_after) {
    // During a hold, soft bounces count towards the next one; the hold and its words stay.
    if (current && current->state == "soft_hold" && current->until && *current->until > e.at) return s;
    s.state = "watch";
    s.until.reset();
    if (!current || current->state != "watch") s.since = e.at;
    s.evidence = std::to_string(soft_in_window) + " soft bounce(s) since " + day(softCountingStart(current, config, now)) +
                 "; last: " + what(e);
    return s;
  }
  s.holds += 1;
  s.soft_count = 0;
  s.since = e.at;
  if (s.holds >= config.permanent_after) {
    s.state = "soft_permanent";
    s.until.reset();
    s.evidence = "held for the " + std::to_string(s.holds) + "th time after repeated soft bounces (last: " + what(e) +
                 "): held until an admin clears it";
    return s;
  }
  auto hold = config.soft_hold_for;
  for (int i = 1; i < s.holds && hold < config.soft_hold_max; ++i) hold *= 2;
  hold = std::min(hold, config.soft_hold_max);
  s.state = "soft_hold";
  s.until = e.at + hold;
  s.evidence = std::to_string(soft_in_window) + " soft bounces within " +
               std::to_string(std::chrono::duration_cast<std::chrono::hours>(config.soft_window).count() / 24) +
               " days (last: " + what(e) + "); held until " + formatIso8601(*s.until) + " (hold " +
               std::to_string(s.holds) + ")";
  return s;
}

std::optional<Standing> incidentStanding(const std::optional<Standing>& current, const BounceEvent& e, int addresses,
                                         const std::string& where, const BouncesConfig& config) {
  if (current && current->state != "watch" && !hardWithinIncident(current, config, e.at)) return std::nullopt;
  Standing s = current.value_or(Standing{});
  s.subject = e.address;
  s.state = "watch";
  s.reason = e.reason;
  s.since = e.at;
  s.until.reset();
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(config.incident_window).count();
  s.evidence = "hard bounce on " + day(e.at) + ": " + what(e) + ", while " + std::to_string(addresses) +
               " different addresses " + where + " bounced as unknown within " + std::to_string(minutes) +
               " min (bounces.incident_after: " + std::to_string(config.incident_after) +
               "): more like an incident of the mail system that answered (a provider or a relay) than dead mailboxes; "
               "not suppressed, a hard bounce after it is";
  return s;
}

bool hardWithinIncident(const std::optional<Standing>& current, const BouncesConfig& config, TimePoint at) {
  return current && current->state == "hard" && current->reason == "userunknown" && current->subject[0] != '@' &&
         current->since >= at - config.incident_window && current->since <= at;
}

}  // namespace safetynet::bounce
