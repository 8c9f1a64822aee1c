// libFuzzer target: Salesloft's JSON mapping (connectors/salesloft/salesloft_mapping.cpp) on any
// reply body ({data, metadata}): emails, users, people, and the error text of a refused request.
#include <cstddef>
#include <cstdint>

#include "connectors/salesloft/salesloft_mapping.hpp"
#include "fuzz_support.hpp"

using namespace safetynet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body = fuzz::text(data, size);
  (void)salesloft::errorText(body);
  (void)salesloft::websiteDomain(body);
  const nlohmann::json doc = fuzz::parseReply(body);
  if (doc.is_discarded()) return 0;
  fuzz::forEachItem(doc, [](const nlohmann::json& item) {
    std::string why;
    auto email = salesloft::toScheduledEmail(item, "salesloft-fuzz", &why);
    if (!email && why.empty()) __builtin_trap();
    (void)salesloft::embeddedId(item, "cadence");
    (void)salesloft::toRep(item);
    (void)salesloft::toProfile(item);
  });
  return 0;
}
