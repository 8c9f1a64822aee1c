// libFuzzer target: the SMTP reply parser (parseSmtpReply, src/net/smtp_prober.cpp) and the RCPT
// reply classifier (src/checks/smtp_reply.cpp) on any bytes a mail server may send.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks/smtp_reply.hpp"
#include "safetynet/net/smtp_prober.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto reply = safetynet::parseSmtpReply(raw);
  if (!reply) return 0;
  if (reply->code < 200 || reply->code > 559) __builtin_trap();  // RFC 5321 4.2
  (void)reply->line();
  (void)safetynet::checks::toString(safetynet::checks::classifyRcpt(*reply));
  return 0;
}
