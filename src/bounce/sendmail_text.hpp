// Sendmail's text notice (savemail.c): its section headings, its failure list's "(expanded from:
// <alias>)" lines, and the session transcript whose lines name each failed recipient.
#pragma once

#include <string>
#include <vector>

namespace safetynet::bounce {

// Sendmail's transcript gives each failed recipient a line of its own, "554 <a@b>... why", inside
// the session ("While talking to mx.b:") whose ">>> command" and "<<< reply" it followed. When the
// line names no reason ("Remote protocol error"), the session's reply is the reason.
struct SendmailVerdict {
  std::string line, command;
};

// `lh` is `human` lower-cased (done once per notice by the caller); `recipient` lower case.
SendmailVerdict sendmailVerdict(const std::string& human, const std::string& lh, const std::string& recipient);

// The recipient's lines of Sendmail's transcript: the session's opening line and the replies and
// verdicts that name it, each with its newline; "" when none does.
std::string sendmailTranscriptLines(const std::string& human, const std::string& lh, const std::string& recipient);

// The alias a failed recipient was expanded from ("    (expanded from: <alias>)" under its entry,
// savemail.c:975-995), or "".
std::string sendmailExpandedFrom(const std::string& lowerText, const std::string& recipient);

// Sendmail keeps only the first line of a multi-line reply as the Diagnostic-Code ("550-Callout
// verification failed:", usersmtp.c reply(): "first line of real reply -- ignore rest"); its
// transcript has every line ("<<< 550-...", "<<< 550 ..."). The whole reply, its lines joined by a
// space, when `diagnostic` is such a first line and the transcript holds it; else `diagnostic`.
std::string sendmailWholeReply(const std::string& human, const std::string& diagnostic);

// The transcript's line for the recipient where Sendmail names the host whose lookup failed,
// "550 5.1.2 <a@b>... Host unknown (Name server: mx.b: host not found)" (err.c), trimmed; or "".
std::string sendmailNameServerLine(const std::string& human, const std::string& recipient);
// The host such a line names ("mx.b"), lower case, or "".
std::string nameServerHost(const std::string& line);

// Sendmail divides its notice under lines such as "   ----- The following addresses had permanent
// fatal errors -----", "... transient non-fatal errors -----", "... successful delivery
// notifications -----" and "   ----- Transcript of session follows -----" (savemail.c:969-1112):
// an entry ends at the next such line, and its section says what became of the address.
struct SectionHeading {
  size_t at;         // where the line starts in the lower-cased text
  std::string line;  // the line, lower-cased
};
std::vector<SectionHeading> sectionHeadings(const std::string& lh);

}  // namespace safetynet::bounce
