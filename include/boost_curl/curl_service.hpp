#ifndef BOOST_CURL_CURL_SERVICE_HPP
#define BOOST_CURL_CURL_SERVICE_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/detail/initiate_fetch.hpp>

#include <boost/asio/execution_context.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace boost_curl {
namespace detail {
class multi_pool;
}

/// Cumulative counters of one curl_service, for diagnostics, tests and benchmarks.
struct service_statistics {
  std::size_t transfers_started = 0;
  std::size_t sockets_opened = 0;       ///< connections opened (so reuse shows as fewer)
  std::size_t foreign_descriptors = 0;  ///< descriptors libcurl watched but did not open through us
  std::size_t multi_handles = 0;        ///< libcurl multi handles the service has created
  std::size_t multi_handles_retired = 0;  ///< times an idle extra multi handle closed its connections
  /// transfers the engine ended at request::timeout because libcurl had lost their timer
  /// (a libcurl 7.88 defect; see doc/engine.md)
  std::size_t timeouts_enforced = 0;
};

/** The engine: libcurl multi handles driven by an execution context's reactor.

    Obtained with `boost::asio::use_service<curl_service>(ctx)`; async_fetch does this for
    you. Each multi handle keeps libcurl's sockets in an epoll set of its own, which the
    context's reactor waits on (one `async_wait` per multi handle), and maps libcurl's timer
    callback onto a `steady_timer`; a second multi handle is added whenever every one runs
    transfers_per_multi() transfers (see set_transfers_per_multi). It creates the sockets
    libcurl opens (CURLOPT_OPENSOCKETFUNCTION / CLOSESOCKETFUNCTION), and never touches a
    descriptor number libcurl may have closed behind its back. See doc/engine.md.

    Executor: the service's own waits run on its execution context's plain executor (an
    io_context's, a thread_pool's or the system_context's), whatever executor the operations
    were started with: a strand a fetch came from never carries the engine's I/O. Other
    execution contexts are refused (operations complete with error::unsupported_context).

    Thread safety: every libcurl call is serialised by its multi handle's mutex, so the context
    may be run by any number of threads and async_fetch may be called from any thread.

    Shutdown: destroying the context (which calls shutdown()) removes every transfer, frees
    every curl handle and socket, and destroys pending handlers without invoking them.
*/
class BOOST_CURL_DECL curl_service : public boost::asio::execution_context::service {
 public:
  static boost::asio::execution_context::id id;

  explicit curl_service(boost::asio::execution_context& ctx);
  ~curl_service() override;

  /// Transfers started and not yet completed.
  std::size_t active_transfers() const;

  /// Sockets libcurl opened through this service and has not closed yet (live connections,
  /// including idle ones kept for reuse).
  std::size_t open_sockets() const;

  /// Cumulative counters since the service was created.
  service_statistics statistics() const;

  /// At most this many transfers run on one libcurl multi handle; past it the service starts
  /// another (up to 128). libcurl 7.88 scans every connection to a host when it looks for one
  /// to reuse, so one multi handle with thousands of connections is slow; a few dozen per
  /// handle keep that scan short. Low concurrency stays on one handle and its connections.
  /// 0 means one multi handle whatever the load. Default 64. Affects transfers started later.
  void set_transfers_per_multi(std::size_t n) noexcept;
  std::size_t transfers_per_multi() const noexcept;

  /// Multi handles beyond the first exist for bursts. One that has run no transfer for this
  /// long while others work closes its connections and frees its idle easy handles (new
  /// transfers go to the first handle with room, so libcurl would never prune its cache
  /// again); when no transfer runs anywhere, all of them do at once. The first multi handle
  /// keeps its connections for reuse (libcurl closes dead ones when it is next used).
  /// Default 2 s.
  void set_multi_idle_timeout(std::chrono::milliseconds d) noexcept;
  std::chrono::milliseconds multi_idle_timeout() const noexcept;

  /** Caps on concurrent transfers across all the service's multi handles: `total` at once, and
      `per_host` to each scheme://host:port (0: no cap, the default). A fetch over a cap waits,
      in order of arrival, until a transfer finishes; while it waits it is cancellable with
      every cancellation type and its request::timeout runs. A per-host cap also caps each
      multi handle's connections per host, so a program can promise a server "at most N at
      once" (idle connections cached for reuse by other multi handles may add to the count of
      open ones; with N at most transfers_per_multi() all stay on one handle). Raising a cap
      starts waiting fetches at once. */
  void set_max_transfers(std::size_t total, std::size_t per_host = 0);
  std::size_t max_transfers() const noexcept;
  std::size_t max_transfers_per_host() const noexcept;
  /// Fetches waiting for room under the caps.
  std::size_t waiting_transfers() const;

  /// Start one transfer; the entry point behind async_fetch. `io_executor` is the handler's
  /// default executor; `session` may be null.
  void start(const boost::asio::any_io_executor& io_executor, boost::asio::any_completion_executor handler_work,
             request&& req, detail::fetch_handler&& handler, std::shared_ptr<detail::session_state> session = {},
             std::shared_ptr<detail::body_sink> sink = {});

 private:
  void shutdown() override;
  std::unique_ptr<detail::multi_pool> pool_;  // null when the context is not one the engine can run on
};

}  // namespace boost_curl

#endif
