// libFuzzer target: the admin API's request path (issue 11) on any bytes: the server's HTTP parser
// with its limits (net/admin_server parseAdminRequest), then the API's routing, authentication,
// parameters and JSON bodies (admin/api) over a real store in a temporary directory (writes
// included: the input may carry the full token). It must never crash or throw, every answer is a
// valid status, and every JSON answer parses (an error says what: {"error": "..."}).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "admin/api.hpp"
#include "fuzz_support.hpp"
#include "safetynet/connector/connector.hpp"
#include "safetynet/net/admin_server.hpp"

#ifndef SAFETYNET_FUZZ_SMOKE_IN_TREE
namespace safetynet {
// Connector's key function (its vtable and typeinfo) is in connectors/registry.cpp, with every
// connector. None is reached from the admin API, but sender_guard.cpp (senderCounts, reached)
// calls connectors, and UBSan's vptr check names the class's typeinfo: it comes from here. (In
// the asan tree the targets link the whole product library, registry.cpp with it.)
Task<RescheduleResult> Connector::reschedule(const ScheduledEmail&, TimePoint) { co_return RescheduleResult{}; }
}  // namespace safetynet
#endif

namespace {

struct Subject {
  safetynet::StorePtr store;
  std::unique_ptr<safetynet::admin::AdminApi> api;
  safetynet::AdminServerOptions limits;
};

Subject* subject = nullptr;
std::filesystem::path* storeDir = nullptr;  // removed at exit: a run leaves nothing in /dev/shm

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  safetynet::fuzz::quietLogs();
  // A store on tmpfs when there is one: writes are fsynced.
  const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  const auto dir = base / ("safetynet-admin-fuzz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  storeDir = new std::filesystem::path(dir);
  std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(*storeDir, ignored);
  });
  subject = new Subject;
  subject->store = safetynet::openSqliteStore(dir.string());
  // The tokens are in the dictionary (tests/fuzz/dict/admin_api.dict) and the seeds.
  subject->api = std::make_unique<safetynet::admin::AdminApi>(*subject->store, safetynet::Secret("fuzz-full-token-0123456789"),
                                                              safetynet::Secret("fuzz-read-token-0123456789"),
                                                              safetynet::admin::ApiHooks{});
  subject->limits.max_body_bytes = 4096;
  subject->limits.max_header_bytes = 4096;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = safetynet::fuzz::text(data, size);
  safetynet::AdminHttpRequest request;
  const int refused = safetynet::parseAdminRequest(bytes, subject->limits, request);
  if (refused != 0) {
    if (refused != 400 && refused != 408 && refused != 413 && refused != 431) __builtin_trap();
    return 0;
  }
  const safetynet::AdminHttpResponse r = subject->api->handle(request);
  if (r.status < 200 || r.status > 599) __builtin_trap();
  if (r.content_type == "application/json") {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded()) __builtin_trap();
    if (r.status >= 400 && (!j.is_object() || !j.contains("error") || !j["error"].is_string())) __builtin_trap();
  }
  if (r.status == 500) __builtin_trap();  // an unexpected exception inside a query or action
  return 0;
}
