#pragma once
// Email alerts (notify.email): a rep's held email to the rep's address (or, when none is known,
// to admin_to, saying so); the admins' messages and the digest to admin_to. The message is built
// with GMime (email_message.hpp) and handed to a MailTransport on a worker thread, so the event
// loop never waits on a mail server.
#include "safetynet/config/config.hpp"
#include "safetynet/notify/mail_transport.hpp"
#include "safetynet/notify/notifier.hpp"

namespace safetynet {

class EmailNotifier final : public Notifier {
 public:
  EmailNotifier(EmailConfig config, MailTransportPtr transport);
  std::string_view kind() const override { return "email"; }
  // The addresses, comma-separated: the rep's, or admin_to (payload "audience": "admin", or a rep
  // with no address known).
  Task<Target> resolveTarget(const nlohmann::json& payload) override;
  // SMTP cannot be asked whether a message arrived: always nullopt. A resend after a crash carries
  // the same Message-ID (and bytes), which is how a reader or a filter recognises it.
  Task<std::optional<std::string>> findDelivered(const std::string& destination, const std::string& dedupe_key) override;
  Task<DeliveryResult> post(const std::string& destination, const std::string& dedupe_key,
                            const nlohmann::json& payload) override;

 private:
  EmailConfig config_;
  MailTransportPtr transport_;
};

// The transport notify.email.transport names.
MailTransportPtr makeMailTransport(const EmailConfig& config);

}  // namespace safetynet
