#include "multi_pool.hpp"

namespace boost_curl::detail {

multi_driver& multi_pool::pick() {
  const std::size_t limit = transfers_per_driver();
  std::size_t n = drivers();
  // First driver with room: keeps low concurrency on driver 0 and its warm connections.
  std::size_t least = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t load = drivers_[i]->load();
    if (limit == 0 || load < limit) return *drivers_[i];
    if (load < drivers_[least]->load()) least = i;
  }
  {
    std::lock_guard lock(grow_mutex_);
    n = drivers();
    if (n < max_drivers && (n == 0 || drivers_[n - 1]->load() >= limit)) {
      drivers_[n] = std::make_unique<multi_driver>();
      count_.store(n + 1, std::memory_order_release);
      return *drivers_[n];
    }
    if (n > 0 && n < max_drivers) return *drivers_[n - 1];  // another thread just added one
  }
  return *drivers_[least];  // all full and no room for more: the least loaded
}

void multi_pool::shutdown() {
  for (std::size_t i = 0, n = drivers(); i < n; ++i) drivers_[i]->shutdown();
}

std::size_t multi_pool::active_transfers() const {
  std::size_t sum = 0;
  for (std::size_t i = 0, n = drivers(); i < n; ++i) sum += drivers_[i]->active_transfers();
  return sum;
}

std::size_t multi_pool::open_sockets() const {
  std::size_t sum = 0;
  for (std::size_t i = 0, n = drivers(); i < n; ++i) sum += drivers_[i]->open_sockets();
  return sum;
}

service_statistics multi_pool::statistics() const {
  service_statistics sum;
  for (std::size_t i = 0, n = drivers(); i < n; ++i) {
    const service_statistics s = drivers_[i]->statistics();
    sum.transfers_started += s.transfers_started;
    sum.sockets_opened += s.sockets_opened;
    sum.foreign_descriptors += s.foreign_descriptors;
  }
  sum.multi_handles = drivers();
  return sum;
}

}  // namespace boost_curl::detail
