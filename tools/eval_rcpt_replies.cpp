// Measures the SMTP probe's reading of replies (checks/smtp_reply.cpp) on a labelled set of real
// reply texts: one JSON object per line, {"id", "reply" (the raw reply, CRLF lines), "expected"
// (accepted, mailbox_not_found, mailbox_disabled, mailbox_full, mailbox_full_temporary, rejected,
// temporary, refused_us), "stage" (CONNECT, EHLO, MAIL, RCPT), "source", and optionally "host" (the
// answering MX, which scopes a mail system's own rules as the probe's does)}.
//
// Two figures: the outcome exact, and the decision it leads to under the shipped policy
// (docs/reason-codes.md): a hold (mailbox not found, disabled, full, another permanent refusal of
// the recipient), a hold until re-checked (temporary: GREYLISTED is `unknown`, which the default
// `policy.revert` holds), our own side (refused_us: an internal signal, the email goes), or a pass
// (accepted, a full-for-now hint). A hold of either kind where the label says refused_us is the
// costly error, the lead's email held for the probe's own trouble: counted on its own.
//
// Usage: eval-rcpt-replies FILE.jsonl [--verbose]
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "bounce/record.hpp"
#include "checks/smtp_reply.hpp"

namespace {

std::string outcomeName(safetynet::checks::RcptOutcome o) {
  using safetynet::checks::RcptOutcome;
  switch (o) {
    case RcptOutcome::Accepted: return "accepted";
    case RcptOutcome::MailboxNotFound: return "mailbox_not_found";
    case RcptOutcome::MailboxFull: return "mailbox_full";
    case RcptOutcome::MailboxFullTemporary: return "mailbox_full_temporary";
    case RcptOutcome::MailboxDisabled: return "mailbox_disabled";
    case RcptOutcome::Rejected: return "rejected";
    case RcptOutcome::Temporary: return "temporary";
    case RcptOutcome::RefusedUs: return "refused_us";
    case RcptOutcome::NoAnswer: return "no_answer";
  }
  return "?";
}

std::string decision(const std::string& outcome) {
  if (outcome == "mailbox_not_found" || outcome == "mailbox_disabled" || outcome == "mailbox_full" ||
      outcome == "rejected")
    return "hold";
  if (outcome == "temporary") return "recheck";
  if (outcome == "refused_us") return "ours";
  return "pass";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: eval-rcpt-replies FILE.jsonl [--verbose]\n";
    return 2;
  }
  const bool verbose = argc > 2 && std::string(argv[2]) == "--verbose";
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 2;
  }
  int total = 0, exact = 0, sameDecision = 0, wrongHolds = 0, missedHolds = 0, heldForUs = 0, unparsed = 0;
  std::map<std::string, std::pair<int, int>> perExpected;  // exact, total
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      std::cerr << "bad JSON line: " << line.substr(0, 80) << "\n";
      return 2;
    }
    const std::string id = j.value("id", "?"), want = j.value("expected", "");
    const auto reply = safetynet::parseSmtpReply(j.value("reply", ""));
    ++total;
    // A refusal before RCPT (greeting, EHLO, MAIL) ends the probe unread: the check reports a
    // permanent one as SMTP_PROBE_REFUSED and a temporary one as SMTP_UNREACHABLE, both internal
    // (the email goes): counted as refused_us.
    const std::string stage = j.value("stage", "RCPT");
    std::string got = "unparsed";
    if (reply && stage != "RCPT") got = reply->code >= 400 ? "refused_us" : "accepted";
    else if (reply) got = outcomeName(safetynet::checks::classifyRcpt(*reply, "probe@example.com", j.value("host", "")));
    if (!reply) ++unparsed;
    auto& pe = perExpected[want];
    ++pe.second;
    if (got == want) {
      ++exact;
      ++pe.first;
    }
    const bool decisionSame = decision(got) == decision(want);
    if (decisionSame) ++sameDecision;
    if (decision(got) == "hold" && decision(want) != "hold") ++wrongHolds;
    if (decision(want) == "hold" && decision(got) != "hold") ++missedHolds;
    if (decision(want) == "ours" && (decision(got) == "hold" || decision(got) == "recheck")) ++heldForUs;
    if (verbose && got != want) {
      // What the bounce rules read in the same words, at the same stage: for the developer.
      safetynet::bounce::BounceRecord r;
      r.recipient = "probe@example.com";
      r.diagnostic = reply ? reply->line() : "";
      r.smtp_command = stage;
      safetynet::bounce::ReportContext ctx;
      ctx.remote_mta = j.value("host", "");
      r = safetynet::bounce::completeRecord(r, ctx);
      std::cout << (decisionSame ? "  " : "! ") << id << ": want " << want << ", got " << got << " [rules: "
                << r.reason << (r.hard ? " hard" : "") << " " << r.rule << "]  | "
                << (reply ? reply->line().substr(0, 140) : j.value("reply", "")) << "\n";
    }
  }
  auto pct = [&](int n, int d) { return d ? 100.0 * n / d : 0.0; };
  std::printf("%d replies: outcome %d (%.1f%%), decision %d (%.1f%%), held wrongly %d, hold missed %d, "
              "held or re-checked for a refusal of the probe %d, unparsed %d\n",
              total, exact, pct(exact, total), sameDecision, pct(sameDecision, total), wrongHolds, missedHolds, heldForUs,
              unparsed);
  for (const auto& [want, n] : perExpected) std::printf("  %-24s %d/%d\n", want.c_str(), n.first, n.second);
  return 0;
}
