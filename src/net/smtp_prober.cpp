// The SMTP probe session on Asio coroutines. Each command gets command_timeout (raced with a
// timer), each connection attempt connect_timeout. TLS after STARTTLS is opportunistic (RFC 7435):
// an MX's certificate is not verified, because a probe sends nothing secret and a public MX "MUST
// NOT require" TLS (RFC 3207); verified TLS stays the rule for the platform and Slack APIs.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "safetynet/core/text.hpp"
#include "safetynet/net/public_address.hpp"
#include <boost/asio/write.hpp>

#include <cctype>

#include "safetynet/net/smtp_prober.hpp"

namespace safetynet {

using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using namespace asio::experimental::awaitable_operators;

std::string SmtpReply::line() const {
  if (code == 0) return text.empty() ? "no reply" : text;
  std::string s = std::to_string(code);
  if (!enhanced.empty()) s += " " + enhanced;
  if (!text.empty()) s += " " + text;
  return s;
}

bool tooManyRecipients(const SmtpReply& r) {
  // OpenSMTPD answers 451 4.5.3 (smtp_session.c, "451 %s %s: Too many recipients"): any temporary
  // code, and the 552 of older servers.
  // Not 421: the server is closing the session, and a new transaction cannot follow.
  if ((r.code / 100 != 4 && r.code != 552) || r.code == 421) return false;
  if (r.enhanced == "4.5.3" || r.enhanced == "5.5.3") return true;
  // The words alone only in RFC 5321's codes: Postfix's "450 4.7.1 Error: too many recipients
  // from <client>" is its rate limit per client (smtpd.c), which a new transaction does not lift.
  return (r.code == 452 || r.code == 552) && contains(asciiLower(r.text), "too many recipients");
}

std::optional<SmtpReply> parseSmtpReply(std::string_view raw) {
  SmtpReply r;
  size_t pos = 0;
  bool last = false;
  while (pos < raw.size() && !last) {
    size_t eol = raw.find('\n', pos);
    std::string_view line = raw.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? raw.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
        !std::isdigit(static_cast<unsigned char>(line[1])) || !std::isdigit(static_cast<unsigned char>(line[2])))
      return std::nullopt;
    // RFC 5321 4.2: the first digit 2 to 5, the second 0 to 5; anything else ("000", "025") is no
    // reply at all (and a code 0 would read as "no reply").
    if (line[0] < '2' || line[0] > '5' || line[1] > '5') return std::nullopt;
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r.code != 0 && code != r.code) return std::nullopt;
    r.code = code;
    last = line.size() == 3 || line[3] == ' ';
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return std::nullopt;
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
    // RFC 3463 enhanced code at the start of the text: class.subject.detail, class matching the reply.
    if (r.enhanced.empty() && text.size() >= 5 && text[0] == line[0] && text[1] == '.') {
      size_t i = 2, dots = 1;
      while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
        if (text[i] == '.') ++dots;
        ++i;
      }
      if (dots == 2 && (i == text.size() || text[i] == ' ')) {
        r.enhanced = std::string(text.substr(0, i));
        text = i < text.size() ? text.substr(i + 1) : std::string_view();
      }
    } else if (!r.enhanced.empty() && text.rfind(r.enhanced, 0) == 0) {
      text = text.size() > r.enhanced.size() ? text.substr(r.enhanced.size() + 1) : std::string_view();
    }
    if (!text.empty()) r.text += (r.text.empty() ? "" : " ") + std::string(text);
  }
  if (!last) return std::nullopt;
  return r;
}

namespace {

struct Timeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The send's deadline, not the server, ended the wait: nothing is learned about the address.
struct OutOfTime : Timeout {
  OutOfTime() : Timeout("no time left before the send") {}
};

class Session {
 public:
  Session(asio::any_io_executor ex, const SmtpProbeOptions& o, std::optional<std::chrono::steady_clock::time_point> end)
      : socket_(ex), o_(o), end_(end), tlsCtx_(ssl::context::tls_client) {
    tlsCtx_.set_verify_mode(ssl::verify_none);  // opportunistic: see the file comment
  }

  // A timeout, shortened so that nothing runs past the session's deadline.
  std::chrono::milliseconds limit(std::chrono::milliseconds t) {
    cutShort_ = false;
    if (!end_) return t;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*end_ - std::chrono::steady_clock::now());
    cutShort_ = left < t;
    return std::max(std::chrono::milliseconds(0), std::min(t, left));
  }
  // Whether the last timer set was shortened by the deadline: its expiry is ours, not the server's.
  bool cutShort() const { return cutShort_; }

  Task<bool> connect(const tcp::endpoint& ep, std::string* error) {
    asio::steady_timer t(socket_.get_executor(), limit(o_.connect_timeout));
    auto r = co_await (socket_.async_connect(ep, asio::as_tuple(asio::use_awaitable)) ||
                       t.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) {
      socket_.close();
      *error = cutShort() ? "no time left before the send" : "connect timeout";
      outOfTime_ = cutShort();
      co_return false;
    }
    auto [ec] = std::get<0>(r);
    if (ec) {
      *error = ec.message();
      socket_.close();
      co_return false;
    }
    co_return true;
  }

  Task<SmtpReply> read() {
    std::string raw;
    for (;;) {
      asio::steady_timer t(socket_.get_executor(), limit(o_.command_timeout));
      std::variant<std::tuple<boost::system::error_code, size_t>, std::tuple<boost::system::error_code>> r;
      if (tls_)
        r = co_await (asio::async_read_until(*tls_, buf_, "\n", asio::as_tuple(asio::use_awaitable)) ||
                      t.async_wait(asio::as_tuple(asio::use_awaitable)));
      else
        r = co_await (asio::async_read_until(socket_, buf_, "\n", asio::as_tuple(asio::use_awaitable)) ||
                      t.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (r.index() == 1) {
        if (cutShort()) throw OutOfTime();
        throw Timeout("no reply within " + std::to_string(o_.command_timeout.count() / 1000) + " s");
      }
      auto [ec, n] = std::get<0>(r);
      if (ec) throw std::runtime_error("connection lost: " + ec.message());
      std::string line(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
      buf_.consume(n);
      raw += line;
      if (raw.size() > 64 * 1024) throw std::runtime_error("reply too long");
      // The last line of a reply has a space (or nothing) after the code.
      if (line.size() < 4 || line[3] != '-') break;
    }
    auto reply = parseSmtpReply(raw);
    if (!reply) throw std::runtime_error("malformed reply: " + raw.substr(0, 80));
    co_return *reply;
  }

  Task<SmtpReply> command(const std::string& cmd) {
    const std::string wire = cmd + "\r\n";
    asio::steady_timer t(socket_.get_executor(), limit(o_.command_timeout));
    std::variant<std::tuple<boost::system::error_code, size_t>, std::tuple<boost::system::error_code>> r;
    if (tls_)
      r = co_await (asio::async_write(*tls_, asio::buffer(wire), asio::as_tuple(asio::use_awaitable)) ||
                    t.async_wait(asio::as_tuple(asio::use_awaitable)));
    else
      r = co_await (asio::async_write(socket_, asio::buffer(wire), asio::as_tuple(asio::use_awaitable)) ||
                    t.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) {
      if (cutShort()) throw OutOfTime();
      throw Timeout("write timeout");
    }
    if (auto [ec, n] = std::get<0>(r); ec) throw std::runtime_error("connection lost: " + ec.message());
    co_return co_await read();
  }

  Task<bool> startTls(const std::string& host) {
    tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, tlsCtx_);
    SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    asio::steady_timer t(socket_.get_executor(), limit(o_.command_timeout));
    auto r = co_await (tls_->async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable)) ||
                       t.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) {
      if (cutShort()) throw OutOfTime();
      throw Timeout("TLS handshake timeout");
    }
    if (auto [ec] = std::get<0>(r); ec) throw std::runtime_error("TLS handshake failed: " + ec.message());
    buf_.consume(buf_.size());
    co_return true;
  }

  // The connect timed out on the deadline, not the server.
  bool outOfTime() const { return outOfTime_; }

  // RFC 5321 4.1.1.10 / 3.1: a session ends with QUIT, also after a refusal (a server that greets
  // with 554 "MUST still wait for the client to send a QUIT"). Best effort: the server may
  // already be gone (a 421), and nothing it answers changes what was learned.
  Task<void> quit() {
    try {
      co_await command("QUIT");
    } catch (const std::exception&) {
    }
  }

  void close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  tcp::socket socket_;
  const SmtpProbeOptions& o_;
  std::optional<std::chrono::steady_clock::time_point> end_;
  ssl::context tlsCtx_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  asio::streambuf buf_{64 * 1024 + 1024};
  bool cutShort_ = false, outOfTime_ = false;
};

bool hasExtension(const SmtpReply& ehlo, const std::string& ext) {
  // EHLO lines were joined with spaces: look for the keyword as a word.
  std::string t = " " + ehlo.text + " ";
  for (auto& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return t.find(" " + ext + " ") != std::string::npos;
}

class AsioSmtpProber final : public SmtpProber {
 public:
  AsioSmtpProber(DnsResolverPtr dns, SmtpProbeOptions o) : dns_(std::move(dns)), o_(std::move(o)) {}

  Task<ProbeSession> probe(std::vector<std::string> hosts, std::string catchAll, std::vector<std::string> recipients,
                           std::optional<TimePoint> deadline) override {
    ProbeSession s;
    auto ex = co_await asio::this_coro::executor;
    std::optional<std::chrono::steady_clock::time_point> end;
    if (deadline) end = std::chrono::steady_clock::now() + (*deadline - Clock::now());
    for (const auto& host : hosts) {
      std::vector<std::string> ips;
      boost::system::error_code literal;
      asio::ip::make_address(host, literal);
      if (!literal) {
        ips.push_back(host);
      } else {
        for (auto type : {DnsType::A, DnsType::AAAA}) {
          DnsAnswer a = co_await dns_->query(host, type);
          ips.insert(ips.end(), a.values.begin(), a.values.end());
        }
        if (ips.empty()) s.unreachable.push_back(host + ": no address");
      }
      for (const auto& ip : ips) {
        if (auto why = o_.public_only ? nonPublicAddress(ip) : std::nullopt) {
          s.unreachable.push_back(host + " (" + ip + "): not probed, " + *why + " address");
          continue;
        }
        if (end && std::chrono::steady_clock::now() >= *end) {
          s.error = "no time left before the send";
          s.timed_out = s.out_of_time = true;
          co_return s;
        }
        Session session(ex, o_, end);
        std::string err;
        tcp::endpoint ep(asio::ip::make_address(ip), static_cast<unsigned short>(o_.port));
        if (!co_await session.connect(ep, &err)) {
          s.unreachable.push_back(host + " (" + ip + "): " + err);
          if (session.outOfTime()) {
            s.error = "no time left before the send";
            s.timed_out = s.out_of_time = true;
            co_return s;
          }
          continue;
        }
        s.host = host;
        s.ip = ip;
        co_await converse(session, host, catchAll, recipients, s);
        session.close();
        co_return s;
      }
    }
    s.error = "no MX host could be reached";
    co_return s;
  }

 private:
  Task<void> converse(Session& c, const std::string& host, const std::string& catchAll,
                      const std::vector<std::string>& recipients, ProbeSession& s) {
    std::string failure;
    bool timedOut = false, outOfTime = false;
    try {
      SmtpReply greeting = co_await c.read();
      if (greeting.code != 220) {
        s.refused_us = greeting.code >= 500;
        s.refusal = greeting;
        s.error = "greeting: " + greeting.line();
        if (greeting.code != 421) co_await c.quit();  // 421: the server is closing
        co_return;
      }
      SmtpReply hello = co_await c.command("EHLO " + o_.helo);
      if (hello.code >= 500) hello = co_await c.command("HELO " + o_.helo);
      if (hello.code != 250) {
        s.refused_us = hello.code >= 500;
        s.refusal = hello;
        s.error = "HELO: " + hello.line();
        if (hello.code != 421) co_await c.quit();
        co_return;
      }
      if (o_.starttls && hasExtension(hello, "STARTTLS")) {
        SmtpReply st = co_await c.command("STARTTLS");
        if (st.code == 220 && co_await c.startTls(host)) {
          s.tls = true;
          hello = co_await c.command("EHLO " + o_.helo);
          if (hello.code != 250) {
            s.error = "EHLO after STARTTLS: " + hello.line();
            if (hello.code != 421) co_await c.quit();
            co_return;
          }
        }
      }
      const bool utf8 = hasExtension(hello, "SMTPUTF8");
      s.smtputf8 = utf8;
      SmtpReply mail = co_await c.command("MAIL FROM:<" + o_.mail_from + ">" + (utf8 ? " SMTPUTF8" : ""));
      if (mail.code != 250) {
        s.refused_us = mail.code >= 500;
        s.refusal = mail;
        s.error = "MAIL FROM: " + mail.line();
        if (mail.code != 421) co_await c.quit();
        co_return;
      }
      if (!catchAll.empty()) {
        // Two statements: g++ 12 destroys a co_await result inside a braced initialiser twice.
        SmtpReply probe = co_await c.command("RCPT TO:<" + catchAll + ">");
        s.catch_all = RcptReply{catchAll, probe};
      }
      // RFC 5321 4.5.3.1.10: recipients past the server's limit per transaction go in a new one
      // (RSET, MAIL FROM again); a limit met by a new transaction's first recipient ends the
      // session, and the recipients left are not asked (nothing learned about them).
      bool freshTransaction = catchAll.empty();
      for (size_t i = 0; i < recipients.size(); ++i) {
        const std::string& r = recipients[i];
        if (!utf8 && !isAscii(r)) continue;  // undeliverable there: the check says so (RFC 6531 3.2)
        SmtpReply reply = co_await c.command("RCPT TO:<" + r + ">");
        if (tooManyRecipients(reply)) {
          SmtpReply rset, again;
          if (!freshTransaction) rset = co_await c.command("RSET");
          if (rset.code == 250) again = co_await c.command("MAIL FROM:<" + o_.mail_from + ">" + (utf8 ? " SMTPUTF8" : ""));
          if (again.code != 250) {
            s.error = "the server takes no more recipients in this session: " + reply.line();
            co_await c.quit();
            co_return;
          }
          freshTransaction = true;
          --i;  // asked again in the new transaction
          continue;
        }
        freshTransaction = false;
        s.rcpts.push_back(RcptReply{r, reply});
        if (reply.code == 421) {  // the server is closing the session: the rest stay unasked
          s.error = "the server closed the session: " + reply.line();
          co_return;
        }
      }
      co_await c.command("QUIT");  // never DATA
    } catch (const OutOfTime& e) {
      failure = e.what();
      timedOut = outOfTime = true;
    } catch (const Timeout& e) {
      failure = e.what();
      timedOut = true;
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty() && s.error.empty() && s.rcpts.size() < recipients.size()) {
      s.error = failure;
      s.timed_out = timedOut;
      s.out_of_time = outOfTime;
    }
  }

  DnsResolverPtr dns_;
  SmtpProbeOptions o_;
};

}  // namespace

SmtpProberPtr makeSmtpProber(DnsResolverPtr dns, SmtpProbeOptions options) {
  return std::make_shared<AsioSmtpProber>(std::move(dns), std::move(options));
}

}  // namespace safetynet
