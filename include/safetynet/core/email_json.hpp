#pragma once
#include <nlohmann/json.hpp>

#include "safetynet/core/email.hpp"

namespace safetynet {

nlohmann::json toJson(const ScheduledEmail& e);
ScheduledEmail emailFromJson(const nlohmann::json& j);
nlohmann::json toJson(const Rep& r);

}  // namespace safetynet
