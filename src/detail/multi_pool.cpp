#include "multi_pool.hpp"

namespace boost_curl::detail {
namespace asio = boost::asio;

multi_pool::multi_pool(const engine_executor& executor) : engine_executor_(executor), admission_(*this, executor) {}

void multi_pool::start(const asio::any_io_executor& io_executor, asio::any_completion_executor work, request&& req,
                       fetch_handler&& handler, std::shared_ptr<session_state> session, std::shared_ptr<body_sink> sink) {
  if (admission_.limited())
    return admission_.submit(fetch_start{io_executor, std::move(work), std::move(req), std::move(handler),
                                         std::move(session), std::move(sink)});
  if (multi_driver* d = pick())
    d->start(io_executor, std::move(work), std::move(req), std::move(handler), std::move(session), std::move(sink));
}

void multi_pool::release(std::unique_ptr<admission_ticket> ticket) { admission_.release(std::move(ticket)); }

// A per-host cap also caps each multi handle's connections per host (libcurl holds the excess
// transfers until one is free), so what the cap promises a server holds for connections too.
void multi_pool::set_limits(std::size_t total, std::size_t per_host) {
  max_host_connections_.store(per_host, std::memory_order_relaxed);
  for (std::size_t i = 0, n = drivers(); i < n; ++i) drivers_[i]->set_max_host_connections(per_host);
  admission_.set_limits(total, per_host);
}

multi_driver* multi_pool::pick() {
  const std::size_t limit = transfers_per_driver();
  std::size_t n = drivers();
  if (n > 1) {
    // While others work, extras left idle long enough are retired; looked at every half
    // timeout at most (one clock read per fetch otherwise).
    const auto now = std::chrono::steady_clock::now();
    auto due = next_sweep_.load(std::memory_order_relaxed);
    const auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(idle_timeout());
    if (now.time_since_epoch().count() >= due &&
        next_sweep_.compare_exchange_strong(due, (now + timeout / 2).time_since_epoch().count(),
                                            std::memory_order_relaxed))
      retire_idle_extras(now - timeout);
  }
  // First driver with room: keeps low concurrency on driver 0 and its warm connections.
  std::size_t least = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t load = drivers_[i]->load();
    if (limit == 0 || load < limit) return drivers_[i].get();
    if (load < drivers_[least]->load()) least = i;
  }
  {
    std::lock_guard lock(grow_mutex_);
    n = drivers();
    if (shut_down_) return n > 0 ? drivers_[0].get() : nullptr;  // a shut-down driver drops the fetch
    if (n < max_drivers && (n == 0 || drivers_[n - 1]->load() >= limit)) {
      drivers_[n] = std::make_shared<multi_driver>(engine_executor_, *this);
      if (const std::size_t cap = max_host_connections_.load(std::memory_order_relaxed))
        drivers_[n]->set_max_host_connections(cap);
      count_.store(n + 1, std::memory_order_release);
      return drivers_[n].get();
    }
    if (n > 0 && n < max_drivers) return drivers_[n - 1].get();  // another thread just added one
  }
  return drivers_[least].get();  // all full and no room for more: the least loaded
}

void multi_pool::driver_idle(multi_driver&) {
  const std::size_t n = drivers();
  if (n < 2) return;
  for (std::size_t i = 0; i < n; ++i)
    if (drivers_[i]->load() != 0) return;
  // Nothing runs anywhere: the burst the extras were made for is over.
  retire_idle_extras(std::chrono::steady_clock::time_point::max());
}

// Each driver checks under its own lock that it still runs nothing; a fetch starting on it
// meanwhile simply keeps it.
void multi_pool::retire_idle_extras(std::chrono::steady_clock::time_point idle_before) {
  for (std::size_t i = 1, n = drivers(); i < n; ++i) {
    multi_driver& d = *drivers_[i];
    if (d.holds_resources() && d.load() == 0 && d.idle_since() <= idle_before) d.retire();
  }
}

void multi_pool::shutdown() {
  {
    std::lock_guard lock(grow_mutex_);
    shut_down_ = true;
  }
  admission_.shutdown();
  for (std::size_t i = 0, n = drivers(); i < n; ++i) drivers_[i]->shutdown();
}

std::size_t multi_pool::active_transfers() const {
  std::size_t sum = 0;
  for (std::size_t i = 0, n = drivers(); i < n; ++i) sum += drivers_[i]->active_transfers();
  return sum;
}

std::size_t multi_pool::load() const noexcept {
  std::size_t sum = 0;
  for (std::size_t i = 0, n = drivers(); i < n; ++i) sum += drivers_[i]->load();
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
    sum.multi_handles_retired += s.multi_handles_retired;
    sum.timeouts_enforced += s.timeouts_enforced;
  }
  sum.multi_handles = drivers();
  return sum;
}

}  // namespace boost_curl::detail
