#ifndef BOOST_CURL_IMPL_ASYNC_DOWNLOAD_HPP
#define BOOST_CURL_IMPL_ASYNC_DOWNLOAD_HPP

#include <boost_curl/session.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

#include <utility>

namespace boost_curl {
namespace detail {

template <class Executor>
class download_initiation {
 public:
  using executor_type = Executor;
  download_initiation(Executor ex, std::shared_ptr<session_state> session) : ex_(std::move(ex)), session_(std::move(session)) {}
  executor_type get_executor() const noexcept { return ex_; }

  template <class Handler>
  void operator()(Handler&& handler, request req, std::filesystem::path file, download_options options) const {
    boost::asio::any_io_executor io(ex_);
    boost::asio::any_completion_executor work =
        boost::asio::prefer(boost::asio::get_associated_executor(handler, ex_), boost::asio::execution::outstanding_work.tracked);
    // The engine puts its cancellation in this slot, as for async_fetch: the erased handler's
    // (any_completion_handler keeps a cancellation state in the handler's own slot).
    fetch_handler erased(std::forward<Handler>(handler));
    boost::asio::cancellation_slot slot = boost::asio::get_associated_cancellation_slot(erased);
    start_download({std::move(erased), std::move(work), std::move(io), slot}, std::move(req), std::move(file), options,
                   session_);
  }

 private:
  Executor ex_;
  std::shared_ptr<session_state> session_;
};

}  // namespace detail

template <class ExecutorOrContext, BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>
auto async_download(ExecutorOrContext&& where, request req, std::filesystem::path file, download_options options,
                    CompletionToken&& token) {
  using executor_type = detail::executor_of_t<ExecutorOrContext>;
  return boost::asio::async_initiate<CompletionToken, detail::fetch_signature>(
      detail::download_initiation<executor_type>(detail::executor_of<ExecutorOrContext>::get(where), nullptr), token,
      std::move(req), std::move(file), options);
}

template <class ExecutorOrContext, BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken,
          std::enable_if_t<!std::is_same_v<std::decay_t<CompletionToken>, download_options>, int>>
auto async_download(ExecutorOrContext&& where, request req, std::filesystem::path file, CompletionToken&& token) {
  return async_download(std::forward<ExecutorOrContext>(where), std::move(req), std::move(file), download_options{},
                        std::forward<CompletionToken>(token));
}

template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>
auto async_download(session& s, request req, std::filesystem::path file, download_options options, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, detail::fetch_signature>(
      detail::download_initiation<session::executor_type>(s.get_executor(), s.state()), token, std::move(req),
      std::move(file), options);
}

template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken,
          std::enable_if_t<!std::is_same_v<std::decay_t<CompletionToken>, download_options>, int>>
auto async_download(session& s, request req, std::filesystem::path file, CompletionToken&& token) {
  return async_download(s, std::move(req), std::move(file), download_options{}, std::forward<CompletionToken>(token));
}

}  // namespace boost_curl

#endif
