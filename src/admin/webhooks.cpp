#include "admin/webhooks.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "safetynet/core/hash.hpp"
#include "safetynet/core/text.hpp"

namespace safetynet::admin {

namespace {

std::string hmacHex(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &n))
    return {};
  return hexOf(out, n);
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Close's signature key is given as hex; the HMAC key is its bytes.
std::optional<std::string> hexBytes(const std::string& hex) {
  if (hex.empty() || hex.size() % 2) return std::nullopt;
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hexValue(hex[i]), lo = hexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes += static_cast<char>(hi * 16 + lo);
  }
  return bytes;
}

// A signature header's value without the blanks a proxy may leave around it.
std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

bool sameHex(const std::string& expected, std::string given) {
  given = asciiLower(trimmed(std::move(given)));
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

// Outreach and Salesloft sign the raw body alone, each with its own header and hash.
struct BodySigned {
  const char* type;
  const char* header;  // lower case, as AdminHttpRequest keeps them
  const char* shown;   // as the platform's docs spell it
  const EVP_MD* (*md)();
  const char* secret;  // what the platform calls the secret
};
constexpr BodySigned kBodySigned[] = {
    {"outreach", "outreach-webhook-signature", "Outreach-Webhook-Signature", EVP_sha256, "secret"},
    {"salesloft", "x-salesloft-signature", "x-salesloft-signature", EVP_sha1, "callback_token"},
};

// Salesloft's API spec (Subscription.callback_token): "SalesLoft will include this token in the
// webhook event payload when calling your callback_url". The payload's top level, or its "meta".
std::string payloadToken(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return {};
  for (const auto* where : {&j, j.contains("meta") ? &j["meta"] : nullptr})
    if (where && where->is_object())
      if (auto it = where->find("callback_token"); it != where->end() && it->is_string()) return it->get<std::string>();
  return {};
}

bool sameSecret(const std::string& expected, const std::string& given) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

std::optional<std::string> verifyWebhook(const std::string& type, const Secret& secret, const AdminHttpRequest& r) {
  if (secret.empty()) return std::string("no webhook secret is configured");
  const std::string& key = secret.reveal();
  if (type == "close") {
    const auto keyBytes = hexBytes(key);
    if (!keyBytes) return std::string("the configured signature_key is not hex");
    const std::string hash = r.header("close-sig-hash"), timestamp = r.header("close-sig-timestamp");
    if (hash.empty() || timestamp.empty()) return std::string("no close-sig-hash and close-sig-timestamp headers");
    if (!sameHex(hmacHex(EVP_sha256(), *keyBytes, timestamp + r.body), hash))
      return std::string("close-sig-hash does not match the body (wrong signature_key?)");
    return std::nullopt;
  }
  for (const BodySigned& scheme : kBodySigned) {
    if (type != scheme.type) continue;
    const std::string sig = r.header(scheme.header);
    if (sig.empty() && type == std::string("salesloft")) {
      // No signature header: the token in the payload, as Salesloft's spec describes it.
      const std::string token = payloadToken(r.body);
      if (token.empty()) return std::string("no x-salesloft-signature header and no callback_token in the payload");
      if (!sameSecret(key, token)) return std::string("the payload's callback_token is not the configured one");
      return std::nullopt;
    }
    if (sig.empty()) return "no " + std::string(scheme.shown) + " header";
    if (!sameHex(hmacHex(scheme.md(), key, r.body), sig))
      return std::string(scheme.shown) + " does not match the body (wrong " + scheme.secret + "?)";
    return std::nullopt;
  }
  return "connectors of type \"" + type + "\" take no webhooks";
}

}  // namespace safetynet::admin
