// libFuzzer target: the YAML config loader (src/config) on any text. It must never throw: every
// problem comes back as an error with its place. Secrets are not read (no files, no environment).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "safetynet/config/config.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  safetynet::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = safetynet::fuzz::text(data, size);
  const safetynet::ConfigResult r = safetynet::loadConfigText(text, "fuzz.yaml", safetynet::Secrets::Skip);
  if (!r.config && r.errors.empty()) __builtin_trap();  // no config and no word why
  for (const auto& e : r.errors)
    if (e.message.empty()) __builtin_trap();
  return 0;
}
