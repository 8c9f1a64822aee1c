#pragma once
// One line per connector type: adding a platform is a directory under connectors/ and a line here.
#include "safetynet/config/config.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet {

ConnectorPtr makeConnector(const ConnectorConfig& config, HttpClientPtr http, Store& store);

}  // namespace safetynet
