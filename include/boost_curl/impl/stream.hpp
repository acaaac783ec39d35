#ifndef BOOST_CURL_IMPL_STREAM_HPP
#define BOOST_CURL_IMPL_STREAM_HPP

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/container/small_vector.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace boost_curl {
namespace detail {

// The type-erased operation: the handler, its executor with work tracked, the stream's
// executor to post through, and its cancellation slot, given to stream_cancellation if
// connected. The slot is taken from the erased handler: Asio's any_completion_handler puts a
// cancellation state of its own in the handler's slot and offers a child slot in its place.
template <class Signature, class Handler>
pending_operation<boost::asio::any_completion_handler<Signature>> make_pending(
    Handler&& handler, const boost::asio::any_io_executor& io, const std::shared_ptr<stream_state>& state) {
  boost::asio::any_completion_executor work =
      boost::asio::prefer(boost::asio::get_associated_executor(handler, io), boost::asio::execution::outstanding_work.tracked);
  boost::asio::any_completion_handler<Signature> erased(std::forward<Handler>(handler));
  boost::asio::cancellation_slot slot = boost::asio::get_associated_cancellation_slot(erased);
  if (slot.is_connected()) slot.template emplace<stream_cancellation>(stream_cancellation{state});
  return {std::move(erased), std::move(work), io, slot};
}

// The stream's state: a moved-from stream has none and gets a fresh one here, as a new stream
// (not in the move itself, which must not allocate). Looked up when an operation is initiated,
// not when it is made: a deferred read launched after a deferred open (in a parallel_group,
// say) goes to the exchange that open started.
inline const std::shared_ptr<stream_state>& current_state(std::shared_ptr<stream_state>& slot,
                                                          const boost::asio::any_io_executor& ex) {
  if (!slot) slot = make_stream_state(ex);
  return slot;
}

class stream_open_initiation {
 public:
  using executor_type = boost::asio::any_io_executor;
  stream_open_initiation(executor_type ex, std::shared_ptr<stream_state>* state, std::shared_ptr<session_state> session)
      : ex_(std::move(ex)), state_(state), session_(std::move(session)) {}
  executor_type get_executor() const noexcept { return ex_; }

  // The request by rvalue reference, as async_fetch's: moved once more, into its transfer. A
  // token that passes its stored request as an lvalue gets the copy a by-value parameter would
  // have made.
  template <class Handler>
  void operator()(Handler&& handler, const request& req) const {
    (*this)(std::forward<Handler>(handler), request(req));
  }

  template <class Handler>
  void operator()(Handler&& handler, request&& req) const {
    // A stream opened again starts afresh; the old exchange, if unfinished, is aborted.
    if (stream_in_use(*current_state(*state_, ex_)) && !stream_reuse(**state_)) {
      stream_abort(**state_);
      *state_ = make_stream_state(ex_);
    }
    stream_open(*state_, make_pending<fetch_signature>(std::forward<Handler>(handler), ex_, *state_), std::move(req),
                session_);
  }

 private:
  executor_type ex_;
  std::shared_ptr<stream_state>* state_;  // the stream's: deferred operations need it alive
  std::shared_ptr<session_state> session_;
};

// async_read_some (Buffer: mutable_buffer) and async_write_some (const_buffer): the buffer
// sequence flattened, the handler erased.
template <class Buffer>
class stream_transfer_initiation {
 public:
  using executor_type = boost::asio::any_io_executor;
  stream_transfer_initiation(executor_type ex, std::shared_ptr<stream_state>* state)
      : ex_(std::move(ex)), state_(state) {}
  executor_type get_executor() const noexcept { return ex_; }

  template <class Handler, class BufferSequence>
  void operator()(Handler&& handler, const BufferSequence& buffers) const {
    boost::container::small_vector<Buffer, 8> list;
    for (auto it = boost::asio::buffer_sequence_begin(buffers), end = boost::asio::buffer_sequence_end(buffers);
         it != end; ++it)
      list.push_back(Buffer(*it));
    const std::shared_ptr<stream_state>& state = current_state(*state_, ex_);  // no user code runs below
    auto op = make_pending<read_signature>(std::forward<Handler>(handler), ex_, state);
    if constexpr (std::is_same_v<Buffer, boost::asio::mutable_buffer>)
      stream_read(state, std::move(op), list.data(), list.size());
    else
      stream_write(state, std::move(op), list.data(), list.size());
  }

 private:
  executor_type ex_;
  std::shared_ptr<stream_state>* state_;  // the stream's: deferred operations need it alive
};

}  // namespace detail

template <class ConstBufferSequence, BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::read_signature) CompletionToken>
auto stream::async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, detail::read_signature>(
      detail::stream_transfer_initiation<boost::asio::const_buffer>(executor_, &state_), token, buffers);
}

template <BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::fetch_signature) CompletionToken>
auto stream::async_open(request req, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, detail::fetch_signature>(
      detail::stream_open_initiation(executor_, &state_, session_), token, std::move(req));
}

template <class MutableBufferSequence, BOOST_ASIO_COMPLETION_TOKEN_FOR(detail::read_signature) CompletionToken>
auto stream::async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, detail::read_signature>(
      detail::stream_transfer_initiation<boost::asio::mutable_buffer>(executor_, &state_), token, buffers);
}

}  // namespace boost_curl

#endif
