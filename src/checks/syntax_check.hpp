#pragma once
#include "safetynet/check/check.hpp"

namespace safetynet::checks {

// SYNTAX_INVALID when the pipeline could not parse the address; ends the scan (nothing else can
// be checked about an address that is not one).
class SyntaxCheck final : public Check {
 public:
  std::string_view name() const override { return "syntax"; }
  Task<void> run(const CheckInput& input, ScanResult& result) override;
};

}  // namespace safetynet::checks
