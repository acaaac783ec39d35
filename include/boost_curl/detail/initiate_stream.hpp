#ifndef BOOST_CURL_DETAIL_INITIATE_STREAM_HPP
#define BOOST_CURL_DETAIL_INITIATE_STREAM_HPP

// The compiled half of stream and async_download (src/stream.cpp, src/download.cpp): the
// templates erase the handler's type and call these.

#include <boost_curl/config.hpp>
#include <boost_curl/detail/initiate_fetch.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>

namespace boost_curl {
struct download_options;  // <boost_curl/async_download.hpp>
}

namespace boost_curl::detail {

using read_signature = void(error_code, std::size_t);
using read_handler = boost::asio::any_completion_handler<read_signature>;

inline constexpr std::size_t stream_buffer_limit = std::size_t(256) << 10;

class stream_state;  // src/detail/stream_state.hpp

// The pending operation's handler, its executor with work tracked, the executor to post
// through, and its cancellation slot (cleared on that executor just before it runs).
template <class Handler>
struct pending_operation {
  Handler handler;
  boost::asio::any_completion_executor work;
  boost::asio::any_io_executor io;
  boost::asio::cancellation_slot slot;
};

BOOST_CURL_DECL std::shared_ptr<stream_state> make_stream_state(const boost::asio::any_io_executor& ex);
BOOST_CURL_DECL void stream_open(const std::shared_ptr<stream_state>& state, pending_operation<fetch_handler>&& op,
                                 request&& req, const std::shared_ptr<session_state>& session);
BOOST_CURL_DECL void stream_read(const std::shared_ptr<stream_state>& state, pending_operation<read_handler>&& op,
                                 const boost::asio::mutable_buffer* buffers, std::size_t count);
BOOST_CURL_DECL void stream_write(const std::shared_ptr<stream_state>& state, pending_operation<read_handler>&& op,
                                  const boost::asio::const_buffer* buffers, std::size_t count);
BOOST_CURL_DECL void stream_finish_body(stream_state& state);
BOOST_CURL_DECL void stream_abort(stream_state& state);
BOOST_CURL_DECL bool stream_in_use(const stream_state& state) noexcept;
BOOST_CURL_DECL bool stream_reuse(stream_state& state) noexcept;  // a finished exchange's state, made fresh

// What a pending stream operation's cancellation slot holds.
struct stream_cancellation {
  std::weak_ptr<stream_state> state;
  void operator()(boost::asio::cancellation_type_t) const {
    if (auto s = state.lock()) stream_abort(*s);
  }
};

BOOST_CURL_DECL void start_download(pending_operation<fetch_handler>&& op, request&& req, std::filesystem::path file,
                                    const boost_curl::download_options& options,
                                    const std::shared_ptr<session_state>& session);

}  // namespace boost_curl::detail

#endif
