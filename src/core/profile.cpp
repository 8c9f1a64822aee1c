#include "safetynet/connector/profile.hpp"

#include <algorithm>
#include <cctype>

namespace safetynet {

namespace {
bool sameAddress(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}
}  // namespace

const ProfileAddress* RecipientProfile::find(const std::string& address) const {
  for (const auto& a : addresses)
    if (sameAddress(a.email, address)) return &a;
  return nullptr;
}

const ProfileAddress* RecipientProfile::primary() const {
  for (const auto& a : addresses)
    if (a.primary) return &a;
  return nullptr;
}

std::optional<TimePoint> RecipientProfile::lastEngaged() const {
  std::optional<TimePoint> t;
  for (const auto& x : {last_open, last_click, last_reply})
    if (x && (!t || *x > *t)) t = x;
  return t;
}

}  // namespace safetynet
