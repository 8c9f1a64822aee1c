#pragma once
// One failed recipient's record completed from what it holds (the server's words, a status, a
// reply code, the command): the reason, with vendor codes and what some receivers mean by their
// words, and hard or soft. Shared by the bounce email readers and the connectors' bounce data.
#include <string>

#include "safetynet/bounce/bounce.hpp"

namespace safetynet::bounce {

// What the whole report says about reading each of its records.
struct ReportContext {
  std::string reporting_mta;
  std::string remote_mta;  // the DSN's Remote-MTA: the host whose reply this is
  bool no_stage = false;  // the report cannot say at which SMTP stage (reporter.hpp)
  bool permanent = false;  // its text says its failures are permanent (saysPermanent)
  bool lmtp = false;       // the reply came over LMTP (RFC 2033): one reply per recipient after the message
  // The reason a sending MTA's own category for the record names (PowerMTA's
  // X-PowerMTA-BounceCategory: "likely category of the bounce", guessed from its patterns): used
  // unless a rule on the reply's own words decides, as those words are the receiver's.
  std::string category_reason;
};

// Fills status, reply code and command from the words where missing; the reason unless set.
// `words_reason`, when given, receives the reason the deciding rule's words named before a status
// or the stage changed it ("" when no rule's words are in the text).
BounceRecord completeRecord(BounceRecord r, const ReportContext& ctx = {}, std::string* words_reason = nullptr);

}  // namespace safetynet::bounce
