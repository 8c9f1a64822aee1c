#pragma once
// Asynchronous DNS as checks need it. Answers keep "the name has no such data" (NXDOMAIN, NODATA:
// facts about the recipient's domain) apart from "we could not find out" (TempFail: our side).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet {

enum class DnsStatus { Ok, NxDomain, NoData, TempFail };
std::string_view toString(DnsStatus s);

struct MxRecord {
  int preference = 0;
  std::string host;  // "" for a null MX (RFC 7505: preference 0, exchange ".")
};

struct DnsAnswer {
  DnsStatus status = DnsStatus::TempFail;
  std::vector<std::string> values;  // A/AAAA: addresses; TXT: strings
  std::vector<MxRecord> mx;         // MX only, sorted by preference
  std::chrono::seconds ttl{0};      // how long the answer may be cached (negative answers too)
  std::string error;                // TempFail: what went wrong, for evidence
};

enum class DnsType { A, AAAA, MX, TXT };

class DnsResolver {
 public:
  virtual ~DnsResolver() = default;
  // `name` in A-label (ASCII) form.
  virtual Task<DnsAnswer> query(std::string name, DnsType type) = 0;
};

using DnsResolverPtr = std::shared_ptr<DnsResolver>;

struct DnsOptions {
  std::vector<std::string> servers;  // "ip[:port]"; empty: /etc/resolv.conf
  std::chrono::milliseconds timeout{3000};
  int tries = 2;
};

// c-ares on the given executor's io_context. Throws std::runtime_error if c-ares cannot start
// (bad server list).
DnsResolverPtr makeCaresResolver(asio::any_io_executor ex, const DnsOptions& options);

// Wraps a resolver with a TTL-respecting cache: positive answers for their TTL (clamped), negative
// answers for the SOA-derived TTL, temporary failures not at all.
DnsResolverPtr makeCachingResolver(DnsResolverPtr inner, std::chrono::seconds min_ttl = std::chrono::seconds(5),
                                   std::chrono::seconds max_ttl = std::chrono::hours(24));

}  // namespace safetynet
