#include "notify/email_notifier.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <optional>
#include <set>

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

// A send handed to the mail thread, shared by that thread and the caller's io_context. The caller's
// side (the waiting coroutine's handler and a work guard on its io_context) goes to whichever comes
// first: the mail thread, done, which posts it back to the caller's executor; or the io_context's
// shutdown, which destroys it then.
// (Boost 1.81's any_completion_handler move assignment recurses without end: it copies an lvalue
// into its own converting constructor. Handlers here are moved by construction and swap only.)
using MailHandler = asio::any_completion_handler<void(MailResult)>;

struct PendingSend {
  std::mutex mutex;
  MailHandler handler;  // empty once taken
  std::optional<asio::executor_work_guard<asio::any_io_executor>> work;
  asio::any_io_executor target;
};

// The sends of one io_context still on the mail thread. The daemon's exit after its grace period
// abandons a send waiting on a slow mail server like any other step (everything is durable); its
// coroutine must be destroyed by the io_context's shutdown, while the daemon it refers to still
// exists (runDaemon shuts the io_context down before the daemon goes), not by the mail thread
// whenever the server answers; and the mail thread must then not post to a gone io_context. Asio
// shuts an io_context's services down in the reverse order they were added, so this one's goes
// before the scheduler's, which destroys whatever the mail thread had already posted.
class PendingMailSends final : public asio::execution_context::service {
 public:
  using key_type = PendingMailSends;
  static inline asio::execution_context::id id;
  explicit PendingMailSends(asio::execution_context& context) : asio::execution_context::service(context) {}

  void add(const std::shared_ptr<PendingSend>& p) {
    std::lock_guard lock(mutex_);
    pending_.insert(p);
  }
  void remove(const std::shared_ptr<PendingSend>& p) {
    std::lock_guard lock(mutex_);
    pending_.erase(p);
  }

 private:
  void shutdown() override {
    std::set<std::shared_ptr<PendingSend>> all;
    {
      std::lock_guard lock(mutex_);
      all.swap(pending_);
    }
    for (const auto& p : all) {
      MailHandler handler;
      {
        std::lock_guard lock(p->mutex);  // waits for a mail thread that is posting it back
        handler.swap(p->handler);
        p->work.reset();
        p->target = {};
      }
    }  // the coroutine's frame is destroyed here, outside the locks (or, when the mail thread had
       // posted it back already, by the scheduler's shutdown, which comes after this service's)
  }

  std::mutex mutex_;
  std::set<std::shared_ptr<PendingSend>> pending_;
};

// The send runs on the mail thread; its result is posted back to the caller's executor, and
// everything of the caller's (handler, work guard) is released there, on the caller's thread (a
// work guard released on the mail thread after the caller resumed outlived its io_context: ASan
// saw it in EmailSmtp.* under ctest -j2).
Task<MailResult> sendOffThread(MailTransportPtr transport, std::string from, std::vector<std::string> to,
                               std::string message) {
  auto init = [transport, from = std::move(from), to = std::move(to), message = std::move(message)](auto handler) mutable {
    auto pending = std::make_shared<PendingSend>();
    pending->target = asio::get_associated_executor(handler);  // untracked: safe to drop anywhere
    pending->work.emplace(pending->target);                     // keeps the caller's io_context running
    MailHandler erased(std::move(handler));
    pending->handler.swap(erased);
    auto& sends = asio::use_service<PendingMailSends>(
        asio::query(pending->target, asio::execution::context_as<asio::execution_context&>));
    sends.add(pending);
    asio::post(mailThread(), [transport, from = std::move(from), to = std::move(to), message = std::move(message),
                              pending, &sends]() mutable {
      {
        // Its io_context already gone (the daemon stopped while earlier sends took their time):
        // no send. Nobody would record it, and the next start resends the alert from the outbox.
        std::lock_guard lock(pending->mutex);
        if (!pending->handler) return;
      }
      MailResult r;
      try {
        r = transport->send(from, to, message);
      } catch (const std::exception& e) {  // a transport's bug must not end the process
        r = {MailResult::Status::Unknown, std::string("the mail transport failed: ") + e.what()};
      }
      std::lock_guard lock(pending->mutex);
      if (!pending->handler) return;  // the io_context shut down meanwhile: nothing of it to touch
      asio::post(pending->target, [pending, &sends, r = std::move(r)]() mutable {
        MailHandler handler;
        {
          std::lock_guard lock(pending->mutex);
          handler.swap(pending->handler);
          pending->work.reset();
          pending->target = {};  // nothing of the io_context stays in what the mail thread may drop last
        }
        sends.remove(pending);  // on the caller's thread: its io_context, and so the service, live
        if (handler) std::move(handler)(std::move(r));
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
