// libFuzzer target: what the Slack notifier (src/notify/slack_notifier.cpp) makes of Slack's
// answers. The input scripts the HTTP replies (status, Retry-After, body) of a scripted HttpClient;
// the real SlackNotifier then resolves a rep's DM or the channel (users.list, users.lookupByEmail,
// conversations.open, conversations.list), looks for a delivered message (conversations.history)
// and posts (chat.postMessage). When the script runs out, the client fails as a network would.
#include <fuzzer/FuzzedDataProvider.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>

#include "fuzz_support.hpp"
#include "notify/slack_notifier.hpp"

using namespace safetynet;

namespace {

class ScriptedHttp final : public HttpClient {
 public:
  explicit ScriptedHttp(FuzzedDataProvider& in) : in_(in) {}
  Task<HttpResponse> send(HttpRequest) override {
    if (in_.remaining_bytes() == 0) throw HttpError("connection reset (the script ran out)");
    HttpResponse r;
    static constexpr int kStatus[] = {200, 200, 200, 200, 429, 500, 503, 404, 401, 302};
    r.status = in_.PickValueInArray(kStatus);
    if (in_.ConsumeBool()) r.headers["retry-after"] = in_.ConsumeRandomLengthString(32);
    if (in_.ConsumeBool()) r.headers["x-ratelimit-reset"] = in_.ConsumeRandomLengthString(32);
    r.body = in_.ConsumeRandomLengthString(8192);
    co_return r;
  }

 private:
  FuzzedDataProvider& in_;
};

nlohmann::json payload(const std::string& email, const std::string& slack_username) {
  nlohmann::json rep = {{"name", "Riley"}};
  if (!email.empty()) rep["email"] = email;
  if (!slack_username.empty()) rep["slack_username"] = slack_username;
  return {{"connector", "close-main"}, {"email_id", "acti_1"}, {"subject", "Hello <Jane> & co"},
          {"sender", "riley@seller.example"}, {"scheduled_at", "2026-11-22T09:00:00.000Z"},
          {"recipients", {"jane@gone.example"}}, {"contact_name", "Jane Doe"}, {"reason", "bounce_risk"},
          {"reason_text", "likely to bounce or be blocked"}, {"evidence", "gone.example does not exist (NXDOMAIN)"},
          {"next_step", "Remove the contact."}, {"rep", rep}, {"stopped", true},
          {"outcome", "moved back to draft in Close"}};
}

Task<void> exercise(SlackNotifier& n, nlohmann::json p) {
  Target t = co_await n.resolveTarget(p);
  const std::string destination = t.destination.empty() ? std::string("C0DELIV") : t.destination;
  try {
    auto found = co_await n.findDelivered(destination, "notify|k1");
    (void)found;
  } catch (const std::runtime_error&) {
    // conversations.history could not be read: the outbox tries again later (its contract).
  }
  if (!t.fallback_note.empty()) p["delivery_note"] = t.fallback_note;
  DeliveryResult d = co_await n.post(destination, "notify|k1", p);
  if (d.delivered && !d.error.empty()) __builtin_trap();
  if (!d.delivered && d.error.empty()) __builtin_trap();  // a failure says why
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  SlackConfig c;
  c.enabled = true;
  c.bot_token = Secret("xoxb-fuzz");
  c.base_url = "https://slack.invalid/api";
  static constexpr const char* kChannels[] = {"#deliverability", "C0DELIV", ""};
  c.channel = in.PickValueInArray(kChannels);
  c.dm_rep = in.ConsumeBool();
  static constexpr const char* kEmails[] = {"riley@seller.example", ""};
  static constexpr const char* kNames[] = {"riley", ""};
  const std::string email = in.PickValueInArray(kEmails), name = in.PickValueInArray(kNames);
  SlackNotifier n(c, std::make_shared<ScriptedHttp>(in));
  asio::io_context io;
  std::exception_ptr failed;
  asio::co_spawn(io, exercise(n, payload(email, name)), [&](std::exception_ptr e) { failed = e; });
  io.run();
  // Only the transport may fail (HttpError is caught inside the notifier); nothing Slack answers may
  // make a call throw.
  if (failed) std::rethrow_exception(failed);
  return 0;
}
