// A mailing list manager's refusal of our post. The list's software writes it, not an MTA: no
// report, no mail system's mailbox, and the words are its own templates. Taken from the list
// managers' sources (docs/bounce-sources.md, "Twenty-seventh lookup"):
//
// - fml 4 (fmlorg/fml4) marks what it sends with X-MLServer. Its RejectHandler (kern/fml.pl)
//   sends the deny file, drafts/deny.wix: "You are not a member of this mailing list <list>." (in
//   Japanese "あなたはこのメーリングリスト <list> のメンバーではありません。"), or without one a status
//   report, messages/English/info info.reject ("You are not a member of this mailing list."); its
//   size limit (proc/liberror.pl "Your mail is too big, so not processed!!! This ML <list>...") and
//   envelope filter (kern/libenvf.pl, messages/English/filter "Your mail is rejected for ...")
//   answer with status reports too, which end "--<list>, Be Seeing You!" (kern/libkernsubr.pl:162).
//   fml 8 (fmlorg/fml8 share/message/*/user/deny) "You are not a member of this $ml_name mailing
//   list." names the list by name; its address only from RFC 2369 List-Post.
// - GNU Mailman 2 (Mailman/Bouncer.py BounceMessage) and 3 (app/bounces.py bounce_message) return
//   a refused post from the list's owner address, <list>-owner@<host> (MailList.GetOwnerEmail,
//   IMailingList.owner_address), to its sender, the post attached as message/rfc822, whatever the
//   reason (Moderate.py do_reject, SpamDetect.py, MimeDel.py; Mailman 3's rejected.txt "Your message
//   to the $listname mailing-list was rejected for the following reasons:"). A moderator's refusal,
//   refuse.txt "... has been rejected by the list moderator.", comes from the owner address
//   (Mailman 2, ListAdmin.py) or the bounces address (Mailman 3, app/moderator.py), the post inline
//   or not at all. A held post's notice (postheld.txt, list:user:notice:hold) attaches nothing.
// - Sympa's moderator refusal, default/mail_tt2/reject.tt2 "Your message for list %1@%2 has been
//   rejected by the moderator", from the list's <list>-request@ address, or the list's own when
//   Sympa signs its mail (its other refusals are delivery status notifications, read by the
//   report reader).
// - ezmlm-idx's moderator refusal and time-out (bin/ezmlm-moderate.c, lang/en_US/text/mod-reject
//   "your message (enclosed) was not accepted by the moderator", text/mod-timeout "...have failed
//   to act on your post"), from <list>-owner@ with "Mailing-List: ... run by ezmlm". Its refusals
//   at delivery (ezmlm-checksub, ezmlm-reject) are qmail bounces, read by the text reader.
//
// The list address is the failed recipient; the reason is the rules' (data/bounce/rules.yaml: the
// fml, mailman, ezmlm and list-moderator ids), `rejected` when they name none: the list refused
// our post. Never hard: its address is alive.
#include "bounce/list_notice.hpp"

#include <optional>

#include "bounce/bounce_text.hpp"
#include "bounce/record.hpp"
#include "bounce/regex.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

struct Refusal {
  std::string list;  // the list's address, lower case
  const char* manager;
};

// The notice's own text: its text parts, not the attached post. Made only for a notice whose
// headers name a list manager's (or, for Sympa, whose text holds its refusal's words): every
// text bounce passes here before the text reader.
class NoticeText {
 public:
  explicit NoticeText(const MimeView& v) : v_(v) {}
  const std::string& get() {
    if (!made_)
      for (const auto& l : v_.leaves)
        if (l.depth == 0 && l.type.rfind("text/", 0) == 0) text_ += l.text + "\n";
    made_ = true;
    return text_;
  }
  bool contains(const std::string& words) const {
    for (const auto& l : v_.leaves)
      if (l.depth == 0 && l.type.rfind("text/", 0) == 0 && l.text.find(words) != std::string::npos) return true;
    return false;
  }

 private:
  const MimeView& v_;
  bool made_ = false;
  std::string text_;
};

std::string firstMailbox(const std::string& value) {
  const auto all = mailboxesIn(value);
  return all.empty() ? std::string() : asciiLower(all.front());
}

// The list address behind one of its role addresses ("<list>-owner@host"), "" when `address` is
// not one with that suffix.
std::string listOfRole(const std::string& address, const std::string& suffix) {
  const auto at = address.rfind('@');
  if (at == std::string::npos || at <= suffix.size() || address.compare(at - suffix.size(), suffix.size(), suffix) != 0)
    return "";
  return address.substr(0, at - suffix.size()) + address.substr(at);
}

// RFC 2369 List-Post: "<mailto:list@host>"; "NO" or a web address names none.
std::string listPostAddress(const MimeView& v) {
  static const Regex mailto(R"(<mailto:([^<>?\s@]+@[^<>?\s@]+))");
  std::smatch m;
  const std::string value = v.header("list-post").substr(0, 512);
  return std::regex_search(value, m, mailto) ? asciiLower(m[1].str()) : std::string();
}

// The attached post is the notice's addressee's own, sent to the list: the list returned it.
bool returnsAPostToTheList(const MimeView& v, const std::string& list) {
  const std::string addressee = firstMailbox(v.header("to"));
  for (const auto& original : v.originals) {
    auto field = [&](const char* name) {
      const auto it = original.find(name);
      return it == original.end() ? std::string() : it->second;
    };
    if (addressee.empty() || firstMailbox(field("from")) != addressee) continue;
    for (const auto& a : mailboxesIn(field("to") + ", " + field("cc")))
      if (asciiLower(a) == list) return true;
  }
  return false;
}

std::optional<Refusal> fmlRefusal(const MimeView& v, NoticeText& notice) {
  if (asciiLower(trim(v.header("x-mlserver"))).rfind("fml", 0) != 0) return std::nullopt;
  const std::string& text = notice.get();
  const std::string flat = asciiLower(collapse(text).substr(0, 4000));  // the patterns are lower case
  static const Regex refusal(
      R"(you are not a member of this (?:[^\s<>]+ )?mailing list|rejected the post from not a member|your mail is too big, so not processed|your mail is rejected for )");
  static const Regex japanese(
      "\xE3\x83\xA1\xE3\x83\xBC\xE3\x83\xAA\xE3\x83\xB3\xE3\x82\xB0\xE3\x83\xAA\xE3\x82\xB9\xE3\x83\x88"  // メーリングリスト
      R"(\s*(?:<[^<>\s@]+@[^<>\s@]+>\s*)?)"
      "\xE3\x81\xAE\xE3\x83\xA1\xE3\x83\xB3\xE3\x83\x90\xE3\x83\xBC\xE3\x81\xA7\xE3\x81\xAF");  // のメンバーでは
  if (!std::regex_search(flat, refusal) && !std::regex_search(flat, japanese)) return std::nullopt;
  // The list as fml writes it: in angle brackets after "mailing list" / "This ML" (deny.wix,
  // liberror.pl), or in the status report's closing line.
  static const Regex named(
      "(?:mailing list|this ml|\xE3\x83\xAA\xE3\x82\xB9\xE3\x83\x88)"  // ...リスト
      R"(\s*<([^<>\s@]+@[^<>\s@]+)>|--([^\s<>@]+@[^\s<>@,]+), be seeing you!)");
  std::smatch m;
  std::string list;
  if (std::regex_search(flat, m, named)) list = m[1].matched ? m[1].str() : m[2].str();
  if (list.empty()) list = listPostAddress(v);
  if (list.empty()) return std::nullopt;
  return Refusal{list, "fml"};
}

std::optional<Refusal> mailmanRefusal(const MimeView& v, NoticeText& notice) {
  const std::string from = firstMailbox(v.header("from"));
  const std::string byOwner = listOfRole(from, "-owner");
  const std::string byBounces = listOfRole(from, "-bounces");
  const std::string list = byOwner.empty() ? byBounces : byOwner;
  if (list.empty()) return std::nullopt;
  // Any post returned by the owner address, whatever the words (an admin's own rejection text).
  if (!byOwner.empty() && returnsAPostToTheList(v, list)) return Refusal{list, "Mailman"};
  const std::string flat = asciiLower(collapse(notice.get()).substr(0, 4000));
  static const char* const words[] = {
      "your message has been rejected, probably because you are not subscribed to the mailing list",
      "mailing-list was rejected for the following reasons:",
      "has been rejected by the list moderator.",
  };
  for (const char* w : words)
    if (contains(flat, w)) return Refusal{list, "Mailman"};
  return std::nullopt;
}

// From the list's owner address, <list>-request@, or the list's own when Sympa signs its mail
// (src/lib/Sympa/Message/Template.pm: fromlist).
std::optional<Refusal> sympaRefusal(const MimeView& v, NoticeText& notice) {
  if (!notice.contains("rejected by the moderator")) return std::nullopt;  // reject.tt2's words, as written
  static const Regex words(R"(your message for list ([^\s<>@]+@[^\s<>@]+) has been rejected by the moderator)");
  std::smatch m;
  const std::string flat = asciiLower(collapse(notice.get()).substr(0, 4000));
  if (!std::regex_search(flat, m, words)) return std::nullopt;
  const std::string list = m[1].str();
  const std::string from = firstMailbox(v.header("from"));
  if (from != list && listOfRole(from, "-request") != list) return std::nullopt;
  return Refusal{list, "Sympa"};
}

std::optional<Refusal> ezmlmRefusal(const MimeView& v, NoticeText& notice) {
  if (!contains(asciiLower(v.header("mailing-list")), "run by ezmlm")) return std::nullopt;
  const std::string list = listOfRole(firstMailbox(v.header("from")), "-owner");
  if (list.empty()) return std::nullopt;
  const std::string flat = asciiLower(collapse(notice.get()).substr(0, 4000));
  if (!contains(flat, "was not accepted by the moderator") && !contains(flat, "have failed to act on your post"))
    return std::nullopt;
  return Refusal{list, "ezmlm"};
}

}  // namespace

bool readListRefusal(const MimeView& v, Classification& out) {
  NoticeText notice(v);
  std::optional<Refusal> refusal = fmlRefusal(v, notice);
  if (!refusal) refusal = mailmanRefusal(v, notice);
  if (!refusal) refusal = sympaRefusal(v, notice);
  if (!refusal) refusal = ezmlmRefusal(v, notice);
  if (!refusal) return false;
  const std::string& text = notice.get();
  BounceRecord r;
  r.recipient = refusal->list;
  r.action = "failed";
  // The refusal's own words, not the post that Mailman 2 quotes below them.
  r.diagnostic = humanBeforeOriginal(text);
  r = completeRecord(r, ReportContext{});
  r.hard = false;
  // Words that name no reason of their own ("Your message was rejected"): the list refused it.
  if (r.reason.empty() || r.reason == "onhold") r.reason = "rejected";
  r.why += std::string(r.why.empty() ? "" : "; ") + "a mailing list's refusal of our post (" + refusal->manager +
           "): the list refused our sender, its address is alive";
  out.records.push_back(r);
  out.format = "list";
  return true;
}

}  // namespace safetynet::bounce
