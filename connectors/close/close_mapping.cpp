#include "connectors/close/close_mapping.hpp"

#include "safetynet/core/json_util.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet::close {

namespace {
std::string str(const nlohmann::json& j, const char* key) { return jsonString(j, key); }
}  // namespace

bool isScheduled(const nlohmann::json& a) { return a.is_object() && str(a, "status") == "scheduled"; }

std::string addressOf(const std::string& entry) {
  auto lt = entry.rfind('<');
  auto gt = entry.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) return entry.substr(lt + 1, gt - lt - 1);
  size_t b = entry.find_first_not_of(' '), e = entry.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : entry.substr(b, e - b + 1);
}

std::optional<ScheduledEmail> toScheduledEmail(const nlohmann::json& a, const std::string& connector,
                                               std::string* why) {
  auto fail = [&](const std::string& w) -> std::optional<ScheduledEmail> {
    if (why) *why = w;
    return std::nullopt;
  };
  if (!a.is_object()) return fail("not an object");
  ScheduledEmail e;
  e.connector = connector;
  e.id = str(a, "id");
  if (e.id.empty()) return fail("no id");
  e.status = str(a, "status");
  auto when = parseIso8601(str(a, "date_scheduled"));
  if (!when) return fail(e.id + ": no valid date_scheduled");
  e.scheduled_at = *when;
  e.subject = str(a, "subject");
  e.sender = addressOf(str(a, "sender"));
  e.user_id = str(a, "user_id");
  e.user_name = str(a, "user_name");
  e.contact_id = str(a, "contact_id");
  e.lead_id = str(a, "lead_id");
  for (const char* kind : {"to", "cc", "bcc"}) {
    auto it = a.find(kind);
    if (it == a.end() || !it->is_array()) continue;
    for (const auto& r : *it)
      if (r.is_string() && !r.get<std::string>().empty()) e.recipients.push_back(Recipient{addressOf(r.get<std::string>()), kind});
  }
  if (e.recipients.empty()) return fail(e.id + ": no recipients");
  return e;
}

Rep toRep(const nlohmann::json& u) {
  Rep r;
  if (!u.is_object()) return r;
  r.id = str(u, "id");
  r.email = str(u, "email");
  std::string first = str(u, "first_name"), last = str(u, "last_name");
  r.name = first + (first.empty() || last.empty() ? "" : " ") + last;
  return r;
}

RecipientProfile toProfile(const nlohmann::json& c) {
  RecipientProfile p;
  if (!c.is_object()) return p;
  p.person_id = str(c, "id");
  if (c.contains("emails") && c["emails"].is_array()) {
    for (const auto& e : c["emails"]) {
      if (!e.is_object()) continue;
      ProfileAddress a;
      a.email = str(e, "email");
      if (a.email.empty()) continue;
      a.primary = p.addresses.empty();
      const std::string type = str(e, "type");  // office, home, direct, mobile, other
      a.type = type == "office" || type == "direct" ? "work" : type == "home" ? "personal" : "";
      a.unsubscribed = e.contains("is_unsubscribed") && e["is_unsubscribed"].is_boolean() && e["is_unsubscribed"].get<bool>();
      p.addresses.push_back(a);
    }
  }
  return p;
}

}  // namespace safetynet::close
