#include "notify/email_notifier.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "notify/email_message.hpp"
#include "notify/messages.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/logging.hpp"

namespace safetynet {

namespace {
// One thread for the blocking mail calls of every email notifier (the outbox sends one message at
// a time); it lives as long as the process, so a reload never waits for a send in flight.
asio::thread_pool& mailThread() {
  static auto* pool = new asio::thread_pool(1);
  return *pool;
}

// The send runs on the mail thread; its result is posted back to the caller's executor. Nothing
// that refers to the caller's io_context is destroyed on the mail thread after that post: the
// caller may finish and its io_context go away at once (co_spawn onto the mail thread did that:
// its work guard on the caller's io_context was released on the mail thread, after the caller had
// resumed; ASan saw it in EmailSmtp.* under ctest -j2). The work guard travels with the result and
// is released where the caller runs.
Task<MailResult> sendOffThread(MailTransportPtr transport, std::string from, std::vector<std::string> to,
                               std::string message) {
  auto init = [transport, from = std::move(from), to = std::move(to), message = std::move(message)](auto handler) mutable {
    auto target = asio::get_associated_executor(handler);  // untracked: safe to drop anywhere
    auto work = asio::make_work_guard(target);               // keeps the caller's io_context running
    asio::post(mailThread(), [transport, from = std::move(from), to = std::move(to), message = std::move(message),
                              handler = std::move(handler), work = std::move(work), target]() mutable {
      MailResult r = transport->send(from, to, message);
      asio::post(target, [handler = std::move(handler), work = std::move(work), r = std::move(r)]() mutable {
        work.reset();
        std::move(handler)(std::move(r));
      });
    });
  };
  MailResult r = co_await asio::async_initiate<decltype(asio::use_awaitable), void(MailResult)>(init, asio::use_awaitable);
  co_return r;
}

std::vector<std::string> splitAddresses(const std::string& destination) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= destination.size()) {
    size_t comma = destination.find(',', start);
    if (comma == std::string::npos) comma = destination.size();
    std::string a = destination.substr(start, comma - start);
    while (!a.empty() && a.front() == ' ') a.erase(a.begin());
    while (!a.empty() && a.back() == ' ') a.pop_back();
    if (!a.empty()) out.push_back(a);
    start = comma + 1;
  }
  return out;
}

std::string joinAddresses(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : ", ") + a;
  return out;
}

bool forAdmins(const nlohmann::json& payload) {
  const std::string audience = jsonString(payload, "audience");
  return audience.empty() ? isAdminPayload(payload) : audience == "admin";
}
}  // namespace

EmailNotifier::EmailNotifier(EmailConfig config, MailTransportPtr transport)
    : config_(std::move(config)), transport_(std::move(transport)) {}

Task<Target> EmailNotifier::resolveTarget(const nlohmann::json& payload) {
  Target t;
  const std::string repEmail = jsonString(jsonObject(payload, "rep"), "email");
  if (!forAdmins(payload) && config_.to_rep && !repEmail.empty()) {
    t.destination = repEmail;
    co_return t;
  }
  // The admins' own messages, and a rep's whom no address reaches (never nothing).
  t.destination = joinAddresses(config_.admin_to);
  if (t.destination.empty()) {
    t.error = forAdmins(payload) ? "notify.email.admin_to is not set" : "no email address for the rep, and no admin_to";
    t.permanent = true;
  }
  co_return t;
}

Task<std::optional<std::string>> EmailNotifier::findDelivered(const std::string&, const std::string&) {
  co_return std::nullopt;
}

Task<DeliveryResult> EmailNotifier::post(const std::string& destination, const std::string& dedupe_key,
                                         const nlohmann::json& payload) {
  nlohmann::json p = payload;
  const auto& rep = jsonObject(payload, "rep");
  if (!forAdmins(payload) && destination != jsonString(rep, "email") && jsonString(p, "delivery_note").empty()) {
    const std::string who = jsonString(rep, "name").empty() ? std::string("the rep") : jsonString(rep, "name");
    p["delivery_note"] = "No email address is known for " + who + ", so this comes to you.";
  }
  const std::vector<std::string> to = splitAddresses(destination);
  const std::string message = buildEmailMessage(config_, to, dedupe_key, p);
  const std::string messageId = emailMessageId(dedupe_key, p, config_.from_address);
  MailResult r = co_await sendOffThread(transport_, config_.from_address, to, message);
  DeliveryResult d;
  d.delivered = r.status == MailResult::Status::Sent;
  d.permanent_failure = r.status == MailResult::Status::PermFail;
  d.outcome_unknown = r.status == MailResult::Status::Unknown;
  if (d.delivered)
    d.ref = "email <" + messageId + "> to " + destination + " (" + r.detail + ")";
  else
    d.error = r.detail;
  co_return d;
}

MailTransportPtr makeMailTransport(const EmailConfig& config) {
  return config.transport == "sendmail" ? makeSendmailTransport(config) : makeSmtpTransport(config);
}

}  // namespace safetynet
