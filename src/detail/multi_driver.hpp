#ifndef BOOST_CURL_SRC_DETAIL_MULTI_DRIVER_HPP
#define BOOST_CURL_SRC_DETAIL_MULTI_DRIVER_HPP

// The engine behind curl_service: drives one CURLM with an Asio reactor.
//
//  libcurl                         Asio
//  ------------------------------  ---------------------------------------------------------
//  CURLMOPT_SOCKETFUNCTION         the socket goes into the driver's own epoll set
//                                  (socket_registry); the reactor waits on that set, one
//                                  async_wait per driver, re-armed while transfers run; each
//                                  wake-up hands every ready socket to libcurl in turn
//  CURLMOPT_TIMERFUNCTION          one steady_timer, re-armed only when the deadline moves
//                                  earlier; timeout 0 is served as soon as the libcurl call
//                                  that asked for it has returned (after a few rounds, by
//                                  waking the epoll set); -1 disarms
//  (request::timeout)              a second timer, the watchdog, for the earliest deadline:
//                                  libcurl 7.88 can lose a transfer's timeout (on_watchdog)
//  CURLOPT_OPENSOCKETFUNCTION      the socket is created by the registry, which counts it ours
//  CURLOPT_CLOSESOCKETFUNCTION     the registry closes it
//
// Every libcurl call happens with `mutex_` held; libcurl's callbacks therefore run with it
// held too and never lock it. No user code runs with it held: completions are collected
// under it and delivered after it is released, dispatched from the engine's own handlers,
// posted from async_fetch and from cancellation (never inside either).
//
// The driver's own I/O objects run on an executor made from the execution context itself,
// never on an executor a user passed in (see engine_executor.hpp).

#include "admission.hpp"
#include "completion.hpp"
#include "curl_handles.hpp"
#include "engine_executor.hpp"
#include "engine_notice.hpp"
#include "socket_registry.hpp"
#include "transfer.hpp"
#include "transfer_pool.hpp"
#include "user_exception.hpp"

#include <boost_curl/curl_service.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/container/small_vector.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace boost_curl::detail {

class multi_pool;

// Held by shared_ptr: cancellation handlers left in users' slots keep it alive.
class multi_driver : public std::enable_shared_from_this<multi_driver> {
 public:
  // `pool` is told when this driver runs out of transfers (see multi_pool::driver_idle).
  multi_driver(const engine_executor& executor, multi_pool& pool);
  ~multi_driver();
  multi_driver(const multi_driver&) = delete;
  multi_driver& operator=(const multi_driver&) = delete;

  // `session` may be null (a request of no session); `ticket`, if any, goes back to the pool's
  // admission when the transfer finishes. `slot_taken`: the handler's cancellation slot already
  // holds a handler that forwards to cancel_operation() (a fetch that waited for admission).
  // Returns the operation's id, or 0 if it did not start (its handler then completes with the
  // error, posted).
  // `sink`, if any, takes the final response's head and body (a stream, a download).
  std::uint64_t start(const boost::asio::any_io_executor& io_executor, boost::asio::any_completion_executor work,
                      request&& req, fetch_handler&& handler, std::shared_ptr<session_state> session,
                      std::shared_ptr<body_sink> sink, std::unique_ptr<admission_ticket> ticket = nullptr,
                      bool slot_taken = false);
  // Per-operation cancellation, by id (a late one finds nothing).
  void cancel_operation(std::uint64_t operation_id, boost::asio::cancellation_type_t type) { cancel(operation_id, type); }
  // Lets a transfer its sink paused (CURL_WRITEFUNC_PAUSE) receive again. Never runs user code
  // inline: what finishes meanwhile is posted. A finished operation is not found: a no-op.
  void resume(std::uint64_t operation_id);
  void shutdown();

  // If no transfer runs: closes every cached connection and frees the idle transfers (a
  // fresh multi handle replaces the old). For multi handles the pool no longer needs.
  void retire();
  // Whether retire() would free anything (cached connections, idle transfers).
  bool holds_resources() const noexcept { return holds_resources_.load(std::memory_order_relaxed); }
  // When the driver last ran out of transfers.
  std::chrono::steady_clock::time_point idle_since() const noexcept {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(idle_since_.load(std::memory_order_relaxed)));
  }

  std::size_t active_transfers() const;
  // libcurl's own cap of connections per host for this multi handle (0: none).
  void set_max_host_connections(std::size_t n);

  // From a transfer's libcurl callback (mutex_ held): `n` has something for a user, handed
  // over by the entry point that made the libcurl call, once it has released mutex_.
  void notice(std::shared_ptr<engine_notice> n) noexcept;
  // Queues a notice from outside libcurl's callbacks (mutex_ not held): one that could not
  // hand its operations over for lack of memory asks to be delivered again at the next
  // wake-up, which this causes. False when the driver has shut down.
  bool requeue(std::shared_ptr<engine_notice> n) noexcept;

  // active_transfers() without the lock, possibly stale: for choosing a driver.
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }
  std::size_t open_sockets() const;
  service_statistics statistics() const;

 private:
  using completions = completion_list;

  // libcurl callbacks (trampolines)
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* self, void* socketp) noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* self) noexcept;
  static curl_socket_t on_open_socket(void* transfer, curlsocktype purpose, curl_sockaddr* address) noexcept;
  static int on_close_socket(void* self, curl_socket_t s) noexcept;

  // Asio completions
  void on_ready(unsigned generation, const error_code& ec);
  void on_timer_expired(unsigned generation, const error_code& ec);
  void on_watchdog(unsigned generation, const error_code& ec);
  void cancel(std::uint64_t operation_id, boost::asio::cancellation_type_t type);
  friend struct multi_driver_access;

  // With mutex_ held:
  transfer* find_active(std::uint64_t operation_id) const noexcept;
  void new_multi();
  void socket_action(curl_socket_t s, int ev_bitmask, completions& done);
  void serve_kicks(completions& done);
  void recover_from_out_of_memory(completions& done);
  bool replace_multi();
  void collect_finished(completions& done);
  void finish(transfer* t, CURLcode result, const error_code* override_ec, completions& done,
              const char* why = nullptr);
  void remove(transfer& t);
  void arm_timer(std::chrono::steady_clock::time_point deadline);
  void watch_deadline(std::chrono::steady_clock::time_point deadline);
  void wait_ready() noexcept;
  void wake_soon() noexcept;
  bool drop_waits_if_idle();
  std::unique_ptr<transfer> acquire(session_state* session);
  void release(std::unique_ptr<transfer> t);

  // Without mutex_ held:
  // Posted: none runs here. Dispatched: what user code throws is kept (user_exception.hpp)
  // and the others still run.
  static void deliver_notices(engine_notice* list, bool post) noexcept;
  void release_tickets(completions& done);
  // From the engine's own handlers: the notices and completions found, delivered inline.
  void dispatch_completions(engine_notice* found, completions& done);
  // The handlers one dispatch_completions() runs on this thread. The first transfer they
  // start on this driver starts at once, the others together once they returned: one libcurl
  // call for all, as libcurl's own loop adds transfers between two rounds. What finishes in
  // those starts is delivered by the round's next turn, not posted.
  class delivery_round {
   public:
    explicit delivery_round(multi_driver& d) noexcept : driver_(&d), outer_(current) { current = this; }
    ~delivery_round() { current = outer_; }
    delivery_round(const delivery_round&) = delete;
    delivery_round& operator=(const delivery_round&) = delete;

    static delivery_round* of(const multi_driver& d) noexcept {
      return current && current->driver_ == &d ? current : nullptr;
    }
    bool first_start() noexcept { return !started_++; }
    void defer() noexcept { deferred_ = true; }
    bool deferred() const noexcept { return deferred_; }
    // The completion deliver_one is dispatching. Run inline, its handler's exception is
    // caught there and kept (user_exception.hpp) instead of leaving through the executor,
    // which may let it out of dispatch, where deliver_one could only drop it. One-shot: the
    // completion is freed once run, and its address may come again.
    void dispatching(const completion* c) noexcept { dispatching_ = c; }
    static bool running(const completion* c) noexcept {
      if (!current || current->dispatching_ != c) return false;
      current->dispatching_ = nullptr;
      return true;
    }

   private:
    const multi_driver* driver_;
    delivery_round* outer_;
    const completion* dispatching_ = nullptr;
    unsigned started_ = 0;
    bool deferred_ = false;
    static thread_local delivery_round* current;
  };
  void post_completions(completions& done);      // from async_fetch and from cancellation
  void keep_undelivered(completions& done) noexcept;  // all of `done`, as the public one does
  void after_delivery();
  void deliver_one(std::unique_ptr<completion> c, bool post) noexcept;
  static void complete_operation(completion& c);
  friend struct delivery;

 public:
  // A completion that could not be queued (out of memory): kept, and delivered from the
  // driver's next wake-up. Without mutex_ held.
  void keep_undelivered(std::unique_ptr<completion> c) noexcept;

 private:

  using timer_type = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                      boost::asio::wait_traits<std::chrono::steady_clock>,
                                                      engine_executor>;

  mutable std::mutex mutex_;
  multi_pool& pool_;
  multi_ptr multi_;
  socket_registry sockets_;
  bool ready_wait_pending_ = false;
  unsigned ready_generation_ = 0;

  // Transfers: the active ones (owned here, position kept in transfer::active_index) and an
  // idle pool for reuse.
  std::vector<std::unique_ptr<transfer>> active_;
  std::size_t peak_active_ = 0;  // most transfers run at once: sets libcurl's cache size
  std::size_t max_host_connections_ = 0;
  transfer_pool idle_{4096};  // beyond this many idle transfers, returned ones are freed

  // libcurl's single timeout, kept lazily: the Asio timer is only re-armed when the wanted
  // deadline moves earlier than the armed one; an early expiry re-arms for the real one.
  std::optional<timer_type> timer_;  // reset at shutdown, before the timer service goes
  std::chrono::steady_clock::time_point wanted_deadline_{};
  std::chrono::steady_clock::time_point armed_deadline_{};
  bool deadline_wanted_ = false;
  bool timer_armed_ = false;
  unsigned timer_generation_ = 0;
  bool kick_ = false;  // libcurl asked for timeout 0 inside the call in progress
  bool out_of_memory_ = false;  // a libcurl call ran out of memory (recover_from_out_of_memory)

  // request::timeout, enforced by the engine too: libcurl 7.88 can drop a transfer's
  // timeout from its timer list a fraction of a millisecond before it expires (see
  // on_watchdog). Armed for the earliest deadline (plus a grace) of the active transfers,
  // lazily like timer_: only moved when an earlier one arrives.
  std::optional<timer_type> watchdog_;
  std::chrono::steady_clock::time_point watchdog_at_{};
  bool watchdog_armed_ = false;
  unsigned watchdog_generation_ = 0;

  // What libcurl's callbacks found for streams and progress (notice()), newest first: taken
  // by the entry point under way (take_notices()) and delivered after it released mutex_.
  engine_notice* notices_ = nullptr;
  completion_list undelivered_;  // see keep_undelivered()
  engine_notice* take_notices() noexcept { return std::exchange(notices_, nullptr); }

  service_statistics stats_;
  std::atomic<std::size_t> load_{0};
  std::atomic<bool> holds_resources_{false};
  std::atomic<std::chrono::steady_clock::rep> idle_since_{0};
  bool shut_down_ = false;
};

}  // namespace boost_curl::detail

#endif
