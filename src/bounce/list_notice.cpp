// A mailing list manager's refusal of our post. The list's software writes it, not an MTA: no
// report, no mail system's mailbox, and the words are its own templates. Taken from the list
// managers' sources (docs/bounce-sources.md, "Twenty-seventh lookup"):
//
// - fml 4 (fmlorg/fml4 kern/fml.pl RejectHandler): with a deny file, drafts/deny.wix, "You are not
//   a member of this mailing list <list>." (its Japanese text: "あなたはこのメーリングリスト <list>
//   のメンバーではありません。"); without one, messages/English/info info.reject, "You are not a
//   member of this mailing list." fml 8 (fmlorg/fml8 share/message/*/user/deny) "You are not a
//   member of this $ml_name mailing list.", Japanese "...メーリングリストのメンバーではありません。".
//   Both mark every message they send with X-MLServer (fml4's headers, fml8 FML/Header.pm).
// - GNU Mailman 2 (Mailman/Bouncer.py BounceMessage) and 3 (app/bounces.py bounce_message) send
//   the refusal from the list's owner address, <list>-owner@<host> (MailList.GetOwnerEmail,
//   IMailingList.owner_address): Mailman 2's Moderate.py do_reject "Your message has been
//   rejected, probably because you are not subscribed to the mailing list ..."; Mailman 3's
//   list:user:notice:rejected.txt "Your message to the $listname mailing-list was rejected for
//   the following reasons:"; both versions' refuse.txt "... has been rejected by the list
//   moderator.", which Mailman 3 sends from <list>-bounces@<host> (app/moderator.py). ($listname
//   is the list's display name there, not its address.)
//
// The list address is the failed recipient; the reason is the rules' (data/bounce/rules.yaml,
// the fml and mailman ids); never hard: the list refused our sender, its address is alive.
#include "bounce/list_notice.hpp"

#include "bounce/bounce_text.hpp"
#include "bounce/record.hpp"
#include "bounce/regex.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

// The notice's own text: its text parts, not the attached post.
std::string noticeText(const MimeView& v) {
  std::string text;
  for (const auto& l : v.leaves)
    if (l.depth == 0 && l.type.rfind("text/", 0) == 0) text += l.text + "\n";
  return text;
}

// RFC 2369 List-Post: "<mailto:list@host>" (fml 8 writes it); "NO" or a web address names none.
std::string listPostAddress(const MimeView& v) {
  static const Regex mailto(R"(<mailto:([^<>?\s@]+@[^<>?\s@]+))");
  std::smatch m;
  const std::string value = v.header("list-post").substr(0, 512);
  return std::regex_search(value, m, mailto) ? asciiLower(m[1].str()) : std::string();
}

// fml's not-a-member words, and the list address its deny file writes beside them.
bool fmlRefusal(const MimeView& v, const std::string& text, std::string& list) {
  if (asciiLower(trim(v.header("x-mlserver"))).rfind("fml", 0) != 0) return false;
  static const Regex english(
      R"(you are not a member of this (?:[^\s<>]+ )?mailing list(?:\s*<([^<>\s@]+@[^<>\s@]+)>)?|rejected the post from not a member)");
  static const Regex japanese(
      "\xE3\x83\xA1\xE3\x83\xBC\xE3\x83\xAA\xE3\x83\xB3\xE3\x82\xB0\xE3\x83\xAA\xE3\x82\xB9\xE3\x83\x88"  // メーリングリスト
      R"(\s*(?:<([^<>\s@]+@[^<>\s@]+)>\s*)?)"
      "\xE3\x81\xAE\xE3\x83\xA1\xE3\x83\xB3\xE3\x83\x90\xE3\x83\xBC\xE3\x81\xA7\xE3\x81\xAF");  // のメンバーでは
  const std::string flat = asciiLower(collapse(text).substr(0, 4000));  // the patterns are lower case
  std::smatch m;
  if (!std::regex_search(flat, m, english) && !std::regex_search(flat, m, japanese)) return false;
  list = m[1].matched ? asciiLower(m[1].str()) : listPostAddress(v);
  return true;
}

// The list address behind one of its role addresses: "<list>-owner@host", "<list>-bounces@host".
std::string listOfRoleAddress(const std::string& address) {
  const auto at = address.rfind('@');
  if (at == std::string::npos) return "";
  for (const std::string suffix : {"-owner", "-bounces"})
    if (at > suffix.size() && address.compare(at - suffix.size(), suffix.size(), suffix) == 0)
      return address.substr(0, at - suffix.size()) + address.substr(at);
  return "";
}

// Mailman's refusal words, from the list's owner address (a refused post) or its bounces address
// (Mailman 3's moderator refusal, app/moderator.py: UserNotification(recip, mlist.bounces_address, ...)).
bool mailmanRefusal(const MimeView& v, const std::string& text, std::string& list) {
  const auto from = mailboxesIn(v.header("from"));
  if (from.empty()) return false;
  const std::string role = listOfRoleAddress(asciiLower(from.front()));
  if (role.empty()) return false;
  const std::string flat = asciiLower(collapse(text).substr(0, 4000));
  static const char* const words[] = {
      "your message has been rejected, probably because you are not subscribed to the mailing list",
      "mailing-list was rejected for the following reasons:",
      "has been rejected by the list moderator.",
  };
  bool refusal = false;
  for (const char* w : words)
    if (contains(flat, w)) refusal = true;
  if (!refusal) return false;
  list = role;
  return true;
}

}  // namespace

bool readListRefusal(const MimeView& v, Classification& out) {
  const std::string text = noticeText(v);
  if (text.empty()) return false;
  std::string list;
  const char* manager = nullptr;
  if (fmlRefusal(v, text, list))
    manager = "fml";
  else if (mailmanRefusal(v, text, list))
    manager = "Mailman";
  if (!manager || list.empty()) return false;
  BounceRecord r;
  r.recipient = list;
  r.action = "failed";
  // The refusal's own words, not the post that Mailman 2 quotes below them.
  r.diagnostic = humanBeforeOriginal(text);
  r = completeRecord(r, ReportContext{});
  r.hard = false;
  r.why += std::string(r.why.empty() ? "" : "; ") + "a mailing list's refusal of our post (" + manager +
           "): the list refused our sender, its address is alive";
  out.records.push_back(r);
  out.format = "list";
  return true;
}

}  // namespace safetynet::bounce
