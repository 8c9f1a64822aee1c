// A TTL-respecting cache in front of a resolver. Concurrent look-ups of the same name share one
// query (many recipients at one domain arrive together).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

#include "safetynet/net/dns.hpp"

namespace safetynet {

namespace {

class CachingResolver final : public DnsResolver {
 public:
  CachingResolver(DnsResolverPtr inner, std::chrono::seconds min_ttl, std::chrono::seconds max_ttl)
      : inner_(std::move(inner)), min_(min_ttl), max_(max_ttl) {}

  Task<DnsAnswer> query(std::string name, DnsType type) override {
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const Key key{name, type};
    const auto now = std::chrono::steady_clock::now();
    if (auto it = cache_.find(key); it != cache_.end()) {
      if (it->second.expires > now) co_return it->second.answer;
      cache_.erase(it);
    }
    if (auto it = inflight_.find(key); it != inflight_.end()) {
      auto waiter = it->second;  // wait for the query already on its way
      co_await waiter->done.async_wait(asio::as_tuple(asio::use_awaitable));
      if (waiter->ready) co_return waiter->answer;
    }
    auto flight = std::make_shared<Flight>(co_await asio::this_coro::executor);
    inflight_[key] = flight;
    DnsAnswer a = co_await inner_->query(name, type);
    inflight_.erase(key);
    flight->answer = a;
    flight->ready = true;
    flight->done.cancel();
    if (a.status != DnsStatus::TempFail) {
      auto ttl = std::clamp(a.ttl, min_, max_);
      if (cache_.size() >= kMaxEntries) prune();
      cache_[key] = Entry{a, std::chrono::steady_clock::now() + ttl};
    }
    co_return a;
  }

 private:
  static constexpr size_t kMaxEntries = 200'000;  // ~50 MB at worst; a daemon must not grow forever

  // Drops expired entries; if that frees too little, drops everything (a cold cache is only slower).
  void prune() {
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.expires <= now; });
    if (cache_.size() >= kMaxEntries * 9 / 10) cache_.clear();
  }

  using Key = std::pair<std::string, DnsType>;
  struct Entry {
    DnsAnswer answer;
    std::chrono::steady_clock::time_point expires;
  };
  struct Flight {
    explicit Flight(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer done;
    DnsAnswer answer;
    bool ready = false;
  };
  DnsResolverPtr inner_;
  std::chrono::seconds min_, max_;
  std::map<Key, Entry> cache_;
  std::map<Key, std::shared_ptr<Flight>> inflight_;
};

}  // namespace

DnsResolverPtr makeCachingResolver(DnsResolverPtr inner, std::chrono::seconds min_ttl, std::chrono::seconds max_ttl) {
  return std::make_shared<CachingResolver>(std::move(inner), min_ttl, max_ttl);
}

}  // namespace safetynet
