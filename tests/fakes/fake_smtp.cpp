#include "fakes/fake_smtp.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fstream>

namespace safetynet::fakes {

using tcp = asio::ip::tcp;

struct FakeSmtp::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor e, std::filesystem::path dir)
      : ex(e), acceptor(e, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), maildir(std::move(dir)) {
    for (const char* sub : {"new", "cur", "tmp"}) std::filesystem::create_directories(maildir / sub);
  }
  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  std::filesystem::path maildir;
  mutable std::mutex mu;
  std::vector<ReceivedMail> mails;
  int delivered = 0;

  static Task<void> accept(std::shared_ptr<Impl> self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(self->ex, session(self, std::move(socket)), asio::detached);
    }
  }

  static Task<bool> reply(tcp::socket& s, const std::string& line) {
    const std::string out = line + "\r\n";
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  // Maildir delivery: written in tmp/, then renamed into new/ (the Maildir rule).
  std::string deliver(const ReceivedMail& m) {
    const std::string name = "demo." + std::to_string(++delivered) + ".safetynet-sandbox";
    std::ofstream(maildir / "tmp" / name, std::ios::binary) << m.data;
    std::filesystem::rename(maildir / "tmp" / name, maildir / "new" / name);
    return (maildir / "new" / name).string();
  }

  static Task<void> session(std::shared_ptr<Impl> self, tcp::socket s) {
    std::string buffer;
    ReceivedMail m;
    if (!co_await reply(s, "220 localhost ESMTP safetynet sandbox")) co_return;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buffer), "\r\n", asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      const std::string line = buffer.substr(0, n - 2);
      buffer.erase(0, n);
      std::string verb = line.substr(0, line.find(' '));
      for (auto& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const auto arg = [&] {
        const auto lt = line.find('<'), gt = line.rfind('>');
        return lt == std::string::npos || gt < lt ? std::string() : line.substr(lt + 1, gt - lt - 1);
      };
      std::string answer;
      if (verb == "EHLO") answer = "250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8";
      else if (verb == "HELO") answer = "250 localhost";
      else if (verb == "MAIL") {
        m = ReceivedMail{arg(), {}, "", ""};
        answer = "250 2.1.0 Ok";
      } else if (verb == "RCPT") {
        m.to.push_back(arg());
        answer = "250 2.1.5 Ok";
      } else if (verb == "DATA") {
        if (!co_await reply(s, "354 End data with <CR><LF>.<CR><LF>")) co_return;
        auto [dec, dn] = co_await asio::async_read_until(s, asio::dynamic_buffer(buffer), "\r\n.\r\n",
                                                         asio::as_tuple(asio::use_awaitable));
        if (dec) co_return;
        std::string data = buffer.substr(0, dn - 3);
        buffer.erase(0, dn);
        for (size_t at = 0; (at = data.find("\r\n..", at)) != std::string::npos; at += 3) data.erase(at + 2, 1);
        if (data.rfind("..", 0) == 0) data.erase(0, 1);
        m.data = std::move(data);
        {
          std::lock_guard l(self->mu);
          m.file = self->deliver(m);
          self->mails.push_back(m);
        }
        answer = "250 2.0.0 Ok: queued as SANDBOX" + std::to_string(self->delivered);
      } else if (verb == "RSET" || verb == "NOOP") answer = "250 2.0.0 Ok";
      else if (verb == "QUIT") {
        co_await reply(s, "221 2.0.0 Bye");
        co_return;
      } else answer = "502 5.5.2 Error: command not recognized";
      if (!co_await reply(s, answer)) co_return;
    }
  }
};

FakeSmtp::FakeSmtp(asio::any_io_executor ex, std::filesystem::path maildir)
    : impl_(std::make_shared<Impl>(ex, std::move(maildir))) {
  asio::co_spawn(ex, Impl::accept(impl_), asio::detached);
}

FakeSmtp::~FakeSmtp() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

unsigned short FakeSmtp::port() const { return impl_->acceptor.local_endpoint().port(); }

std::vector<ReceivedMail> FakeSmtp::received() const {
  std::lock_guard l(impl_->mu);
  return impl_->mails;
}

}  // namespace safetynet::fakes
