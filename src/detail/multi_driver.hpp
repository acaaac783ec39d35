#ifndef BOOST_CURL_SRC_DETAIL_MULTI_DRIVER_HPP
#define BOOST_CURL_SRC_DETAIL_MULTI_DRIVER_HPP

// The engine behind curl_service: drives one CURLM with an Asio reactor.
//
//  libcurl                         Asio
//  ------------------------------  ---------------------------------------------------------
//  CURLMOPT_SOCKETFUNCTION         async_wait(read/write) on the descriptor, re-armed after
//                                  each event while libcurl still wants that direction
//  CURLMOPT_TIMERFUNCTION          one steady_timer, re-armed only when the deadline moves
//                                  earlier; timeout 0 is a post() (or, right after
//                                  curl_multi_add_handle, a call when start() returns
//                                  from libcurl), -1 disarms
//  CURLOPT_OPENSOCKETFUNCTION      the socket is created here and owned by a socket_entry
//  CURLOPT_CLOSESOCKETFUNCTION     the entry closes it (through Asio, so pending waits end)
//  other descriptors (resolver)    waited on without being owned; released on REMOVE
//
// Every libcurl call happens with `mutex_` held; libcurl's callbacks therefore run with it
// held too and never lock it. User handlers are never invoked with it held.

#include "curl_handles.hpp"
#include "transfer.hpp"
#include "transfer_pool.hpp"

#include <boost_curl/curl_service.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/container/small_vector.hpp>

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <chrono>
#include <utility>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace boost_curl::detail {

// One descriptor libcurl told us about. Pending waits hold a shared_ptr to it, so a wait
// that completes after libcurl closed the socket finds `closed` set instead of freed memory.
struct socket_entry {
  socket_entry(const boost::asio::any_io_executor& ex, curl_socket_t s, bool owned_by_us)
      : descriptor(ex), fd(s), owned(owned_by_us) {}
  boost::asio::posix::stream_descriptor descriptor;
  curl_socket_t fd;
  bool owned;               // opened through OPENSOCKETFUNCTION: we close it
  bool closed = false;      // closed or released: late waits must not touch libcurl
  int wanted = 0;           // CURL_POLL_IN / CURL_POLL_OUT bits libcurl asked for
  bool read_pending = false;
  bool write_pending = false;
  std::uint64_t opened_for = 0;  // operation_id of the transfer it was first reported for (0: none yet)

  // The open file behind `fd` when we learnt of it: a number can be reused the moment the
  // file is closed, and libcurl does not always tell us (see remove()).
  std::pair<dev_t, ino_t> identity{};
};

class multi_driver {
 public:
  multi_driver();
  ~multi_driver();
  multi_driver(const multi_driver&) = delete;
  multi_driver& operator=(const multi_driver&) = delete;

  // `session` may be null (a request of no session).
  void start(const boost::asio::any_io_executor& io_executor, const boost::asio::any_io_executor& context_executor,
             boost::asio::any_completion_executor work, request&& req, fetch_handler&& handler,
             std::shared_ptr<session_state> session);
  void shutdown();

  std::size_t active_transfers() const;
  // active_transfers() without the lock, possibly stale: for choosing a driver.
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }
  std::size_t open_sockets() const;
  service_statistics statistics() const;

 private:
  // A finished operation, delivered after the mutex is released.
  struct completion {
    transfer::operation op;
    error_code ec;
    response resp;
  };
  // Held by pointer: a response is large, and it would otherwise be moved at each of the
  // hops between here and the user's handler.
  using completions = boost::container::small_vector<std::unique_ptr<completion>, 4>;
  enum class delivery { dispatch, post };

  // libcurl callbacks (trampolines; `self` is the driver)
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* self, void* socketp) noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* self) noexcept;
  static curl_socket_t on_open_socket(void* self, curlsocktype purpose, curl_sockaddr* address) noexcept;
  static int on_close_socket(void* self, curl_socket_t s) noexcept;

  // Asio completions
  void on_wait(const std::shared_ptr<socket_entry>& entry, int direction, const error_code& ec);
  void on_timer_expired(unsigned generation, const error_code& ec);
  void on_soon();
  void cancel(std::uint64_t operation_id, boost::asio::cancellation_type_t type);
  friend struct multi_driver_access;

  // With mutex_ held:
  void socket_action(curl_socket_t s, int ev_bitmask, completions& done);
  void drop_waits_if_idle();
  void collect_finished(completions& done);
  void finish(transfer* t, CURLcode result, const error_code* override_ec, completions& done);
  void arm_timer(std::chrono::steady_clock::time_point deadline);
  void arm(const std::shared_ptr<socket_entry>& entry);
  void start_wait(const std::shared_ptr<socket_entry>& entry, int direction);
  void close_owned(socket_entry& entry);
  void forget(socket_entry& entry);
  void remove(transfer& t);
  std::shared_ptr<socket_entry>* slot_of(curl_socket_t s);
  std::unique_ptr<transfer> acquire(session_state* session);
  void release(std::unique_ptr<transfer> t);

  void deliver(completions& done, delivery how);  // without mutex_ held
  static void deliver_one(std::unique_ptr<completion> c, delivery how);

  mutable std::mutex mutex_;
  // The context's executor, untracked (the driver alone keeps no run() alive); learnt from
  // the first operation, since an execution_context does not name its executor.
  boost::asio::any_io_executor executor_;
  multi_ptr multi_;
  socket_hooks hooks_;

  // Sockets, indexed by descriptor number (small integers, so a vector beats a hash map).
  std::vector<std::shared_ptr<socket_entry>> sockets_;
  std::size_t owned_sockets_ = 0;

  // Transfers: the active ones (owned here, position kept in transfer::active_index) and an
  // idle pool for reuse.
  std::vector<std::unique_ptr<transfer>> active_;
  transfer_pool idle_{4096};  // beyond this many idle transfers, returned ones are freed

  // libcurl's single timeout, kept lazily: the Asio timer is only re-armed when the wanted
  // deadline moves earlier than the armed one; an early expiry re-arms for the real one.
  std::optional<boost::asio::steady_timer> timer_;
  std::chrono::steady_clock::time_point wanted_deadline_{};
  std::chrono::steady_clock::time_point armed_deadline_{};
  bool deadline_wanted_ = false;
  bool timer_armed_ = false;
  unsigned timer_generation_ = 0;
  bool soon_posted_ = false;
  bool starting_ = false;  // inside start()'s curl_multi_add_handle
  bool kick_ = false;      // libcurl asked for timeout 0 then
  bool kick_deferred_ = false;  // transfers started by handlers being delivered: see start()
  // The driver whose completions this thread is delivering, if any.
  static thread_local multi_driver* delivering;

  service_statistics stats_;
  std::atomic<std::size_t> load_{0};
  bool shut_down_ = false;
};

}  // namespace boost_curl::detail

#endif
