#pragma once
// Every asynchronous operation in safetynet is a coroutine on one io_context.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>

namespace safetynet {

namespace asio = boost::asio;

template <typename T = void>
using Task = asio::awaitable<T>;

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

}  // namespace safetynet
