#pragma once
// Runs fn(i) for i in [0, count) with at most `limit` of them in flight, on the caller's
// executor (one thread: the shared cursor needs no lock). The first exception is rethrown once
// all have finished; fn should catch what it can handle itself.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <vector>

#include "safetynet/core/task.hpp"

namespace safetynet {

template <typename Fn>
Task<void> concurrently(size_t count, size_t limit, Fn fn) {
  if (count == 0) co_return;
  size_t next = 0;
  auto worker = [&]() -> Task<void> {
    while (next < count) co_await fn(next++);
  };
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, worker(), asio::deferred));
  std::vector<Op> ops;
  for (size_t i = 0; i < std::min(std::max<size_t>(limit, 1), count); ++i)
    ops.push_back(asio::co_spawn(ex, worker(), asio::deferred));
  auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                             .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace safetynet
