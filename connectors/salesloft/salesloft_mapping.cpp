#include "connectors/salesloft/salesloft_mapping.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include "safetynet/core/json_util.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::salesloft {

namespace {
// A count as Salesloft sent it; one no int holds (99999999999) is none, not its low 32 bits.
int intField(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return 0;
  const auto& v = j[key];
  constexpr long long kMax = std::numeric_limits<int>::max(), kMin = std::numeric_limits<int>::min();
  if (v.is_number_unsigned()) return v.get<unsigned long long>() <= static_cast<unsigned long long>(kMax) ? v.get<int>() : 0;
  const long long n = v.get<long long>();
  return n >= kMin && n <= kMax ? static_cast<int>(n) : 0;
}

// Header values ("a@x.com, b@y.com") or arrays of addresses.
std::vector<std::string> addressList(const nlohmann::json& v) {
  std::vector<std::string> out;
  auto addOne = [&](std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    if (!s.empty()) out.push_back(s);
  };
  if (v.is_string()) {
    std::stringstream in(v.get<std::string>());
    std::string item;
    while (std::getline(in, item, ',')) addOne(item);
  } else if (v.is_array()) {
    for (const auto& x : v)
      if (x.is_string()) addOne(x.get<std::string>());
  }
  return out;
}
}  // namespace

const nlohmann::json* listIn(const nlohmann::json& body) {
  if (body.is_array()) return &body;
  if (body.is_object() && body.contains("data") && body["data"].is_array()) return &body["data"];
  return nullptr;
}

const nlohmann::json* resourceIn(const nlohmann::json& body) {
  if (!body.is_object()) return nullptr;
  // A bare resource (the spec's 200 bodies) has an id; an object without one ({} from a proxy, an
  // error body) is no email: read as one, its missing status would settle a stop that was not made.
  if (!body.contains("data")) return body.contains("id") && !body["id"].is_null() ? &body : nullptr;
  return body["data"].is_object() ? &body["data"] : nullptr;
}

std::optional<bool> hasNextPage(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("metadata") || !body["metadata"].is_object()) return std::nullopt;
  const auto& meta = body["metadata"];
  if (!meta.contains("paging") || !meta["paging"].is_object()) return std::nullopt;
  return meta["paging"].contains("next_page") && meta["paging"]["next_page"].is_number_integer();
}

std::string idOf(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("id")) return "";
  if (j["id"].is_number_integer()) return std::to_string(j["id"].get<long long>());
  if (j["id"].is_string()) return j["id"].get<std::string>();
  return "";
}

std::string embeddedId(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return idOf(j[key]);
}

std::optional<ScheduledEmail> toScheduledEmail(const nlohmann::json& m, const std::string& connector, std::string* why) {
  ScheduledEmail e;
  e.connector = connector;
  e.id = idOf(m);
  if (e.id.empty()) {
    *why = "an email without an id";
    return std::nullopt;
  }
  e.status = jsonString(m, "status");
  auto when = parseIso8601(jsonString(m, "send_after"));
  if (!when) {
    *why = "email " + e.id + " has no valid send_after";
    return std::nullopt;
  }
  e.scheduled_at = *when;
  e.subject = jsonString(m, "subject");  // null without the email_contents:read scope
  e.user_id = embeddedId(m, "user");
  e.contact_id = embeddedId(m, "recipient");
  if (!e.contact_id.empty()) e.refs["person"] = e.contact_id;
  if (auto c = embeddedId(m, "cadence"); !c.empty()) e.refs["cadence"] = c;
  const std::string to = jsonString(m, "recipient_email_address");
  if (!to.empty()) e.recipients.push_back(Recipient{to, "to", nullptr});
  if (m.contains("headers") && m["headers"].is_object()) {
    for (const auto& a : addressList(m["headers"].value("cc", nlohmann::json()))) e.recipients.push_back(Recipient{a, "cc", nullptr});
    for (const auto& a : addressList(m["headers"].value("bcc", nlohmann::json()))) e.recipients.push_back(Recipient{a, "bcc", nullptr});
  }
  if (e.recipients.empty()) {
    *why = "email " + e.id + " has no recipient address";
    return std::nullopt;
  }
  return e;
}

std::optional<std::string> idWithoutSendTime(const nlohmann::json& m) {
  const std::string id = idOf(m);
  if (id.empty() || jsonString(m, "status").empty()) return std::nullopt;
  if (m.contains("send_after") && !m["send_after"].is_null()) return std::nullopt;
  return id;
}

Rep toRep(const nlohmann::json& u) {
  Rep r;
  r.id = idOf(u);
  r.email = jsonString(u, "email");
  r.name = jsonString(u, "name");
  if (r.name.empty()) {
    const std::string first = jsonString(u, "first_name"), last = jsonString(u, "last_name");
    r.name = first + (first.empty() || last.empty() ? "" : " ") + last;
  }
  r.slack_username = jsonString(u, "slack_username");
  return r;
}

std::string websiteDomain(const std::string& url) {
  std::string s = url;
  if (auto p = s.find("://"); p != std::string::npos) s = s.substr(p + 3);
  s = s.substr(0, s.find_first_of("/?#:"));
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s.rfind("www.", 0) == 0) s = s.substr(4);
  return s;
}

RecipientProfile toProfile(const nlohmann::json& p) {
  RecipientProfile r;
  r.person_id = idOf(p);
  // email_address is the person's main address; secondary and personal are the others.
  if (auto a = jsonString(p, "email_address"); !a.empty()) r.addresses.push_back(ProfileAddress{a, true, "work", false, false});
  if (auto a = jsonString(p, "secondary_email_address"); !a.empty())
    r.addresses.push_back(ProfileAddress{a, false, "work", false, false});
  if (auto a = jsonString(p, "personal_email_address"); !a.empty())
    r.addresses.push_back(ProfileAddress{a, false, "personal", false, false});
  r.do_not_contact = jsonBool(p, "do_not_contact");
  if (p.contains("contact_restrictions") && p["contact_restrictions"].is_array())
    for (const auto& c : p["contact_restrictions"])
      if (c.is_string() && c.get<std::string>() == "email") r.do_not_contact = true;
  r.bounced = jsonBool(p, "bouncing");
  if (auto t = parseIso8601(jsonString(p, "last_replied_at"))) r.last_reply = t;
  if (p.contains("counts") && p["counts"].is_object()) {
    const auto& c = p["counts"];
    r.sends = intField(c, "emails_sent");
    r.bounces = intField(c, "emails_bounced");
    // Three ints: their sum may not fit one (an overflow, undefined behaviour, before).
    const long long engagements = 0LL + intField(c, "emails_viewed") + intField(c, "emails_clicked") +
                                  intField(c, "emails_replied_to");
    r.engagements = static_cast<int>(std::clamp<long long>(engagements, std::numeric_limits<int>::min(),
                                                           std::numeric_limits<int>::max()));
  }
  r.account_domain = websiteDomain(jsonString(p, "person_company_website"));
  r.owner.id = embeddedId(p, "owner");
  return r;
}

std::string errorText(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  if (j.is_object() && j.contains("errors") && j["errors"].is_object()) {
    std::string out;
    for (const auto& [field, msgs] : j["errors"].items())
      if (msgs.is_array() && !msgs.empty() && msgs[0].is_string())
        out += (out.empty() ? "" : "; ") + field + " " + msgs[0].get<std::string>();
    if (!out.empty()) return out;
  }
  return body.substr(0, 200);
}

}  // namespace safetynet::salesloft
