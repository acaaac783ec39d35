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

// One call of the callback, on the handler's executor. Destroyed without having run (queueing
// it failed, or the context shut down), it lets the relay queue the next one: `posted_` would
// otherwise stay set, and no call come before the final one.
class progress_relay::tick {
 public:
  explicit tick(std::shared_ptr<progress_relay> relay) noexcept : relay_(std::move(relay)) {}
  tick(tick&& other) noexcept : relay_(std::move(other.relay_)) {}
  tick& operator=(tick&&) = delete;
  ~tick() {
    if (relay_) relay_->not_called();
  }
  void operator()() {
    const std::shared_ptr<progress_relay> relay = std::move(relay_);
    relay->call();
  }

 private:
  std::shared_ptr<progress_relay> relay_;
};

void progress_relay::deliver(bool post) {
  if (post)
    asio::post(io_, asio::bind_executor(handler_executor_, tick(shared_from_this())));
  else
    asio::dispatch(handler_executor_, tick(shared_from_this()));
}

void progress_relay::not_called() noexcept {
  std::lock_guard lock(mutex_);
  posted_ = false;
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
