// libFuzzer target: Close's JSON mapping (connectors/close/close_mapping.cpp) on any reply body:
// an EmailActivity listing page ({data, has_more}), an activity, a user, a contact.
#include <cstddef>
#include <cstdint>

#include "connectors/close/close_mapping.hpp"
#include "fuzz_support.hpp"

using namespace safetynet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body = fuzz::text(data, size);
  (void)close::addressOf(body);
  const nlohmann::json doc = fuzz::parseReply(body);
  if (doc.is_discarded()) return 0;
  fuzz::forEachItem(doc, [](const nlohmann::json& item) {
    (void)close::isScheduled(item);
    std::string why;
    auto email = close::toScheduledEmail(item, "close-fuzz", &why);
    if (!email && why.empty()) __builtin_trap();  // a refusal says why
    (void)close::toScheduledEmail(item, "close-fuzz", nullptr);
    (void)close::toRep(item);
    (void)close::toProfile(item);
  });
  return 0;
}
