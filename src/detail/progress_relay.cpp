#include "progress_relay.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace boost_curl::detail {
namespace asio = boost::asio;

namespace {
constexpr std::chrono::milliseconds progress_interval{100};
}

void progress_relay::target(asio::any_io_executor io, asio::any_completion_executor handler_executor) {
  io_ = std::move(io);
  handler_executor_ = std::move(handler_executor);
}

bool progress_relay::update(const transfer_progress& p, bool final) noexcept {
  std::lock_guard lock(mutex_);
  latest_ = p;
  if (final || posted_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_post_ < progress_interval) return false;
  posted_ = true;
  last_post_ = now;
  return true;
}

void progress_relay::deliver(bool post) {
  auto f = [self = shared_from_this()] { self->call(); };
  if (post)
    asio::post(io_, asio::bind_executor(handler_executor_, std::move(f)));
  else
    asio::dispatch(handler_executor_, std::move(f));
}

void progress_relay::call() {
  std::lock_guard calling(calling_);
  transfer_progress p;
  {
    std::lock_guard lock(mutex_);
    posted_ = false;
    p = latest_;
  }
  if (finished_) return;  // the handler ran, or is about to: no call after the final one
  callback_(p);
}

void progress_relay::finish() {
  std::lock_guard calling(calling_);
  finished_ = true;
  transfer_progress p;
  {
    std::lock_guard lock(mutex_);
    p = latest_;
  }
  callback_(p);
}

}  // namespace boost_curl::detail
