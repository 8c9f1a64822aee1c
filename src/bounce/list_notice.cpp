// A mailing list manager's refusal of our post. The list's software writes it, not an MTA: no
// report, no mail system's mailbox, and the words are its own templates. Taken from the list
// managers' sources (docs/bounce-sources.md, "Twenty-seventh lookup"):
//
// - fml 4 (fmlorg/fml4) marks what it sends with X-MLServer. Its RejectHandler (kern/fml.pl)
//   sends the deny file, drafts/deny.wix: "You are not a member of this mailing list <list>." (in
//   Japanese "あなたはこのメーリングリスト <list> のメンバーではありません。"), or without one a status
//   report, messages/English/info info.reject ("You are not a member of this mailing list."); its
//   size limit (proc/liberror.pl "Your mail is too big, so not processed!!! This ML <list>...", or
//   with MESSAGE_LANGUAGE, which makefml sets, messages/English/resource "your mail is too big")
//   and envelope filter (kern/libenvf.pl, messages/English/filter "Your mail is rejected for ...",
//   the refused mail copied below) answer with status reports too, whose closing line is
//   "--<list>, Be Seeing You!" (kern/libkernsubr.pl:162). fml 8 (fmlorg/fml8
//   share/message/*/user/deny) "You are not a member of this $ml_name mailing list." names the
//   list by name; its address only from RFC 2369 List-Post.
// - GNU Mailman 2 (Mailman/Bouncer.py BounceMessage) and 3 (app/bounces.py bounce_message) return
//   a refused post from the list's owner address, <list>-owner@<host> (MailList.GetOwnerEmail,
//   IMailingList.owner_address), to its sender, under its subject, the post attached, for any
//   reason a list refuses one (Moderate.py do_reject, SpamDetect.py, MimeDel.py; Mailman 3's
//   rejected.txt "Your message to the $listname mailing-list was rejected for the following
//   reasons:"). A moderator's refusal, refuse.txt "Your request to the $listname mailing list
//   Posting of your message titled ... has been rejected by the list moderator.", comes from the
//   owner address (Mailman 2, ListAdmin.py) or the bounces address (Mailman 3, app/moderator.py);
//   the same template refuses (un)subscription requests, which were no post of ours. A held
//   post's notice (postheld.txt, list:user:notice:hold) attaches nothing.
// - Sympa's moderator refusal, default/mail_tt2/reject.tt2 "Your message for list %1@%2 has been
//   rejected by the moderator", from the list's <list>-request@ address, or the list's own when
//   Sympa signs its mail (its other refusals are delivery status notifications, read by the
//   report reader).
// - ezmlm-idx's moderator refusal and time-out (bin/ezmlm-moderate.c, bin/ezmlm-clean.c; subject
//   "Returned post for <list>", lang/en_US/text/mod-reject "your message (enclosed) was not
//   accepted by the moderator", text/mod-timeout "...have failed to act on your post"), from
//   <list>-owner@ with "Mailing-List: ... run by ezmlm". Its refusals at delivery (ezmlm-checksub,
//   ezmlm-reject) are qmail bounces, read by the text reader.
// - mlmmj (listtexts/en/access, subonlypost, notintocc, maxmailsize; src/mlmmj-process.c) sends
//   its refusal from <list>+owner@ (the list's delimiter, "+" by default), opening "Hi, this is
//   the mlmmj program managing the mailinglist" and the list's address on a line of its own, the
//   denied post attached; a post held for its moderator (moderation-poster, "the post has been
//   queued for approval") refuses nothing. Its newer texts (mlmmj-listtexts, en/deny-post) open
//   with a prologue naming "the <list@domain> mailing list" and say the post "was unable to be
//   delivered to the list because" of the size limit, the To:/CC: rule, an access rule, a
//   moderator or the subscribers-only rule.
//
// The list address is the failed recipient; the reason is the rules' (data/bounce/rules.yaml: the
// fml, mailman, ezmlm and list-moderator ids) when it is one a list gives, else `rejected`: the
// list refused our post. Never hard: its address is alive.
#include "bounce/list_notice.hpp"

#include <optional>
#include <set>

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

// The notice's text on one line, lower case, its first 4000 bytes (the patterns are lower case),
// without quoted lines ("> ...", RFC 3676 4.5): a person quoting a refusal to a list is no refusal.
std::string flatText(NoticeText& notice) {
  std::string own;
  size_t start = 0;
  const std::string& text = notice.get();
  while (start < text.size() && own.size() < 8000) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const size_t first = text.find_first_not_of(" \t", start);
    if (first >= end || text[first] != '>') own.append(text, start, end - start).push_back('\n');
    start = end + 1;
  }
  return asciiLower(collapse(own).substr(0, 4000));
}

// The refusal opens the notice: a list's article or digest that quotes one further down, or a
// refused post copied into the notice (fml's envelope filter), is not one.
bool opensWith(const std::string& flat, const Regex& words, std::smatch& m) {
  return std::regex_search(flat, m, words) && m.position(0) < 300;
}

// Mailman 2's and 3's BounceMessage: from the owner address, to the post's sender, under the
// post's own subject, the post attached (Bouncer.py:331-353, app/bounces.py:52-90), marked
// Precedence: bulk or list like every UserNotification (Message.py). A command's results (its own
// subject) or a person writing from the owner alias is none.
bool returnsAPostToTheList(const MimeView& v, const std::string& list) {
  const std::string precedence = asciiLower(trim(v.header("precedence")));
  if (precedence != "bulk" && precedence != "list") return false;
  const std::string addressee = firstMailbox(v.header("to"));
  for (const auto& original : v.originals) {
    auto field = [&](const char* name) {
      const auto it = original.find(name);
      return it == original.end() ? std::string() : it->second;
    };
    if (addressee.empty() || firstMailbox(field("from")) != addressee) continue;
    if (collapse(trim(field("subject"))) != collapse(trim(v.header("subject")))) continue;
    for (const auto& a : mailboxesIn(field("to") + ", " + field("cc")))
      if (asciiLower(a) == list) return true;
  }
  return false;
}

std::optional<Refusal> fmlRefusal(const MimeView& v, NoticeText& notice) {
  if (asciiLower(trim(v.header("x-mlserver"))).rfind("fml", 0) != 0) return std::nullopt;
  if (!v.header("x-mail-count").empty()) return std::nullopt;  // an article of the list (drafts/help.wix)
  const std::string flat = flatText(notice);
  // In English with or without MESSAGE_LANGUAGE (makefml sets it: messages/English/resource
  // "your mail is too big"), and fml 4's and 8's Japanese deny text.
  static const Regex refusal(
      "you are not a member of this (?:[^\\s<>]+ )?mailing list|rejected the post from not a member|your mail is too "
      "big|your mail is rejected for |"
      "\xE3\x83\xA1\xE3\x83\xBC\xE3\x83\xAA\xE3\x83\xB3\xE3\x82\xB0\xE3\x83\xAA\xE3\x82\xB9\xE3\x83\x88"  // メーリングリスト
      "\\s*(?:<[^<>\\s@]+@[^<>\\s@]+>\\s*)?"
      "\xE3\x81\xAE\xE3\x83\xA1\xE3\x83\xB3\xE3\x83\x90\xE3\x83\xBC\xE3\x81\xA7\xE3\x81\xAF");  // のメンバーでは
  std::smatch m;
  if (!opensWith(flat, refusal, m)) return std::nullopt;
  // The list as fml writes it: the status report's closing line (kern/libkernsubr.pl:162), its
  // size notice's "This ML <list>" (proc/liberror.pl), or the deny file's "mailing list <list>"
  // in the refusal's own sentence; never from the refused mail that the filter's report copies.
  static const Regex closing(R"(--([^\s<>@]+@[^\s<>@,]+), be seeing you!)");
  static const Regex thisMl(R"(this ml <([^<>\s@]+@[^<>\s@]+)>)");
  std::string list;
  std::smatch n;
  if (std::regex_search(flat, n, closing))
    list = n[1].str();
  else if (std::regex_search(flat, n, thisMl) && n.position(0) < 300)
    list = n[1].str();
  else {
    static const Regex named(
        "(?:mailing list|\xE3\x83\xAA\xE3\x82\xB9\xE3\x83\x88)\\s*<([^<>\\s@]+@[^<>\\s@]+)>");  // ...リスト
    const std::string sentence = flat.substr(static_cast<size_t>(m.position(0)), 200);
    if (std::regex_search(sentence, n, named)) list = n[1].str();
  }
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
  // A post returned by the owner address, whatever the words (an admin's own rejection text).
  if (!byOwner.empty() && returnsAPostToTheList(v, list)) return Refusal{list, "Mailman"};
  const std::string flat = flatText(notice);
  // refuse.txt serves (un)subscription requests too; only "Posting of your message titled"
  // (ListAdmin.py:322, app/moderator.py:117) was a post of ours.
  static const Regex words(
      R"(your message has been rejected, probably because you are not subscribed to the mailing list|mailing-list was rejected for the following reasons:|posting of your message titled .{0,300}? has been rejected by the list moderator\.)");
  std::smatch m;
  if (!opensWith(flat, words, m)) return std::nullopt;
  return Refusal{list, "Mailman"};
}

// From the list's owner address, <list>-request@, or the list's own when Sympa signs its mail
// (src/lib/Sympa/Message/Template.pm: fromlist), under reject.tt2's subject.
std::optional<Refusal> sympaRefusal(const MimeView& v, NoticeText& notice) {
  if (!notice.contains("rejected by the moderator")) return std::nullopt;  // reject.tt2's words, as written
  if (!contains(asciiLower(v.header("subject")), "your message has been rejected")) return std::nullopt;
  static const Regex words(R"(your message for list ([^\s<>@]+@[^\s<>@]+) has been rejected by the moderator)");
  std::smatch m;
  const std::string flat = flatText(notice);
  if (!opensWith(flat, words, m)) return std::nullopt;
  const std::string list = m[1].str();
  const std::string from = firstMailbox(v.header("from"));
  if (from != list && listOfRole(from, "-request") != list) return std::nullopt;
  return Refusal{list, "Sympa"};
}

// ezmlm-idx's notice opens with its text/top (a list's description) before mod-reject, so its
// words are not required to open it; its headers are ezmlm-moderate's own.
std::optional<Refusal> ezmlmRefusal(const MimeView& v, NoticeText& notice) {
  if (!contains(asciiLower(v.header("mailing-list")), "run by ezmlm")) return std::nullopt;
  const std::string list = listOfRole(firstMailbox(v.header("from")), "-owner");
  if (list.empty() || !contains(asciiLower(v.header("subject")), "returned post for")) return std::nullopt;
  const std::string flat = flatText(notice);
  if (!contains(flat, "was not accepted by the moderator") && !contains(flat, "have failed to act on your post"))
    return std::nullopt;
  return Refusal{list, "ezmlm"};
}

// What mlmmj's notice is: a refusal of our post, a post held for its moderator (no failure), or none
// of its own.
enum class MlmmjNotice { none, refusal, held };
MlmmjNotice mlmmjNotice(const MimeView& v, NoticeText& notice, std::string& list) {
  if (!notice.contains("mlmmj program managing the")) return MlmmjNotice::none;  // "Hi, this is" or "This is"
  // The old texts: "...managing the mailinglist" and the address on its own line; the newer ones
  // (mlmmj-listtexts, its prologue): "...managing the <list@domain> mailing list."
  static const Regex words(
      R"(this is the mlmmj program managing the (?:mailinglist ([^\s<>@]+@[^\s<>@]+) |<([^\s<>@]+@[^\s<>@]+)> mailing ?list\b))");
  std::smatch m;
  const std::string flat = flatText(notice);
  if (!opensWith(flat, words, m)) return MlmmjNotice::none;
  list = m[1].matched ? m[1].str() : m[2].str();
  // From the list's owner address: its local part, a delimiter, "owner", at its domain.
  const std::string from = firstMailbox(v.header("from"));
  const size_t at = list.find('@');
  const std::string local = list.substr(0, at), domain = list.substr(at);
  if (from.size() < local.size() + 6 + domain.size() || from.rfind(local, 0) != 0 ||
      from.compare(from.size() - domain.size() - 5, std::string::npos, "owner" + domain) != 0)
    return MlmmjNotice::none;
  if (contains(flat, "queued for approval")) return MlmmjNotice::held;
  // The old texts' "could not be delivered to the list", the newer deny-post's "was unable to be
  // delivered to the list because ..." (and a site's own text in its words: "was not delivered to the list").
  static const Regex refused(
      R"(could not be delivered to the list|(?:was unable to be|was not) delivered to the list|only subscribers may post to the list)");
  return std::regex_search(flat, refused) ? MlmmjNotice::refusal : MlmmjNotice::none;
}

// The reasons a list's refusal can carry: none counts against an address (bounce_policy.cpp).
// Other words in a notice are a person's prose about the list or its members ("a full mailbox",
// "posting suspended"), not a mail system's reading of the list's mailbox.
bool aListsReason(const std::string& reason) {
  static const std::set<std::string> listReasons{"rejected", "mesgtoobig", "contenterror", "policyviolation",
                                                 "authfailure", "blocked", "spamdetected", "virusdetected"};
  return listReasons.count(reason) > 0;
}

}  // namespace

bool readListRefusal(const MimeView& v, Classification& out) {
  NoticeText notice(v);
  // ezmlm first: its refusal also comes from <list>-owner@ with the post attached.
  std::optional<Refusal> refusal = fmlRefusal(v, notice);
  if (!refusal) refusal = ezmlmRefusal(v, notice);
  if (!refusal) refusal = sympaRefusal(v, notice);
  if (!refusal) refusal = mailmanRefusal(v, notice);
  if (!refusal) {
    std::string list;
    switch (mlmmjNotice(v, notice, list)) {
      case MlmmjNotice::refusal:
        refusal = Refusal{list, "mlmmj"};
        break;
      case MlmmjNotice::held:
        out.format = "list";
        out.error = "no failed recipient found: a mailing list holds our post for its moderator (mlmmj)";
        return true;
      case MlmmjNotice::none:
        break;
    }
  }
  if (!refusal) return false;
  // Never our own address: a notice's addressee is our sender.
  if (refusal->list == firstMailbox(v.header("to"))) return false;
  const std::string& text = notice.get();
  BounceRecord r;
  r.recipient = refusal->list;
  r.action = "failed";
  // The refusal's own words, not the post that Mailman 2 quotes below them.
  r.diagnostic = humanBeforeOriginal(text);
  r = completeRecord(r, ReportContext{});
  r.hard = false;
  // A list manager writes no SMTP reply: digits in its prose ("2,400 members") are none.
  r.status.clear();
  r.reply_code.clear();
  r.smtp_command.clear();
  // Words that name no reason of a list's own ("Your message was rejected", an admin's text):
  // the list refused our post.
  if (!aListsReason(r.reason)) r.reason = "rejected";
  r.why += std::string(r.why.empty() ? "" : "; ") + "a mailing list's refusal of our post (" + refusal->manager +
           "): the list refused our sender, its address is alive";
  out.records.push_back(r);
  out.format = "list";
  return true;
}

}  // namespace safetynet::bounce
