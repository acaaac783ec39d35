#ifndef BOOST_CURL_SRC_DETAIL_ENGINE_EXECUTOR_HPP
#define BOOST_CURL_SRC_DETAIL_ENGINE_EXECUTOR_HPP

// The executor of the engine's own I/O objects (libcurl's epoll set, its timer).
//
// It names the execution context, so Asio finds that context's reactor and timer service, and
// it runs what it is given at once, in the calling thread: a completion of the engine's own
// waits runs right where the reactor completed it, on a thread running the context, as with
// the context's native executor. It is built from the context itself, never from an executor
// a user passed in: an any_io_executor wrapping a strand says only that its context is an
// execution_context, and an engine that waited through such an executor would run its I/O on
// the user's strand (stalled whenever that strand is busy).
//
// Nothing is ever posted through it (that would run inline): the engine's "later" is a
// wake-up of its own epoll set (socket_registry::wake).

#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>

#include <utility>

namespace boost_curl::detail {

class engine_executor {
 public:
  explicit engine_executor(boost::asio::execution_context& ctx) noexcept : ctx_(&ctx) {}

  boost::asio::execution_context& query(boost::asio::execution::context_t) const noexcept { return *ctx_; }
  static constexpr boost::asio::execution::blocking_t query(boost::asio::execution::blocking_t) noexcept {
    return boost::asio::execution::blocking.always;
  }

  template <class Function>
  void execute(Function&& f) const {
    std::forward<Function>(f)();
  }

  friend bool operator==(const engine_executor& a, const engine_executor& b) noexcept { return a.ctx_ == b.ctx_; }
  friend bool operator!=(const engine_executor& a, const engine_executor& b) noexcept { return a.ctx_ != b.ctx_; }

 private:
  boost::asio::execution_context* ctx_;
};

// Whether Asio's I/O objects work on `ctx`: an io_context, a thread_pool or the
// system_context (anything built on Asio's scheduler, which runs the reactor). On another
// execution context the reactor would be created with nobody to run it.
bool has_reactor(boost::asio::execution_context& ctx) noexcept;

}  // namespace boost_curl::detail

#endif
