#pragma once
// gmock doubles for the interfaces in include/safetynet.
#include <gmock/gmock.h>

#include "safetynet/check/check.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/dns.hpp"
#include "safetynet/notify/notifier.hpp"

namespace safetynet::testing {

class MockDnsResolver : public DnsResolver {
 public:
  MOCK_METHOD(Task<DnsAnswer>, query, (std::string name, DnsType type), (override));
};

class MockCheck : public Check {
 public:
  MOCK_METHOD(std::string_view, name, (), (const, override));
  MOCK_METHOD(bool, needsNetwork, (), (const, override));
  MOCK_METHOD(Task<void>, run, (const CheckInput& input, ScanResult& result), (override));
};

class MockConnector : public Connector {
 public:
  MOCK_METHOD(const std::string&, name, (), (const, override));
  MOCK_METHOD(std::string_view, type, (), (const, override));
  MOCK_METHOD(Task<std::vector<ScheduledEmail>>, listScheduled, (TimeWindow window), (override));
  MOCK_METHOD(Task<RevertResult>, revert, (const ScheduledEmail& email), (override));
  MOCK_METHOD(Task<EmailPeople>, people, (const ScheduledEmail& email), (override));
  MOCK_METHOD(Task<void>, loadProfiles, (std::vector<ScheduledEmail> & emails), (override));
  MOCK_METHOD(Task<Activity>, recentActivity, (TimePoint since), (override));
  MockConnector() {
    // By default the platform knows nothing about the people.
    ON_CALL(*this, loadProfiles).WillByDefault([](std::vector<ScheduledEmail>&) -> Task<void> { co_return; });
    ON_CALL(*this, recentActivity).WillByDefault([](TimePoint) -> Task<Activity> { co_return Activity{}; });
  }
};

class MockNotifier : public Notifier {
 public:
  MOCK_METHOD(std::string_view, kind, (), (const, override));
  MOCK_METHOD(Task<Target>, resolveTarget, (const nlohmann::json& payload), (override));
  MOCK_METHOD(Task<std::optional<std::string>>, findDelivered, (const std::string& destination, const std::string& key),
              (override));
  MOCK_METHOD(Task<DeliveryResult>, post,
              (const std::string& destination, const std::string& key, const nlohmann::json& payload), (override));
};

inline DnsAnswer answer(DnsStatus s, std::vector<std::string> values = {}) {
  DnsAnswer a;
  a.status = s;
  a.values = std::move(values);
  a.ttl = std::chrono::seconds(300);
  if (s == DnsStatus::TempFail) a.error = "timeout";
  return a;
}

inline DnsAnswer mxAnswer(std::vector<MxRecord> mx) {
  DnsAnswer a;
  a.status = DnsStatus::Ok;
  a.mx = std::move(mx);
  a.ttl = std::chrono::seconds(300);
  return a;
}

}  // namespace safetynet::testing
