#include "connectors/registry.hpp"

#include "connectors/close/close_connector.hpp"
#include "connectors/outreach/outreach_connector.hpp"
#include "connectors/salesloft/salesloft_connector.hpp"

namespace safetynet {

ConnectorPtr makeConnector(const ConnectorConfig& config, HttpClientPtr http, Store& store) {
  if (config.type == "close") return std::make_shared<close::CloseConnector>(config, std::move(http), store);
  if (config.type == "outreach") return std::make_shared<outreach::OutreachConnector>(config, std::move(http), store);
  if (config.type == "salesloft") return std::make_shared<salesloft::SalesloftConnector>(config, std::move(http), store);
  throw std::runtime_error("connector " + config.name + ": type \"" + config.type + "\" is not available");
}

Task<RescheduleResult> Connector::reschedule(const ScheduledEmail&, TimePoint) {
  std::string platform(type());
  if (!platform.empty()) platform[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(platform[0])));
  RescheduleResult r;
  r.detail = platform + "'s API cannot put it back on schedule: re-schedule it in " + platform;
  co_return r;
}

}  // namespace safetynet
