// c-ares 1.18 driven by Asio (the Envoy/yass pattern): ARES_OPT_SOCK_STATE_CB tells us which
// sockets to watch; a posix::stream_descriptor per socket waits for readiness and calls
// ares_process_fd; one steady_timer follows ares_timeout(). Descriptors are release()d, never
// closed: the sockets belong to c-ares.
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "safetynet/metrics/metrics.hpp"
#include "safetynet/net/dns.hpp"

namespace safetynet {

std::string_view toString(DnsStatus s) {
  switch (s) {
    case DnsStatus::Ok: return "ok";
    case DnsStatus::NxDomain: return "NXDOMAIN";
    case DnsStatus::NoData: return "NODATA";
    case DnsStatus::TempFail: return "TEMPFAIL";
  }
  return "?";
}

namespace {

constexpr std::chrono::seconds kDefaultNegativeTtl{300};

struct Pending {
  explicit Pending(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;
  DnsAnswer answer;
  DnsType type = DnsType::A;
  bool finished = false;
};

// TTLs with glibc's libresolv message parser: the minimum TTL of the answer section, or for a
// negative answer min(SOA TTL, SOA minimum) from the authority section (RFC 2308 5).
std::chrono::seconds answerTtl(const unsigned char* abuf, int alen, bool negative) {
  ns_msg msg;
  if (!abuf || alen <= 0 || ns_initparse(abuf, alen, &msg) < 0) return negative ? kDefaultNegativeTtl : std::chrono::seconds(0);
  if (!negative) {
    uint32_t best = UINT32_MAX;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
      ns_rr rr;
      if (ns_parserr(&msg, ns_s_an, i, &rr) == 0) best = std::min<uint32_t>(best, ns_rr_ttl(rr));
    }
    return std::chrono::seconds(best == UINT32_MAX ? 0 : best);
  }
  for (int i = 0; i < ns_msg_count(msg, ns_s_ns); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_ns, i, &rr) != 0 || ns_rr_type(rr) != ns_t_soa || ns_rr_rdlen(rr) < 4) continue;
    const unsigned char* minimum = ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4;  // SOA MINIMUM is the last field
    uint32_t soaMin = ns_get32(minimum);
    return std::chrono::seconds(std::min<uint32_t>(ns_rr_ttl(rr), soaMin));
  }
  return kDefaultNegativeTtl;
}

void parseInto(DnsAnswer& out, DnsType type, const unsigned char* abuf, int alen) {
  int rc = ARES_SUCCESS;
  char text[INET6_ADDRSTRLEN];
  switch (type) {
    case DnsType::MX: {
      ares_mx_reply* mx = nullptr;
      rc = ares_parse_mx_reply(abuf, alen, &mx);
      for (auto* r = mx; rc == ARES_SUCCESS && r; r = r->next) {
        std::string host = r->host ? r->host : "";
        if (host == ".") host.clear();
        out.mx.push_back(MxRecord{r->priority, host});
      }
      if (mx) ares_free_data(mx);
      std::stable_sort(out.mx.begin(), out.mx.end(),
                       [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
      break;
    }
    case DnsType::A: {
      ares_addrttl ttls[32];
      int n = 32;
      rc = ares_parse_a_reply(abuf, alen, nullptr, ttls, &n);
      for (int i = 0; rc == ARES_SUCCESS && i < n; ++i)
        if (inet_ntop(AF_INET, &ttls[i].ipaddr, text, sizeof text)) out.values.push_back(text);
      break;
    }
    case DnsType::AAAA: {
      ares_addr6ttl ttls[32];
      int n = 32;
      rc = ares_parse_aaaa_reply(abuf, alen, nullptr, ttls, &n);
      for (int i = 0; rc == ARES_SUCCESS && i < n; ++i)
        if (inet_ntop(AF_INET6, &ttls[i].ip6addr, text, sizeof text)) out.values.push_back(text);
      break;
    }
    case DnsType::TXT: {
      ares_txt_ext* txt = nullptr;
      rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
      for (auto* r = txt; rc == ARES_SUCCESS && r; r = r->next) {
        std::string chunk(reinterpret_cast<const char*>(r->txt), r->length);
        if (r->record_start || out.values.empty()) out.values.push_back(chunk);
        else out.values.back() += chunk;
      }
      if (txt) ares_free_data(txt);
      break;
    }
  }
  if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && out.values.empty() && out.mx.empty())) {
    out.status = DnsStatus::NoData;  // e.g. only a CNAME to a name without this type
    out.ttl = answerTtl(abuf, alen, true);
  } else if (rc != ARES_SUCCESS) {
    out.status = DnsStatus::TempFail;
    out.error = std::string("malformed answer: ") + ares_strerror(rc);
  } else {
    out.status = DnsStatus::Ok;
    out.ttl = answerTtl(abuf, alen, false);
  }
}

std::string_view dnsTypeName(DnsType t) {
  switch (t) {
    case DnsType::A: return "A";
    case DnsType::AAAA: return "AAAA";
    case DnsType::MX: return "MX";
    case DnsType::TXT: return "TXT";
  }
  return "?";
}

int qtypeOf(DnsType t) {
  switch (t) {
    case DnsType::A: return ns_t_a;
    case DnsType::AAAA: return ns_t_aaaa;
    case DnsType::MX: return ns_t_mx;
    case DnsType::TXT: return ns_t_txt;
  }
  return ns_t_a;
}

class CaresResolver final : public DnsResolver {
 public:
  CaresResolver(asio::any_io_executor ex, const DnsOptions& o) : ex_(ex), timer_(ex) {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    opts.sock_state_cb = &CaresResolver::onSocketState;
    opts.sock_state_cb_data = this;
    opts.timeout = static_cast<int>(o.timeout.count());
    opts.tries = o.tries;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (int rc = ares_init_options(&channel_, &opts, mask); rc != ARES_SUCCESS)
      throw std::runtime_error(std::string("c-ares init: ") + ares_strerror(rc));
    if (!o.servers.empty()) {
      std::string csv;
      for (const auto& s : o.servers) csv += (csv.empty() ? "" : ",") + s;
      if (int rc = ares_set_servers_ports_csv(channel_, csv.c_str()); rc != ARES_SUCCESS) {
        ares_destroy(channel_);
        throw std::runtime_error("dns.servers \"" + csv + "\": " + ares_strerror(rc));
      }
    }
  }

  ~CaresResolver() override {
    timer_.cancel();
    ares_destroy(channel_);  // completes outstanding queries with ARES_EDESTRUCTION
    for (auto& [fd, w] : watchers_) {
      w->desc.cancel();
      w->desc.release();
    }
  }

  Task<DnsAnswer> query(std::string name, DnsType type) override {
    const auto started = std::chrono::steady_clock::now();
    auto p = std::make_shared<Pending>(ex_);
    p->type = type;
    ares_query(channel_, name.c_str(), ns_c_in, qtypeOf(type), &CaresResolver::onAnswer,
               new std::shared_ptr<Pending>(p));
    armTimer();
    if (!p->finished) co_await p->done.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!p->finished) {
      p->answer.status = DnsStatus::TempFail;
      p->answer.error = "cancelled";
    }
    const std::string_view typeName = dnsTypeName(type);
    metrics::Instruments& m = metrics::instruments();
    m.dns_queries.with({typeName, toString(p->answer.status)}).inc();
    m.dns_duration.with({typeName}).observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    co_return p->answer;
  }

 private:
  struct Watcher {
    explicit Watcher(asio::any_io_executor ex, int fd) : desc(ex, fd) {}
    asio::posix::stream_descriptor desc;
    bool wantRead = false, wantWrite = false, reading = false, writing = false, closed = false;
  };

  static void onAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<std::shared_ptr<Pending>> holder(static_cast<std::shared_ptr<Pending>*>(arg));
    Pending& p = **holder;
    switch (status) {
      case ARES_SUCCESS: parseInto(p.answer, p.type, abuf, alen); break;
      case ARES_ENODATA:
        p.answer.status = DnsStatus::NoData;
        p.answer.ttl = answerTtl(abuf, alen, true);
        break;
      case ARES_ENOTFOUND:
        p.answer.status = DnsStatus::NxDomain;
        p.answer.ttl = answerTtl(abuf, alen, true);
        break;
      default:
        p.answer.status = DnsStatus::TempFail;
        p.answer.error = ares_strerror(status);
    }
    p.finished = true;
    p.done.cancel();
  }

  static void onSocketState(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<CaresResolver*>(data)->socketState(fd, readable != 0, writable != 0);
  }

  void socketState(int fd, bool readable, bool writable) {
    auto it = watchers_.find(fd);
    if (!readable && !writable) {
      if (it != watchers_.end()) {
        it->second->closed = true;
        it->second->desc.cancel();
        it->second->desc.release();  // c-ares closes the socket itself right after this call
        watchers_.erase(it);
      }
      return;
    }
    if (it == watchers_.end()) it = watchers_.emplace(fd, std::make_shared<Watcher>(ex_, fd)).first;
    auto w = it->second;
    w->wantRead = readable;
    w->wantWrite = writable;
    arm(fd, w);
  }

  void arm(int fd, const std::shared_ptr<Watcher>& w) {
    if (w->wantRead && !w->reading) {
      w->reading = true;
      w->desc.async_wait(asio::posix::stream_descriptor::wait_read, [this, fd, w](boost::system::error_code ec) {
        w->reading = false;
        if (ec || w->closed) return;
        ares_process_fd(channel_, fd, ARES_SOCKET_BAD);
        if (!w->closed) arm(fd, w);
        armTimer();
      });
    }
    if (w->wantWrite && !w->writing) {
      w->writing = true;
      w->desc.async_wait(asio::posix::stream_descriptor::wait_write, [this, fd, w](boost::system::error_code ec) {
        w->writing = false;
        if (ec || w->closed) return;
        ares_process_fd(channel_, ARES_SOCKET_BAD, fd);
        if (!w->closed) arm(fd, w);
        armTimer();
      });
    }
  }

  void armTimer() {
    timeval tv{};
    if (!ares_timeout(channel_, nullptr, &tv)) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles retries and timeouts
      armTimer();
    });
  }

  asio::any_io_executor ex_;
  asio::steady_timer timer_;
  ares_channel channel_ = nullptr;
  std::map<int, std::shared_ptr<Watcher>> watchers_;
};

}  // namespace

DnsResolverPtr makeCaresResolver(asio::any_io_executor ex, const DnsOptions& options) {
  return std::make_shared<CaresResolver>(std::move(ex), options);
}

}  // namespace safetynet
