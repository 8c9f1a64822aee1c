#pragma once
// One spdlog logger per component ("close-main", "pipeline", "slack"...), readable in journald:
// no timestamps when stderr is the journal (journald adds its own), with level prefixes it parses.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace safetynet {

void initLogging(const std::string& level);
std::shared_ptr<spdlog::logger> logger(const std::string& component);

}  // namespace safetynet
