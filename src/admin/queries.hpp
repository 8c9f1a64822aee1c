#pragma once
// The admin's queries and actions, one implementation each, shared by the command line
// (`safetynet decisions | suppressions | senders | failsafe`) and the admin HTTP API
// (src/admin/api.cpp): what is read, how it is validated and how it is written (with its audit
// line) lives here; the callers only print or serialize. Overrides are in admin/overrides.hpp.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/failsafe.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::admin {

using Json = nlohmann::ordered_json;

// ---- decisions -------------------------------------------------------------------------------

constexpr int kDecisionsDefaultLimit = 100;
constexpr int kDecisionsMaxLimit = 1000;
constexpr std::chrono::milliseconds kDecisionsMaxSince = std::chrono::hours(24 * 3650);

// The filters of GET /api/v1/decisions and `safetynet decisions`, as given (strings): parsed and
// validated by decisionsPage.
struct DecisionFilter {
  std::string since = "24h";  // a duration back from now
  std::string verdict;        // allow | revert | ""
  std::string reason, connector, rep;
  std::string address;        // part of a recipient's address, any case (the dashboard's search)
  std::string limit;          // "" : kDecisionsDefaultLimit
  std::string cursor;         // "" : the newest first
};

struct DecisionPage {
  std::vector<EmailDecision> decisions;  // newest first
  std::string next_cursor;               // "" : no more
};

// A page of decisions, or what is wrong with the filter (a message for a 400 or exit code 2).
// The cursor is opaque: the position of the last row returned and the time window of the first
// page, so that the pages that follow neither repeat nor skip a row while new decisions arrive.
std::variant<DecisionPage, std::string> decisionsPage(Store& store, const DecisionFilter& filter, TimePoint now);

// One decision as a list row (the CLI's `decisions --json` line; the API's list item).
Json decisionJson(const EmailDecision& d);
// One decision in full: its row, every recipient's signals (name, weight, evidence), the actions
// (its audit lines) and the notifications (its outbox rows). nullopt: no such decision.
std::optional<Json> decisionDetail(Store& store, const std::string& key);

// ---- holds per reason per day (the dashboard's chart) ----------------------------------------

constexpr int kHoldStatsMaxDays = 366;

struct HoldStats {
  std::vector<std::string> days;                        // UTC dates, oldest first, today last
  std::map<std::string, std::vector<int>> per_reason;   // reason -> one count per day
};
// The last `days` UTC days (today included), every day present (zeros too); or what is wrong with
// `days` (a message for a 400).
std::variant<HoldStats, std::string> holdsPerDay(Store& store, const std::string& days, TimePoint now);
Json holdStatsJson(const HoldStats& s);

// ---- suppressions (the bounce history's standings and the admins' own) -----------------------

// The suppressions and holds in force now.
std::vector<Standing> activeSuppressions(Store& store, TimePoint now);
Json suppressionJson(const Standing& s);
// The subject a suppression is kept under: a canonical address, or "@" + the A-label domain;
// "" when it is neither.
std::string suppressionSubject(const std::string& address_or_domain);
// Suppresses an address or "@domain" (standing "suppressed", SUPPRESSED until cleared), audited
// with who and why. The standing written, or why not.
std::variant<Standing, std::string> addSuppression(Store& store, const std::string& address_or_domain,
                                                   const std::string& reason, const std::string& by, TimePoint now);
// Lifts a suppression or hold. False: there was none.
bool clearSuppression(Store& store, const std::string& address_or_domain, const std::string& by);

// ---- senders (sender protection) -------------------------------------------------------------

struct SenderRow {
  std::string mailbox, state;  // paused | sending | pause over | active
  int sends = 0, bounces = 0;
  double bounce_rate = 0;
  TimePoint counted_since{};
  std::optional<SenderState> stored;
};
// Every mailbox that sent in the last 24 h or has a state (paused, released), with its numbers.
std::vector<SenderRow> listSenders(Store& store, TimePoint now);
Json senderJson(const SenderRow& r);
// Resumes a paused mailbox now. False: it was not paused.
bool releaseSender(Store& store, const std::string& mailbox, const std::string& by, TimePoint now);

// ---- the fail-safe ---------------------------------------------------------------------------

Json failsafeJson(const FailsafeStatus& st);

}  // namespace safetynet::admin
