#include "checks/syntax_check.hpp"

namespace safetynet::checks {

Task<void> SyntaxCheck::run(const CheckInput& input, ScanResult& result) {
  if (!input.address) {
    auto parsed = parseAddress(input.raw);
    result.add("SYNTAX_INVALID", parsed.error ? parsed.error->reason : "not an address");
    result.stop();
  }
  co_return;
}

}  // namespace safetynet::checks
