#pragma once
// From what a bounce says (enhanced status, reply code, the server's text, the SMTP command it
// answered) to a reason in Sisimai's vocabulary.
#include <string>
#include <vector>

#include "bounce/rule_engine.hpp"

namespace safetynet::bounce {

// What the rules make of one recipient's evidence (docs/bounces.md, "Precedence").
struct Decision {
  std::string reason;
  bool hard = false;
  std::string rule;  // id of the wording rule that decided, "" if none
  // What changed the reading after that rule, or why a dead-address reading stays soft, in words.
  std::vector<std::string> steps;
  std::string words;  // the reason that rule's words named, before anything changed it
};
Decision decide(const Evidence& evidence);

// The reason the first rule whose words are in the text names, conditions aside, or "".
std::string reasonFromText(const std::string& diagnostic);
// The reason an RFC 3463 code names on its own, or "" (X.7.1 and X.0.0 name none).
std::string reasonFromStatus(const std::string& status);
// decide() without hosts: the reason only.
std::string decideReason(const std::string& status, const std::string& reply_code, const std::string& diagnostic,
                         const std::string& command, const std::string& action);


// What a refusal of our sender reads as (a reply to MAIL FROM, or one naming our sender's
// address): the reason itself when it already names a sender-side cause or a failure on the way
// (expired, networkerror, systemerror, systemfull, mesgtoobig), else `rejected`.
std::string asSenderRefusal(const std::string& reason);

// First RFC 3463 code ("5.1.1") in a text, or "".
std::string findStatus(const std::string& text);
// Domino R5's status of a failure written without its class, "Enhanced Mail System Status Code
// (RFC1893): .1.2" (IBM technote 1100477, fixed in Domino 6), with the class of a failure report
// (5, RFC 3463 section 2): "5.1.2"; or "".
std::string classlessFailureStatus(const std::string& text);
// First SMTP reply code (a 4xx/5xx number standing alone before text), or "".
std::string findReplyCode(const std::string& text);
// The SMTP command a text says the reply answered ("in reply to RCPT TO command"): RCPT, DATA,
// MAIL, HELO, CONN, or "".
std::string findCommand(const std::string& text);

}  // namespace safetynet::bounce
