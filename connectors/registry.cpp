#include "connectors/registry.hpp"

#include "connectors/close/close_connector.hpp"
#include "connectors/outreach/outreach_connector.hpp"
#include "connectors/salesloft/salesloft_connector.hpp"
#include "safetynet/metrics/metrics.hpp"

namespace safetynet {

namespace {
// Every request a connector makes to its platform (OAuth token requests included) is counted in
// safetynet_platform_requests_total by its final status class (the client's own retries are not
// counted apart), or as "error" when no answer came.
class CountedHttpClient final : public HttpClient {
 public:
  CountedHttpClient(HttpClientPtr inner, std::string connector) : inner_(std::move(inner)), connector_(std::move(connector)) {}
  Task<HttpResponse> send(HttpRequest request) override {
    metrics::PlatformRequest counted(connector_);
    HttpResponse r = co_await inner_->send(std::move(request));
    counted.answered(r.status);
    co_return r;
  }

 private:
  HttpClientPtr inner_;
  std::string connector_;
};
}  // namespace

ConnectorPtr makeConnector(const ConnectorConfig& config, HttpClientPtr http, Store& store) {
  if (http) http = std::make_shared<CountedHttpClient>(std::move(http), config.name);
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
