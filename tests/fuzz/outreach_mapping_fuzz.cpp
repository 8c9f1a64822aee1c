// libFuzzer target: Outreach's JSON:API mapping (connectors/outreach/outreach_mapping.cpp) on any
// reply body, read as the connector reads a page of mailings: the `included` resources indexed,
// each mailing of `data` mapped, users and prospects (with their emailAddresses) turned into reps
// and profiles; and the error text of a refused request.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "connectors/outreach/outreach_mapping.hpp"
#include "fuzz_support.hpp"
#include "safetynet/core/json_util.hpp"

using namespace safetynet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body = fuzz::text(data, size);
  (void)outreach::errorText(body);
  const nlohmann::json doc = fuzz::parseReply(body);
  if (doc.is_discarded()) return 0;
  outreach::Included included;
  included.add(doc);
  std::vector<nlohmann::json> addresses;
  const nlohmann::json* owner = nullptr;
  auto visit = [&](const nlohmann::json& r) {
    std::string why;
    auto email = outreach::toScheduledEmail(r, included, "outreach-fuzz", &why);
    if (!email && why.empty()) __builtin_trap();
    (void)outreach::relatedId(r, "prospect");
    (void)outreach::toRep(r);
    const std::string type = jsonString(r, "type");
    if (type == "emailAddress") addresses.push_back(r);
    if (type == "user" && !owner) owner = &r;
  };
  fuzz::forEachItem(doc, visit);
  if (doc.is_object() && doc.contains("included") && doc["included"].is_array())
    for (const auto& r : doc["included"]) visit(r);
  fuzz::forEachItem(doc, [&](const nlohmann::json& r) {
    (void)outreach::toProfile(r, addresses, owner);
    (void)outreach::toProfile(r, {}, nullptr);
  });
  return 0;
}
