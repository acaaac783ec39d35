#ifndef BOOST_CURL_ASYNC_FETCH_HPP
#define BOOST_CURL_ASYNC_FETCH_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/detail/default_token.hpp>
#include <boost_curl/detail/executor_of.hpp>
#include <boost_curl/detail/initiate_fetch.hpp>
#include <boost_curl/error.hpp>
#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>

#include <boost/asio/async_result.hpp>

namespace boost_curl {

/** Perform one HTTP exchange asynchronously.

    @param ex_or_ctx An executor, or an execution context (io_context&, thread_pool&). The
    transfer runs on the curl_service of that executor's context.
    @param req The request, taken by value: the operation owns it, so deferred and
    coroutine tokens need nothing kept alive by the caller.
    @param token The completion token.

    Handler signature: `void(boost::system::error_code, boost_curl::response)`.
    HTTP error statuses (4xx, 5xx) are responses, not errors. On error the response holds
    what was received and `error_message`.

    Executor: the handler runs on its associated executor, else on the executor given as
    `ex_or_ctx`; it is never invoked from inside async_fetch. The default token is the
    executor's default (Boost 1.81: `asio::deferred`).

    Per-operation cancellation: `terminal` and `partial` abort the transfer at any point
    (it is removed from libcurl's multi handle; its connection is closed, others are
    unaffected); `total` is honoured only while nothing has been sent yet. A cancelled
    operation completes once, with `asio::error::operation_aborted`. A cancellation after
    completion is a no-op. Emit the signal from the handler's executor, as Asio requires.

    Object lifetimes: nothing needs to outlive the call; the execution context must outlive
    the operation. Destroying the context destroys pending handlers without invoking them.
*/
template <class ExecutorOrContext,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
              CompletionToken = detail::default_token_t<detail::executor_of_t<ExecutorOrContext>>>
auto async_fetch(ExecutorOrContext&& ex_or_ctx, request req, CompletionToken&& token = CompletionToken{});

}  // namespace boost_curl

#include <boost_curl/impl/async_fetch.hpp>

#endif
