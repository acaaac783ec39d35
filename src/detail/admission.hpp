#ifndef BOOST_CURL_SRC_DETAIL_ADMISSION_HPP
#define BOOST_CURL_SRC_DETAIL_ADMISSION_HPP

// The service's caps on concurrent transfers, in total and per host (scheme://host:port),
// across all its multi handles (curl_service::set_max_transfers*). A fetch over a cap waits in
// one queue, in order of arrival; it starts as soon as a transfer of its host (or any, for the
// total) finishes. While it waits it is cancellable with every cancellation type (nothing has
// been sent) and its request::timeout runs (then the time left goes to the transfer).
//
// Cancellation of a waiting fetch: the forwarder put in the handler's slot when it is queued
// (on the initiating thread, as Asio requires of slots) stays there once the fetch starts,
// then names the driver and operation id the start reported; the engine never touches the
// slot of a fetch it starts from the queue, since another thread may be emitting on it.

#include "admission_ticket.hpp"
#include "body_sink.hpp"
#include "engine_executor.hpp"

#include <boost_curl/detail/initiate_fetch.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/basic_waitable_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace boost_curl::detail {

class multi_driver;
class multi_pool;
class session_state;

// Everything a start needs, for a fetch that may have to wait.
// Never assigned (Asio 1.81's any_completion_handler must not be move-assigned: its assignment
// wraps the source instead of moving it, recursing until the stack overflows): only moved into.
struct fetch_start {
  fetch_start(boost::asio::any_io_executor io, boost::asio::any_completion_executor w, request&& r, fetch_handler&& h,
              std::shared_ptr<session_state> s, std::shared_ptr<body_sink> k = nullptr)
      : io_executor(std::move(io)), work(std::move(w)), req(std::move(r)), handler(std::move(h)), session(std::move(s)),
        sink(std::move(k)) {}
  fetch_start(fetch_start&&) = default;
  fetch_start& operator=(fetch_start&&) = delete;

  boost::asio::any_io_executor io_executor;
  boost::asio::any_completion_executor work;
  request req;
  fetch_handler handler;
  std::shared_ptr<session_state> session;
  std::shared_ptr<body_sink> sink;  // a streamed body's destination, or null
};

class admission {
 public:
  admission(multi_pool& pool, const engine_executor& executor);
  ~admission();

  void set_limits(std::size_t total, std::size_t per_host) noexcept;
  std::size_t max_total() const noexcept;
  std::size_t max_per_host() const noexcept;
  bool limited() const noexcept;

  // Starts `f` now if the caps allow, else queues it.
  void submit(fetch_start&& f);
  // A transfer that held `ticket` finished: starts what may start now.
  void release(std::unique_ptr<admission_ticket> ticket);
  void shutdown();

  std::size_t waiting() const;

 private:
  struct waiter;
  struct forwarder;
  friend struct forwarder;

  static std::string host_of(const std::string& url);
  void start(fetch_start&& f, std::unique_ptr<admission_ticket> ticket, const std::shared_ptr<waiter>& from_queue);
  void cancel_waiting(const std::shared_ptr<waiter>& w);
  bool room_for(const std::string& host) const;  // with mutex_ held
  void take(std::vector<std::shared_ptr<waiter>>& out);  // with mutex_ held: what may start now
  void arm_timer();                                       // with mutex_ held
  void on_timer(const boost::system::error_code& ec, unsigned generation);
  static void fail(fetch_start&& f, error_code ec, const char* why);

  using timer_type = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                      boost::asio::wait_traits<std::chrono::steady_clock>,
                                                      engine_executor>;
  multi_pool& pool_;
  mutable std::mutex mutex_;
  std::size_t max_total_ = 0, max_per_host_ = 0;  // 0: no cap
  std::size_t running_ = 0;
  std::map<std::string, std::size_t> running_per_host_;
  std::list<std::shared_ptr<waiter>> queue_;  // in order of arrival
  std::optional<timer_type> timer_;
  std::chrono::steady_clock::time_point armed_for_{};
  unsigned timer_generation_ = 0;
  bool shut_down_ = false;
};

}  // namespace boost_curl::detail

#endif
