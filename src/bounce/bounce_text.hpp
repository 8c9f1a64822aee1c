#pragma once
// Helpers on a bounce's human text, shared by its readers.
#include <string>
#include <vector>

namespace safetynet::bounce {

std::string trim(std::string s);
// "rfc822; <a@b>" or "a@b" or "Name <a@b>" -> "a@b", lower-cased; "" if none.
std::string addressIn(const std::string& value);
// A DSN recipient field (RFC 3464 section 2.3.2, "address-type ; generic-address"): with the
// rfc822 type, the address as the reporting MTA was given it, even one no mail system accepts
// ("pat@#acme.test"); other values as addressIn. Lower-cased; "" if none.
std::string reportedAddress(const std::string& field_value);
// RFC 3461 4's xtext decoded ("lars+2Borders" -> "lars+orders"); other text as written.
std::string decodedXtext(const std::string& a);
// Every address in a text, lower-cased, in order (repeats kept).
std::vector<std::string> allAddresses(const std::string& text);
// The addresses of an address header's mailboxes (RFC 5322 3.4: "Name <a@b>, c@d (comment)"),
// lower-cased, in order: a display name or a comment is words, even one that reads like an
// address ("lead@customer.example via Sender" <rep@sender.example> is rep's mailbox).
std::vector<std::string> mailboxesIn(const std::string& value);
// A whole-address mention of one of some addresses in a lowered text: not the tail of a longer
// address ("admin@acme.test" in "sysadmin@acme.test") nor the head of one ("a@acme.test.example");
// a quote before and after is a boundary (`a@b').
struct Mention {
  size_t at;
  std::string address;
  bool opensLine;  // the first thing on its line, after spaces and <>"'`
};
// Every such mention of `addresses` (lower-cased) in `lowerText`, in text order: one search per
// distinct address.
std::vector<Mention> mentionsOf(const std::string& lowerText, const std::vector<std::string>& addresses);
// One line, single spaces: MTAs wrap their phrases across lines.
std::string collapse(const std::string& text);
// Where the returned original message starts in a bounce's text, or npos.
size_t originalStart(const std::string& text);
// A line without its quote marks ("> ", "> > "; RFC 3676 4.5) and the one space after them.
std::string unquoted(const std::string& line);
// The text without the returned message's free-text header lines it quotes ("Subject:",
// "Thread-Topic:", with their folded continuations): the rep's words, never the failure's.
std::string withoutQuotedSubjects(const std::string& text);
// A bounce's own text, without the returned message, on one line (at most 600 characters). A
// block below a rule line is a gateway's banner unless it names a status or `about`, the failed
// recipient.
std::string humanBeforeOriginal(const std::string& text, const std::string& about = "");

// Exim's entry for an address a redirect (an alias, a forward, a list) produced: the address on
// its own line, then "(generated from <ancestor>)", or "(ultimately generated from <ancestor>)"
// over several redirects (deliver.c, print_address_information). Its DSN names the ancestor, the
// address the sender used, as Final-Recipient (print_dsn_addr_action). In text order; address ""
// where Exim hides the member ("an undisclosed address", af_hide_child).
struct GeneratedEntry {
  std::string address;   // lower-cased
  std::string ancestor;  // lower-cased
  std::string words;     // the entry's reason below it, lower-cased, on one line
};
std::vector<GeneratedEntry> eximGeneratedEntries(const std::string& text);

}  // namespace safetynet::bounce
