#pragma once
#include <string>

namespace safetynet {

// A credential read from config. It has no stream operator and no fmt formatter on purpose:
// the only way out is reveal(), which is grep-able, so a secret cannot slip into a log line.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  bool operator==(const Secret&) const = default;  // a reload compares configurations

 private:
  std::string value_;
};

}  // namespace safetynet
