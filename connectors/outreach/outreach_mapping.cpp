#include "connectors/outreach/outreach_mapping.hpp"

#include <algorithm>
#include <limits>

#include "safetynet/core/json_util.hpp"
#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::outreach {

namespace {
const nlohmann::json& attributes(const nlohmann::json& r) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (r.is_object() && r.contains("attributes") && r["attributes"].is_object()) return r["attributes"];
  return kEmpty;
}

std::optional<TimePoint> timeAttr(const nlohmann::json& a, const char* key) {
  const std::string s = jsonString(a, key);
  return s.empty() ? std::nullopt : parseIso8601(s);
}

std::optional<int> intAttr(const nlohmann::json& a, const char* key) {
  if (!a.contains(key) || !a[key].is_number()) return std::nullopt;
  // A number no int holds ("openCount": 1.3e44, found by fuzzing) is no number: converting it is
  // undefined behaviour.
  const double v = a[key].get<double>();
  if (!(v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max())) return std::nullopt;
  return static_cast<int>(v);
}
}  // namespace

std::string idOf(const nlohmann::json& r) {
  if (!r.is_object() || !r.contains("id")) return "";
  const auto& id = r["id"];
  if (id.is_number_integer()) return std::to_string(id.get<long long>());
  if (id.is_string()) return id.get<std::string>();
  return "";
}

std::string relatedId(const nlohmann::json& r, const std::string& name) {
  if (!r.is_object() || !r.contains("relationships") || !r["relationships"].is_object()) return "";
  const auto& rel = r["relationships"];
  if (!rel.contains(name) || !rel[name].is_object() || !rel[name].contains("data")) return "";
  return idOf(rel[name]["data"]);
}

void Included::add(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("included") || !doc["included"].is_array()) return;
  for (const auto& r : doc["included"]) addResource(r);
}

void Included::addResource(const nlohmann::json& r) {
  const std::string type = jsonString(r, "type"), id = idOf(r);
  if (!type.empty() && !id.empty()) byKey_[type + "/" + id] = r;
}

namespace {
const nlohmann::json* recipientRefs(const nlohmann::json& m) {
  if (!m.is_object() || !m.contains("relationships") || !m["relationships"].is_object()) return nullptr;
  const auto& rel = m["relationships"];
  if (!rel.contains("recipients") || !rel["recipients"].is_object() || !rel["recipients"].contains("data") ||
      !rel["recipients"]["data"].is_array())
    return nullptr;
  return &rel["recipients"]["data"];
}
}  // namespace

std::vector<std::string> missingRecipients(const nlohmann::json& m, const Included& inc) {
  std::vector<std::string> out;
  if (const auto* refs = recipientRefs(m))
    for (const auto& ref : *refs)
      if (const std::string id = idOf(ref); !id.empty() && !inc.find("recipient", id)) out.push_back(id);
  return out;
}

const nlohmann::json* Included::find(const std::string& type, const std::string& id) const {
  auto it = byKey_.find(type + "/" + id);
  return it == byKey_.end() ? nullptr : &it->second;
}

std::optional<ScheduledEmail> toScheduledEmail(const nlohmann::json& m, const Included& inc, const std::string& connector,
                                               std::string* why) {
  ScheduledEmail e;
  e.connector = connector;
  e.id = idOf(m);
  if (e.id.empty()) {
    *why = "a mailing without an id";
    return std::nullopt;
  }
  const auto& a = attributes(m);
  e.status = jsonString(a, "state");
  auto when = timeAttr(a, "scheduledAt");
  if (!when) {
    *why = "mailing " + e.id + " has no valid scheduledAt";
    return std::nullopt;
  }
  e.scheduled_at = *when;
  e.subject = jsonString(a, "subject");
  e.sender = jsonString(a, "mailboxAddress");
  e.user_id = relatedId(m, "user");
  if (const auto* u = inc.find("user", e.user_id)) e.user_name = toRep(*u).name;
  e.contact_id = relatedId(m, "prospect");
  if (auto s = relatedId(m, "sequenceState"); !s.empty()) e.refs["sequence_state"] = s;
  if (auto s = relatedId(m, "sequence"); !s.empty()) e.refs["sequence"] = s;
  // Recipients: the mailing's recipient resources; the prospect's first address if none came.
  if (const auto* refs = recipientRefs(m)) {
    for (const auto& ref : *refs) {
      const auto* r = inc.find("recipient", idOf(ref));
      if (!r) continue;  // gone from Outreach (the connector reads every missing one first)
      const auto& ra = attributes(*r);
      std::string value = jsonString(ra, "value"), kind = jsonString(ra, "recipientType", "to");
      if (kind != "to" && kind != "cc" && kind != "bcc") kind = "to";
      if (!value.empty()) e.recipients.push_back(Recipient{value, kind, nullptr});
    }
  }
  if (e.recipients.empty())
    if (const auto* p = inc.find("prospect", e.contact_id)) {
      const auto& pa = attributes(*p);
      if (pa.contains("emails") && pa["emails"].is_array() && !pa["emails"].empty() && pa["emails"][0].is_string())
        e.recipients.push_back(Recipient{pa["emails"][0].get<std::string>(), "to", nullptr});
    }
  if (e.recipients.empty()) {
    *why = "mailing " + e.id + " has no recipient address";
    return std::nullopt;
  }
  return e;
}

std::optional<std::string> idWithoutSendTime(const nlohmann::json& m) {
  const std::string id = idOf(m);
  const auto& a = attributes(m);
  if (id.empty() || jsonString(a, "state").empty()) return std::nullopt;
  if (a.contains("scheduledAt") && !a["scheduledAt"].is_null()) return std::nullopt;
  return id;
}

Rep toRep(const nlohmann::json& u) {
  Rep r;
  r.id = idOf(u);
  const auto& a = attributes(u);
  r.email = jsonString(a, "email");
  r.name = jsonString(a, "name");
  if (r.name.empty()) {
    const std::string first = jsonString(a, "firstName"), last = jsonString(a, "lastName");
    r.name = first + (first.empty() || last.empty() ? "" : " ") + last;
  }
  return r;  // Outreach users have no Slack name: the notifier finds them by email
}

RecipientProfile toProfile(const nlohmann::json& prospect, const std::vector<nlohmann::json>& emailAddresses,
                           const nlohmann::json* owner) {
  RecipientProfile p;
  p.person_id = idOf(prospect);
  const auto& a = attributes(prospect);
  if (!emailAddresses.empty()) {
    // Ordered position in the prospect's list: the lowest order is the primary address.
    std::vector<const nlohmann::json*> sorted;
    for (const auto& e : emailAddresses) sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(), [](const nlohmann::json* x, const nlohmann::json* y) {
      return intAttr(attributes(*x), "order").value_or(1 << 30) < intAttr(attributes(*y), "order").value_or(1 << 30);
    });
    for (const auto* e : sorted) {
      const auto& ea = attributes(*e);
      ProfileAddress pa;
      pa.email = jsonString(ea, "email");
      if (pa.email.empty()) continue;
      pa.primary = p.addresses.empty();
      pa.type = jsonString(ea, "emailType");
      // The spec gives emailAddress.status no values: its words, in any case.
      const std::string status = asciiLower(jsonString(ea, "status"));
      pa.bounced = status == "bounced" || status == "hard_bounced";
      pa.unsubscribed = !jsonString(ea, "unsubscribedAt").empty() || status == "unsubscribed" || status == "opted_out";
      p.addresses.push_back(pa);
    }
  } else if (a.contains("emails") && a["emails"].is_array()) {
    for (const auto& e : a["emails"])
      if (e.is_string()) p.addresses.push_back(ProfileAddress{e.get<std::string>(), p.addresses.empty(), "", false, false});
  }
  // emailsOptStatus: "A string ("opted_in", "opted_out", "null") that represents whether a
  // prospect has opted into or out of emails" (the spec's prospect).
  p.opted_out = jsonBool(a, "emailOptedOut") || jsonBool(a, "optedOut") ||
                asciiLower(jsonString(a, "emailsOptStatus")) == "opted_out";
  // engagedAt: the prospect's last engagement (open, click or reply).
  if (auto t = timeAttr(a, "engagedAt")) p.last_open = t;
  long long engagements = 0;  // three ints: their sum may not fit one
  bool counted = false;
  for (const char* k : {"openCount", "clickCount", "replyCount"})
    if (auto n = intAttr(a, k)) {
      engagements += *n;
      counted = true;
    }
  if (counted)
    p.engagements = static_cast<int>(std::clamp<long long>(engagements, std::numeric_limits<int>::min(),
                                                           std::numeric_limits<int>::max()));
  if (owner) {
    Rep r = toRep(*owner);
    p.owner = ProfileOwner{r.id, r.name, r.email, ""};
  }
  return p;
}

std::string errorText(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    const auto& e = j["errors"][0];
    const std::string title = jsonString(e, "title"), detail = jsonString(e, "detail");
    return title + (title.empty() || detail.empty() ? "" : ": ") + detail;
  }
  return body.substr(0, 200);
}

}  // namespace safetynet::outreach
