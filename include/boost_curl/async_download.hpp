#ifndef BOOST_CURL_ASYNC_DOWNLOAD_HPP
#define BOOST_CURL_ASYNC_DOWNLOAD_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/detail/default_token.hpp>
#include <boost_curl/detail/executor_of.hpp>
#include <boost_curl/detail/initiate_stream.hpp>
#include <boost_curl/error.hpp>
#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <filesystem>
#include <type_traits>

namespace boost_curl {

class session;

/// How async_download treats what is already on disk.
struct download_options {
  /// Resume a partial download: when `file` + ".part" exists (left by an earlier failed
  /// download with resume on), ask for the rest only ("Range: bytes=K-") and append; a server
  /// that answers 200 instead gets the file rewritten from its start. Failed downloads then
  /// keep their ".part" file for the next attempt.
  bool resume = false;
};

/** Download a response body to a file, written as it arrives (never held whole in memory).

    The body goes to `file` + ".part", renamed to `file` only once the exchange succeeded with
    a 2xx status: a failed download never leaves a file looking complete. On error the
    destination is untouched (not created), and the ".part" file is removed, unless
    `options.resume` asks to keep it. A final status outside 2xx completes with the status's
    error (category http_status), its body not saved. `max_body_size` limits the file (0 =
    unlimited; the default is 256 MiB): beyond it, error::body_too_large. A write error of the
    file (a full disk) completes with that error.

    Handler: `void(error_code, response)`, the response with an empty body. Everything else
    (executors, cancellation, sessions, tokens) is as for async_fetch.
*/
template <class ExecutorOrContext,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
              CompletionToken = detail::default_token_t<detail::executor_of_t<ExecutorOrContext>>,
          std::enable_if_t<!std::is_same_v<std::decay_t<CompletionToken>, download_options>, int> = 0>
auto async_download(ExecutorOrContext&& where, request req, std::filesystem::path file,
                    CompletionToken&& token = CompletionToken{});

template <class ExecutorOrContext,
          BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
              CompletionToken = detail::default_token_t<detail::executor_of_t<ExecutorOrContext>>>
auto async_download(ExecutorOrContext&& where, request req, std::filesystem::path file, download_options options,
                    CompletionToken&& token = CompletionToken{});

/// The same within a session (its defaults, cookies and caches apply).
template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
              CompletionToken = detail::default_token_t<boost::asio::any_io_executor>>
auto async_download(session& s, request req, std::filesystem::path file, download_options options,
                    CompletionToken&& token = CompletionToken{});
template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
              CompletionToken = detail::default_token_t<boost::asio::any_io_executor>,
          std::enable_if_t<!std::is_same_v<std::decay_t<CompletionToken>, download_options>, int> = 0>
auto async_download(session& s, request req, std::filesystem::path file, CompletionToken&& token = CompletionToken{});

}  // namespace boost_curl

#include <boost_curl/impl/async_download.hpp>

#endif
