#ifndef BOOST_CURL_CURL_SERVICE_HPP
#define BOOST_CURL_CURL_SERVICE_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/detail/initiate_fetch.hpp>

#include <boost/asio/execution_context.hpp>

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
};

/** The engine: libcurl multi handles driven by an execution context's reactor.

    Obtained with `boost::asio::use_service<curl_service>(ctx)`; async_fetch does this for
    you. It maps libcurl's socket callback onto `async_wait` of descriptors registered with
    the context's reactor, and libcurl's timer callback onto a `steady_timer` per multi
    handle; a second multi handle is added whenever every one runs transfers_per_multi()
    transfers (see set_transfers_per_multi). It owns the
    sockets libcurl opens (CURLOPT_OPENSOCKETFUNCTION / CLOSESOCKETFUNCTION) and only waits on
    the descriptors it did not open (resolver, wake-up). See doc/engine.md.

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

  /// Start one transfer; the entry point behind async_fetch. `session` may be null.
  void start(const boost::asio::any_io_executor& io_executor, const boost::asio::any_io_executor& context_executor,
             boost::asio::any_completion_executor handler_work, request&& req, detail::fetch_handler&& handler,
             std::shared_ptr<detail::session_state> session = {});

 private:
  void shutdown() override;
  std::unique_ptr<detail::multi_pool> pool_;
};

}  // namespace boost_curl

#endif
