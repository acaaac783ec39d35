#ifndef BOOST_CURL_IMPL_ASYNC_FETCH_HPP
#define BOOST_CURL_IMPL_ASYNC_FETCH_HPP

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

#include <memory>
#include <utility>

namespace boost_curl {
namespace detail {

// An initiation class (not a lambda) exposing its I/O executor, so adapters such as
// asio::cancel_after (Boost >= 1.86) can find it.
// `session` is null for requests of no session. Held by value: deferred tokens run the
// initiation later, when the session object may have moved or gone.
template <class Executor>
class fetch_initiation {
 public:
  using executor_type = Executor;
  explicit fetch_initiation(Executor ex, std::shared_ptr<session_state> session = {})
      : ex_(std::move(ex)), session_(std::move(session)) {}
  executor_type get_executor() const noexcept { return ex_; }

  // The request by rvalue reference: moved once, into its transfer (a by-value parameter
  // would add a move of every field). A token that passes its stored request as an lvalue
  // gets the copy a by-value parameter would have made.
  template <class Handler>
  void operator()(Handler&& handler, const request& req) const {
    (*this)(std::forward<Handler>(handler), request(req));
  }

  template <class Handler>
  void operator()(Handler&& handler, request&& req) const {
    // Computed here, where the handler's type is still known, so the tracked executor is
    // small enough for any_completion_executor's inline buffer in the common cases.
    boost::asio::any_completion_executor work =
        boost::asio::prefer(boost::asio::get_associated_executor(handler, ex_),
                            boost::asio::execution::outstanding_work.tracked);
    initiate_fetch(boost::asio::any_io_executor(ex_), std::move(work), std::move(req),
                   fetch_handler(std::forward<Handler>(handler)), session_);
  }

 private:
  Executor ex_;
  std::shared_ptr<session_state> session_;
};

}  // namespace detail

template <class ExecutorOrContext, BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>
auto async_fetch(ExecutorOrContext&& ex_or_ctx, request req, CompletionToken&& token) {
  using executor_type = detail::executor_of_t<ExecutorOrContext>;
  return boost::asio::async_initiate<CompletionToken, detail::fetch_signature>(
      detail::fetch_initiation<executor_type>(detail::executor_of<ExecutorOrContext>::get(ex_or_ctx)), token,
      std::move(req));
}

}  // namespace boost_curl

#endif
