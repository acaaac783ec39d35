#ifndef BOOST_CURL_SRC_DETAIL_MULTI_POOL_HPP
#define BOOST_CURL_SRC_DETAIL_MULTI_POOL_HPP

// Several multi handles per context. libcurl 7.88 looks for a reusable connection by walking
// every connection it holds to the same host, so one multi handle with thousands of
// connections costs tens of microseconds per request more than one with a few dozen. The
// pool caps the transfers each multi_driver runs at once, starting another driver when all
// are full: low concurrency stays on one driver (and reuses its connections), high
// concurrency is spread over drivers whose connection caches stay short. Drivers have their
// own mutex, so a context run by several threads also drives them in parallel.
//
// Extra drivers (all but the first) exist for bursts. Once a burst is over they would keep
// their connections, dead ones included, for the life of the context: new transfers go to the
// first driver with room, so nothing would ever run on them again for libcurl to prune its
// cache. So they are retired (connections closed, idle easy handles freed): all of them as
// soon as no transfer runs anywhere, and, while others work, each one left idle for
// multi_idle_timeout(). Drivers themselves are never destroyed before shutdown (and live on
// while cancellation handlers left in users' slots hold them).

#include "multi_driver.hpp"


#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

namespace boost_curl::detail {

class multi_pool {
 public:
  static constexpr std::size_t max_drivers = 128;

  // `executor`: for the drivers' own I/O (see engine_executor.hpp).
  explicit multi_pool(const engine_executor& executor);
  multi_pool(const multi_pool&) = delete;
  multi_pool& operator=(const multi_pool&) = delete;

  void set_transfers_per_driver(std::size_t n) noexcept { per_driver_.store(n, std::memory_order_relaxed); }
  std::size_t transfers_per_driver() const noexcept { return per_driver_.load(std::memory_order_relaxed); }
  void set_idle_timeout(std::chrono::milliseconds d) noexcept { idle_timeout_ms_.store(d.count(), std::memory_order_relaxed); }
  std::chrono::milliseconds idle_timeout() const noexcept {
    return std::chrono::milliseconds(idle_timeout_ms_.load(std::memory_order_relaxed));
  }

  // Starts a fetch, through the admission caps when there are any.
  // Passed through by reference: the request is moved once, into its transfer (a fetch_start,
  // which owns one, is made only when the admission queue may keep it).
  void start(const boost::asio::any_io_executor& io_executor, boost::asio::any_completion_executor work, request&& req,
             fetch_handler&& handler, std::shared_ptr<session_state> session, std::shared_ptr<body_sink> sink);
  // A transfer that counted against the caps finished.
  void release(std::unique_ptr<admission_ticket> ticket);
  void set_limits(std::size_t total, std::size_t per_host);
  std::size_t max_transfers() const noexcept { return admission_.max_total(); }
  std::size_t max_transfers_per_host() const noexcept { return admission_.max_per_host(); }
  std::size_t waiting() const { return admission_.waiting(); }

  // The driver a new transfer should go to; null once shut down.
  multi_driver* pick();

  // Told by a driver that it ran out of transfers (called without its lock).
  void driver_idle(multi_driver& d);

  void shutdown();

  std::size_t drivers() const noexcept { return count_.load(std::memory_order_acquire); }
  std::size_t active_transfers() const;
  // The same without the drivers' locks, possibly stale: for choices that may be approximate.
  std::size_t load() const noexcept;
  std::size_t open_sockets() const;
  service_statistics statistics() const;

 private:
  void retire_idle_extras(std::chrono::steady_clock::time_point idle_before);

  engine_executor engine_executor_;
  std::array<std::shared_ptr<multi_driver>, max_drivers> drivers_;
  std::atomic<std::size_t> count_{0};  // drivers_[0, count_) exist; they are never removed
  std::atomic<std::size_t> per_driver_{64};
  std::atomic<std::chrono::milliseconds::rep> idle_timeout_ms_{2000};
  std::atomic<std::chrono::steady_clock::rep> next_sweep_{0};
  std::mutex grow_mutex_;
  bool shut_down_ = false;  // guarded by grow_mutex_: no driver is made after shutdown
  std::atomic<std::size_t> max_host_connections_{0};  // given to every driver, new ones too
  admission admission_;
};

}  // namespace boost_curl::detail

#endif
