#pragma once
// Platform webhooks on the admin API's listener (POST /webhooks/{connector}): Close, Outreach and
// Salesloft each sign a delivery with the secret of its subscription. A delivery whose signature
// verifies only makes the daemon list that connector at once; what the payload says is not
// trusted nor needed (the listing reads the email from the platform's API), so a replayed or
// reordered delivery costs one incremental listing and nothing else.
//
//   close      close-sig-hash = hex HMAC-SHA256(key = hex-decoded signature_key,
//                                               close-sig-timestamp + body)
//   outreach   Outreach-Webhook-Signature = hex HMAC-SHA256(key = secret, body)
//   salesloft  x-salesloft-signature = hex HMAC-SHA1(key = callback_token, body)
//
// Sources: notes/platforms.md (Outreach, Salesloft), Close's webhook docs (the signature headers
// and the hex key); docs/connectors/*.md say how to subscribe.
#include <optional>
#include <string>

#include "safetynet/config/secret.hpp"
#include "safetynet/net/admin_server.hpp"

namespace safetynet::admin {

// nullopt when `r` carries a valid signature of its body for a webhook of a connector of `type`
// (close | outreach | salesloft) subscribed with `secret`; else why not. The reason never
// contains the secret or the expected signature. Compared in constant time.
std::optional<std::string> verifyWebhook(const std::string& type, const Secret& secret, const AdminHttpRequest& r);

// What the daemon answers a delivery: 200, 401 (signature), 404 (no such connector takes them).
struct WebhookOutcome {
  int status = 200;
  std::string error;
};

}  // namespace safetynet::admin
