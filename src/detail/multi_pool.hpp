#ifndef BOOST_CURL_SRC_DETAIL_MULTI_POOL_HPP
#define BOOST_CURL_SRC_DETAIL_MULTI_POOL_HPP

// Several multi handles per context. libcurl 7.88 looks for a reusable connection by walking
// every connection it holds to the same host, so one multi handle with thousands of
// connections costs tens of microseconds per request more than one with a few dozen. The
// pool caps the transfers each multi_driver runs at once, starting another driver when all
// are full: low concurrency stays on one driver (and reuses its connections), high
// concurrency is spread over drivers whose connection caches stay short. Drivers have their
// own mutex, so a context run by several threads also drives them in parallel.

#include "multi_driver.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>

namespace boost_curl::detail {

class multi_pool {
 public:
  static constexpr std::size_t max_drivers = 128;

  multi_pool() = default;
  multi_pool(const multi_pool&) = delete;
  multi_pool& operator=(const multi_pool&) = delete;

  void set_transfers_per_driver(std::size_t n) noexcept { per_driver_.store(n, std::memory_order_relaxed); }
  std::size_t transfers_per_driver() const noexcept { return per_driver_.load(std::memory_order_relaxed); }

  // The driver a new transfer should go to.
  multi_driver& pick();

  void shutdown();

  std::size_t drivers() const noexcept { return count_.load(std::memory_order_acquire); }
  std::size_t active_transfers() const;
  std::size_t open_sockets() const;
  service_statistics statistics() const;

 private:
  std::array<std::unique_ptr<multi_driver>, max_drivers> drivers_;
  std::atomic<std::size_t> count_{0};  // drivers_[0, count_) exist; they are never removed
  std::atomic<std::size_t> per_driver_{64};
  std::mutex grow_mutex_;
};

}  // namespace boost_curl::detail

#endif
