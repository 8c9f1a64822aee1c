// SMTP submission with libcurl's easy interface (blocking: called off the event loop's thread).
// Only the server's answers are kept for messages, never what we send (AUTH carries the password).
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "safetynet/notify/mail_transport.hpp"

namespace safetynet {

namespace {

struct Upload {
  std::string data;
  size_t pos = 0;
  bool done = false;           // every byte of the message handed to curl
  bool answeredAfter = false;  // the server said something after that (its verdict on the message)
  std::string lastAnswer;
  std::string lastRefusal;  // the last 4xx/5xx: what went wrong (the QUIT's 221 comes after it)
};

size_t readBody(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t len = std::min(size * n, u->data.size() - u->pos);
  std::memcpy(buf, u->data.data() + u->pos, len);
  u->pos += len;
  if (len == 0) u->done = true;
  return len;
}

int onDebug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;  // never CURLINFO_HEADER_OUT: AUTH is in there
  auto* u = static_cast<Upload*>(user);
  std::string line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  u->lastAnswer = line;
  if (!line.empty() && (line[0] == '4' || line[0] == '5')) u->lastRefusal = line;
  if (u->done) u->answeredAfter = true;
  return 0;
}

std::string crlf(const std::string& in) {
  std::string out;
  out.reserve(in.size() + in.size() / 40);
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) out += '\r';
    out += in[i];
  }
  return out;
}

std::string domainOf(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

class SmtpTransport final : public MailTransport {
 public:
  explicit SmtpTransport(EmailConfig c) : c_(std::move(c)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  std::string_view name() const override { return "smtp"; }

  MailResult send(const std::string& from, const std::vector<std::string>& to, const std::string& message) override {
    MailResult r;
    CURL* curl = curl_easy_init();
    if (!curl) {
      r.detail = "libcurl could not start a transfer";
      return r;
    }
    Upload up;
    up.data = crlf(message);
    char errbuf[CURL_ERROR_SIZE] = {0};
    const std::string host = c_.host.find(':') != std::string::npos ? "[" + c_.host + "]" : c_.host;
    const std::string url = std::string(c_.tls == "implicit" ? "smtps://" : "smtp://") + host + ":" +
                            std::to_string(c_.port) + "/" + (c_.helo.empty() ? domainOf(from) : c_.helo);
    const std::string mailFrom = "<" + from + ">";
    curl_slist* rcpts = nullptr;
    for (const auto& a : to) rcpts = curl_slist_append(rcpts, ("<" + a + ">").c_str());
    const long timeoutMs = static_cast<long>(c_.timeout.count());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_USE_SSL, c_.tls == "none" ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!c_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c_.ca_file.c_str());
    if (!c_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, c_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, c_.password.reveal().c_str());
      // Over TLS (or to a loopback relay) the plain mechanisms are what submission servers offer.
      curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN;AUTH=LOGIN");
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mailFrom.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, readBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(up.data.size()));
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeoutMs, 10000L));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeoutMs);
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, onDebug);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &up);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);  // feeds onDebug only (no stderr with a debug function)

    const CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(curl);

    const std::string where = c_.host + ":" + std::to_string(c_.port);
    const std::string& answer = up.lastRefusal.empty() ? up.lastAnswer : up.lastRefusal;
    const std::string said = answer.empty() ? "" : " (" + answer + ")";
    if (rc == CURLE_OK) {
      r.status = MailResult::Status::Sent;
      r.detail = where + ": " + up.lastAnswer;
      return r;
    }
    const std::string why = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    if (rc == CURLE_LOGIN_DENIED) {
      r.detail = where + " refused the login" + said + ": check notify.email.username and password";
    } else if (code >= 500 && code < 600 && (rc == CURLE_SEND_ERROR || rc == CURLE_WEIRD_SERVER_REPLY)) {
      // Refused the sender, a recipient or the message itself for good.
      r.status = MailResult::Status::PermFail;
      r.detail = where + " refused it: " + answer;
    } else if (up.done && !up.answeredAfter) {
      // The message went out and no verdict came back: it may have been taken.
      r.status = MailResult::Status::Unknown;
      r.detail = where + ": no answer after the message was sent: " + why;
    } else {
      r.detail = where + ": " + why + said;
    }
    return r;
  }

 private:
  EmailConfig c_;
};

}  // namespace

MailTransportPtr makeSmtpTransport(const EmailConfig& config) { return std::make_shared<SmtpTransport>(config); }

}  // namespace safetynet
