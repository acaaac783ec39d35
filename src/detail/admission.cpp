#include "admission.hpp"

#include "multi_driver.hpp"
#include "multi_pool.hpp"
#include "url_parts.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace boost_curl::detail {
namespace asio = boost::asio;

// A fetch waiting for room. Lock order: admission::mutex_, then waiter::mutex.
struct admission::waiter {
  enum class state { queued, starting, started, done };

  // Moved in by construction: Asio 1.81's any_completion_handler must never be move-assigned
  // (its assignment wraps the source instead of moving it, recursing until the stack overflows).
  explicit waiter(fetch_start&& f) : fetch(std::move(f)) {}

  fetch_start fetch;
  std::string host;
  std::chrono::steady_clock::time_point deadline{};  // the epoch: no timeout
  std::list<std::shared_ptr<waiter>>::iterator position;

  std::mutex mutex;  // guards what follows (touched by the slot's forwarder)
  state now = state::queued;
  std::shared_ptr<multi_driver> driver;
  std::uint64_t operation_id = 0;
  std::optional<asio::cancellation_type_t> pending_cancel;  // arrived while starting
};

// Stays in the handler's slot for the whole operation (see admission.hpp).
struct admission::forwarder {
  admission* owner;  // only used while the fetch is queued, when the admission is alive
  std::shared_ptr<waiter> w;

  void operator()(asio::cancellation_type_t type) const {
    std::unique_lock lock(w->mutex);
    switch (w->now) {
      case waiter::state::queued:
        lock.unlock();
        owner->cancel_waiting(w);  // nothing was sent: every type is honoured
        return;
      case waiter::state::starting:
        w->pending_cancel = type;
        return;
      case waiter::state::started: {
        std::shared_ptr<multi_driver> d = w->driver;
        const std::uint64_t id = w->operation_id;
        lock.unlock();
        if (d) d->cancel_operation(id, type);
        return;
      }
      case waiter::state::done:
        return;
    }
  }
};

admission::admission(multi_pool& pool, const engine_executor& executor) : pool_(pool) { timer_.emplace(executor); }

admission::~admission() { shutdown(); }

void admission::set_limits(std::size_t total, std::size_t per_host) noexcept {
  std::vector<std::shared_ptr<waiter>> now;
  {
    std::lock_guard lock(mutex_);
    max_total_ = total;
    max_per_host_ = per_host;
    take(now);  // higher caps may let some start
  }
  for (auto& w : now) start(std::move(w->fetch), std::make_unique<admission_ticket>(admission_ticket{w->host}), w);
}

std::size_t admission::max_total() const noexcept {
  std::lock_guard lock(mutex_);
  return max_total_;
}

std::size_t admission::max_per_host() const noexcept {
  std::lock_guard lock(mutex_);
  return max_per_host_;
}

bool admission::limited() const noexcept {
  std::lock_guard lock(mutex_);
  return max_total_ != 0 || max_per_host_ != 0;
}

std::size_t admission::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::string admission::host_of(const std::string& url) {
  std::string origin = origin_of(url);
  return origin.empty() ? url : origin;  // what does not parse fails at once, apart
}

bool admission::room_for(const std::string& host) const {
  if (max_total_ != 0 && running_ >= max_total_) return false;
  if (max_per_host_ != 0) {
    const auto it = running_per_host_.find(host);
    if (it != running_per_host_.end() && it->second >= max_per_host_) return false;
  }
  return true;
}

void admission::submit(fetch_start&& f) {
  std::string host = host_of(f.req.url);
  std::vector<std::shared_ptr<waiter>> now;
  {
    std::unique_lock lock(mutex_);
    if (shut_down_) return;  // the handler is dropped, as after shutdown anywhere
    if (queue_.empty() && room_for(host)) {
      ++running_;
      ++running_per_host_[host];
      lock.unlock();
      start(std::move(f), std::make_unique<admission_ticket>(admission_ticket{std::move(host)}), nullptr);
      return;
    }
    // Behind those already waiting; the oldest that may start, start (take() goes in order).
    // The forwarder goes into the slot here, on the initiating thread.
    asio::cancellation_slot slot = asio::get_associated_cancellation_slot(f.handler);
    auto w = std::make_shared<waiter>(std::move(f));
    w->host = std::move(host);
    if (w->fetch.req.timeout.count() > 0) w->deadline = std::chrono::steady_clock::now() + w->fetch.req.timeout;
    if (slot.is_connected()) slot.template emplace<forwarder>(forwarder{this, w});
    w->position = queue_.insert(queue_.end(), w);
    take(now);
    if (!queue_.empty()) arm_timer();
  }
  for (auto& w : now) start(std::move(w->fetch), std::make_unique<admission_ticket>(admission_ticket{w->host}), w);
}

// Starts `f` on a driver. From the queue, the slot already holds the forwarder: the driver
// must leave it alone, and the forwarder learns the operation's id.
void admission::start(fetch_start&& f, std::unique_ptr<admission_ticket> ticket, const std::shared_ptr<waiter>& from_queue) {
  multi_driver* d = pool_.pick();
  if (!d) return;  // shut down
  const std::uint64_t id = d->start(f.io_executor, std::move(f.work), std::move(f.req), std::move(f.handler),
                                    std::move(f.session), std::move(f.sink), std::move(ticket), from_queue != nullptr);
  if (!from_queue) return;
  std::optional<asio::cancellation_type_t> cancel;
  {
    std::lock_guard lock(from_queue->mutex);
    from_queue->now = waiter::state::started;
    from_queue->driver = d->shared_from_this();
    from_queue->operation_id = id;
    cancel = std::exchange(from_queue->pending_cancel, std::nullopt);
  }
  if (cancel && id != 0) d->cancel_operation(id, *cancel);
}

// With mutex_ held: the waiting fetches that may start now, oldest first, counted as running.
void admission::take(std::vector<std::shared_ptr<waiter>>& out) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = queue_.begin(); it != queue_.end() && (max_total_ == 0 || running_ < max_total_);) {
    const std::shared_ptr<waiter>& w = *it;
    if (!room_for(w->host)) {
      ++it;
      continue;
    }
    {
      std::lock_guard lock(w->mutex);
      w->now = waiter::state::starting;
    }
    ++running_;
    ++running_per_host_[w->host];
    // The timeout counts the wait: the transfer gets what is left.
    if (w->deadline != std::chrono::steady_clock::time_point{})
      w->fetch.req.timeout = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(w->deadline - now),
                                      std::chrono::milliseconds(1));
    out.push_back(w);
    it = queue_.erase(it);
  }
}

void admission::release(std::unique_ptr<admission_ticket> ticket) {
  std::vector<std::shared_ptr<waiter>> now;
  {
    std::lock_guard lock(mutex_);
    if (running_ > 0) --running_;
    const auto it = running_per_host_.find(ticket->host);
    if (it != running_per_host_.end() && --it->second == 0) running_per_host_.erase(it);
    if (shut_down_) return;
    take(now);
  }
  for (auto& w : now) start(std::move(w->fetch), std::make_unique<admission_ticket>(admission_ticket{w->host}), w);
}

void admission::fail(fetch_start&& f, error_code ec, const char* why) {
  response r;
  r.error_message = why;
  asio::post(f.io_executor, asio::append(std::move(f.handler), ec, std::move(r)));
}

void admission::cancel_waiting(const std::shared_ptr<waiter>& w) {
  {
    std::lock_guard lock(mutex_);
    std::lock_guard wlock(w->mutex);
    if (w->now != waiter::state::queued) return;  // started meanwhile: the forwarder is told
    w->now = waiter::state::done;
    queue_.erase(w->position);
  }
  // Posted: never inside the emit() that got us here.
  fail(std::move(w->fetch), asio::error::operation_aborted, "the operation was cancelled while waiting for a transfer slot");
}

// With mutex_ held: the timer waits for the earliest deadline of a waiting fetch.
void admission::arm_timer() {
  auto earliest = std::chrono::steady_clock::time_point::max();
  for (const auto& w : queue_)
    if (w->deadline != std::chrono::steady_clock::time_point{}) earliest = std::min(earliest, w->deadline);
  if (earliest == std::chrono::steady_clock::time_point::max() || !timer_) return;
  if (armed_for_ != std::chrono::steady_clock::time_point{} && armed_for_ <= earliest) return;
  armed_for_ = earliest;
  timer_->expires_at(earliest);
  const unsigned generation = ++timer_generation_;
  timer_->async_wait([this, generation](const boost::system::error_code& ec) { on_timer(ec, generation); });
}

void admission::on_timer(const boost::system::error_code& ec, unsigned generation) {
  std::vector<std::shared_ptr<waiter>> expired;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || generation != timer_generation_) return;
    armed_for_ = {};
    if (ec == asio::error::operation_aborted) return;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = queue_.begin(); it != queue_.end();) {
      const std::shared_ptr<waiter>& w = *it;
      if (w->deadline != std::chrono::steady_clock::time_point{} && w->deadline <= now) {
        std::lock_guard wlock(w->mutex);
        w->now = waiter::state::done;
        expired.push_back(w);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    arm_timer();
  }
  for (auto& w : expired)
    fail(std::move(w->fetch), make_curl_error(CURLE_OPERATION_TIMEDOUT), "request::timeout expired while waiting for a transfer slot");
}

// Waiting handlers are destroyed, never invoked (Asio's rule at shutdown), outside the lock.
void admission::shutdown() {
  std::list<std::shared_ptr<waiter>> doomed;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    for (auto& w : queue_) {
      std::lock_guard wlock(w->mutex);
      w->now = waiter::state::done;
    }
    doomed.swap(queue_);
    timer_.reset();  // before the timer service goes
  }
  for (auto& w : doomed) {
    asio::cancellation_slot slot = asio::get_associated_cancellation_slot(w->fetch.handler);
    if (slot.is_connected()) slot.clear();
    fetch_start gone = std::move(w->fetch);
  }
}

}  // namespace boost_curl::detail
