#pragma once
#include <memory>
#include <string>
#include <vector>

#include "safetynet/check/address.hpp"
#include "safetynet/check/signal.hpp"
#include "safetynet/connector/profile.hpp"
#include "safetynet/core/task.hpp"

namespace safetynet {

// What a check sees of a recipient: the raw text and, if syntax passed, the parsed address.
struct CheckInput {
  std::string raw;
  std::optional<Address> address;
  // When the answer stops being useful (the earliest send time less the time to act), if any.
  std::optional<TimePoint> deadline;
  // What the platform knows about the person (null for `check` and re-checks).
  std::shared_ptr<const RecipientProfile> profile;
};

// A check inspects one recipient and adds signals. It must not throw for anything the recipient
// or the network does; the pipeline still turns an unexpected exception into INTERNAL_ERROR.
class Check {
 public:
  virtual ~Check() = default;
  virtual std::string_view name() const = 0;
  // Checks that need no network run under `check --offline`.
  virtual bool needsNetwork() const { return false; }
  virtual Task<void> run(const CheckInput& input, ScanResult& result) = 0;
};

using CheckPtr = std::shared_ptr<Check>;

}  // namespace safetynet
