#pragma once
// Runs a coroutine to completion on a fresh io_context (unit tests).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "safetynet/core/task.hpp"

namespace safetynet::testing {

template <typename T>
T runTask(asio::io_context& io, Task<T> task) {
  // Runs until this task is done, even if other work (a fake server's accept loop) remains.
  auto f = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
  return f.get();
}

template <typename T>
T runTask(Task<T> task) {
  asio::io_context io;
  return runTask(io, std::move(task));
}

template <typename T>
Task<T> ready(T value) {
  co_return value;
}

}  // namespace safetynet::testing
