#include "safetynet/core/email_json.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "safetynet/core/text.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

std::string ScheduledEmail::key() const {
  // The recipients are part of the identity: an edited recipient list is a new decision.
  std::string rcpts;
  for (const auto& r : recipients) rcpts += r.kind + ":" + r.address + ",";
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(rcpts));
  return connector + "|" + id + "|" + std::to_string(toMillis(scheduled_at)) + "|" + hash +
         (released > 0 ? "|released-" + std::to_string(released) : "");
}

namespace {
std::vector<std::pair<std::string, std::string>> recipientSet(const ScheduledEmail& e) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : e.recipients) {
    const size_t b = r.address.find_first_not_of(" \t"), z = r.address.find_last_not_of(" \t");
    out.emplace_back(r.kind, b == std::string::npos ? std::string() : asciiLower(r.address.substr(b, z - b + 1)));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}
}  // namespace

bool sameVersion(const ScheduledEmail& decided, const ScheduledEmail& current) {
  return toMillis(decided.scheduled_at) == toMillis(current.scheduled_at) &&
         recipientSet(decided) == recipientSet(current);
}

nlohmann::json toJson(const ScheduledEmail& e) {
  auto r = nlohmann::json::array();
  for (const auto& x : e.recipients) r.push_back({{"address", x.address}, {"kind", x.kind}});
  nlohmann::json j = {{"connector", e.connector}, {"id", e.id},           {"status", e.status},
          {"scheduled_at", formatIso8601(e.scheduled_at)}, {"subject", e.subject}, {"sender", e.sender},
          {"user_id", e.user_id},     {"user_name", e.user_name}, {"contact_id", e.contact_id},
          {"lead_id", e.lead_id},     {"recipients", r},          {"refs", e.refs}};
  if (e.released > 0) j["released"] = e.released;
  return j;
}

ScheduledEmail emailFromJson(const nlohmann::json& j) {
  ScheduledEmail e;
  e.connector = j.value("connector", "");
  e.id = j.value("id", "");
  e.status = j.value("status", "");
  e.scheduled_at = parseIso8601(j.value("scheduled_at", "")).value_or(TimePoint{});
  e.subject = j.value("subject", "");
  e.sender = j.value("sender", "");
  e.user_id = j.value("user_id", "");
  e.user_name = j.value("user_name", "");
  e.contact_id = j.value("contact_id", "");
  e.lead_id = j.value("lead_id", "");
  e.released = j.contains("released") && j["released"].is_number_integer() ? j["released"].get<int>() : 0;
  if (j.contains("recipients") && j["recipients"].is_array())
    for (const auto& r : j["recipients"])
      e.recipients.push_back(Recipient{r.value("address", ""), r.value("kind", "to"), nullptr});
  if (j.contains("refs") && j["refs"].is_object())
    for (const auto& [k, v] : j["refs"].items())
      if (v.is_string()) e.refs[k] = v.get<std::string>();
  return e;
}

nlohmann::json toJson(const Rep& r) {
  return {{"id", r.id}, {"name", r.name}, {"email", r.email}, {"slack_username", r.slack_username}};
}

}  // namespace safetynet
