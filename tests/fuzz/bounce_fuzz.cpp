// libFuzzer target: the bounce classifier (src/bounce: GMime, the readers, vendor codes) on any
// bytes, as `bounce classify` and `bounce import` read a file, an mbox or an MTA pipe.
// scripts/fuzz-bounces mutates the real corpus through the CLI beside it.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "safetynet/bounce/bounce.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  safetynet::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw = safetynet::fuzz::text(data, size);
  const auto messages = safetynet::bounce::mailboxMessages(raw);
  for (const auto& [begin, end] : messages) {
    if (begin > end || end > raw.size()) __builtin_trap();
    const auto c = safetynet::bounce::classify(raw.substr(begin, end - begin));
    for (const auto& r : c.records) (void)safetynet::bounce::isHardBounce(r.reason, r.status, r.reply_code);
  }
  return 0;
}
