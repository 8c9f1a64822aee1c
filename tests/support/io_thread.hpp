#pragma once
// An io_context on its own thread, for servers and proxies that a test runs beside the code it
// tests (which may run its own io_context on the test's thread, or be another process).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "safetynet/core/task.hpp"  // the asio alias

namespace safetynet::testing {

class IoThread {
 public:
  IoThread() : thread_([this] { io_.run(); }) {}
  ~IoThread() { stop(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  asio::io_context& io() { return io_; }
  // Runs `close` on the loop (closing sockets and acceptors: their waits end), then stops.
  void closeThenStop(const std::function<void()>& close) {
    if (!thread_.joinable()) return;
    std::promise<void> done;
    asio::post(io_, [&] {
      close();
      done.set_value();
    });
    done.get_future().wait_for(std::chrono::seconds(5));
    stop();
  }
  // Stops the loop and joins the thread; what was in flight is abandoned.
  void stop() {
    if (!thread_.joinable()) return;
    guard_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::thread thread_;
};

}  // namespace safetynet::testing
