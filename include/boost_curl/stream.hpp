#ifndef BOOST_CURL_STREAM_HPP
#define BOOST_CURL_STREAM_HPP

#include <boost_curl/config.hpp>
#include <boost_curl/detail/default_token.hpp>
#include <boost_curl/detail/initiate_stream.hpp>
#include <boost_curl/error.hpp>
#include <boost_curl/request.hpp>
#include <boost_curl/response.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution_context.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>

namespace boost_curl {

class session;

/** One HTTP exchange whose response body is read as it arrives: an AsyncReadStream (and, for
    a request body of unknown length, an AsyncWriteStream: see request::streamed_body).

    `async_open` sends the request and completes when the response's head (status line and
    header fields of the final response, redirects followed as the request says) has arrived;
    `async_read_some` then reads the body, and gives `asio::error::eof` after its last byte
    (again on every later read). `asio::async_read`, `asio::async_read_until` and Beast's
    stream algorithms work on it unchanged.

    Backpressure: the stream holds at most `buffer_limit` bytes the reader has not taken. When
    that is full the transfer is paused (libcurl's CURL_WRITEFUNC_PAUSE: its socket is no
    longer watched, so a paused stream costs no CPU) and resumed once a read has taken half of
    it. libcurl itself keeps the bytes of the write it was paused in: at most one receive buffer
    (`request::receive_buffer_size`, at most 63 KiB by default), or with
    `decompress` the decoded output of one received buffer, which the stream limits to 1 KiB
    of input (so at most about 1 MiB of output even from a gzip bomb). Over HTTP/2 the bound
    is libcurl's, not ours: libcurl 7.88 opens a 32 MiB flow-control window per stream and
    closes it on pause, so what the server sent within the window (up to 32 MiB) waits in
    libcurl's memory; other streams on the connection go on. Ask for `http_version::http1_1`
    where a stream must stay within about 1 MiB.

    `max_body_size` does not apply (what the stream holds is bounded anyway). The request's
    `timeout` covers the whole exchange, paused time included: leave it 0 for long streams.

    Completion: handlers run on their associated executor (else the stream's), never inside
    the initiating function. Per-operation cancellation (any type) of a pending `async_open` or
    `async_read_some` aborts the exchange: the operation completes with
    `asio::error::operation_aborted`, and so does every later read.

    Lifetime: `cancel()` and the destructor abort an unfinished exchange; pending operations
    then complete once with `operation_aborted`. While its transfer runs (paused or not) the
    stream keeps its execution context's run() from returning: read to the end, or destroy or
    cancel the stream. The execution context must outlive the stream.

    Thread safety: like Asio's I/O objects, one operation of each kind at a time, and no
    concurrent calls on one object.
*/
class stream {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Most body bytes held for the reader before the transfer is paused.
  static constexpr std::size_t buffer_limit = detail::stream_buffer_limit;

  BOOST_CURL_DECL explicit stream(const executor_type& ex);
  template <class ExecutionContext,
            std::enable_if_t<std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>, int> = 0>
  explicit stream(ExecutionContext& ctx) : stream(executor_type(ctx.get_executor())) {}
  /// A stream of a session: the session's defaults, cookies and caches apply, as for
  /// async_fetch(session, ...).
  BOOST_CURL_DECL explicit stream(session& s);

  /// The exchange goes with the move; the moved-from stream is as if newly constructed (same
  /// executor and session): it may be opened again, and until then reads and writes complete
  /// with `asio::error::not_connected`, as Asio's moved-from I/O objects do.
  BOOST_CURL_DECL stream(stream&& other) noexcept;
  BOOST_CURL_DECL stream& operator=(stream&& other) noexcept;
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  BOOST_CURL_DECL ~stream();

  executor_type get_executor() const noexcept { return executor_; }

  /** Start the exchange. Handler: `void(error_code, response)`, the response's head (body
      empty). With `fail_on_error_status`, a 4xx or 5xx head completes with the status error.
      Opening a stream again starts a new exchange (an unfinished one is aborted first). */
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_open(request req, CompletionToken&& token = CompletionToken{});

  /** Read some body bytes. Handler: `void(error_code, std::size_t)`. Completes with what is
      there (at least one byte unless the buffers are empty), else when bytes arrive or the
      exchange ends: `asio::error::eof` at the end, or the transfer's error.
      May be started while async_open is pending (once it has been initiated): it then
      completes after the open (on the same executor, the open's handler runs first) with the
      first body bytes, which libcurl's write callback puts straight into its buffers: a body
      that arrives with its head is copied once instead of twice. If the exchange fails before
      its head, both complete with the error. */
  template <class MutableBufferSequence,
            BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::read_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token = CompletionToken{});

  /** Write some of a request::streamed_body. Handler: `void(error_code, std::size_t)`. Takes
      what fits in the stream's buffer (`buffer_limit`), waiting for room when it is full
      (libcurl takes from it as the connection allows: backpressure to the writer). May be
      called while async_open is pending: the server usually answers after the whole body.
      `asio::async_write` works on it. Fails with `not_connected` before async_open, with
      `shut_down` after finish_body(), and with the exchange's error (or `broken_pipe`) once
      it has ended. */
  template <class ConstBufferSequence,
            BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::read_signature)
                CompletionToken = detail::default_token_t<executor_type>>
  auto async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token = CompletionToken{});
  /// The request::streamed_body is complete: once libcurl has sent what was written, it ends
  /// the body (the last chunk).
  BOOST_CURL_DECL void finish_body();

  /// What async_open delivered; after eof, the final response's head with complete timings.
  BOOST_CURL_DECL const response& head() const;
  /// Aborts the exchange if it is unfinished; pending operations complete with operation_aborted.
  BOOST_CURL_DECL void cancel();

 private:
  executor_type executor_;
  std::shared_ptr<detail::session_state> session_;
  std::shared_ptr<detail::stream_state> state_;
};

}  // namespace boost_curl

#include <boost_curl/impl/stream.hpp>

#endif
