#ifndef BOOST_CURL_SRC_DETAIL_STREAM_STATE_HPP
#define BOOST_CURL_SRC_DETAIL_STREAM_STATE_HPP

// What a stream shares with the engine: the bytes libcurl wrote and the reader has not taken
// yet, the head, the end, and the reader's pending operations.
//
// Hand-off (doc/engine.md, "Streams"): libcurl's write callback runs with the driver's mutex
// held and appends to the buffer under this state's own mutex (taken after the driver's,
// never the other way round); when the buffer is full it pauses the transfer. A reader takes
// bytes under this mutex only, and resumes the transfer (driver's mutex) after releasing it.
// A pending operation is never completed from inside libcurl: the callback leaves a notice
// that the driver delivers (deliver()) once it has released its mutex. No user code runs
// under either mutex. Completing never loses an operation for lack of memory (see kind).

#include "body_sink.hpp"
#include "byte_ring.hpp"
#include "multi_driver.hpp"

#include <boost_curl/detail/initiate_stream.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <mutex>
#include <optional>
#include <string>

namespace boost_curl::detail {

class stream_state final : public body_sink, public std::enable_shared_from_this<stream_state> {
 public:
  stream_state() = default;

  void open(pending_operation<fetch_handler>&& op, request&& req, const std::shared_ptr<session_state>& session);
  void read(pending_operation<read_handler>&& op, const boost::asio::mutable_buffer* buffers, std::size_t count);
  void write(pending_operation<read_handler>&& op, const boost::asio::const_buffer* buffers, std::size_t count);
  void finish_body();
  void abort() noexcept;
  bool in_use() const noexcept;
  bool reuse() noexcept;  // ready for another exchange, if this one is over
  const response& user_head() const noexcept { return user_head_; }

  // body_sink (driver's mutex held)
  bool take_notice() noexcept override;
  void started(std::weak_ptr<multi_driver> driver, std::uint64_t operation_id) override;
  void head(const response& r) override;
  std::size_t write(const char* data, std::size_t n) override;
  error_code failure() const override;
  std::size_t read(char* data, std::size_t n) override;

  // engine_notice: what a libcurl callback left for a pending operation (driver's mutex released).
  void deliver(bool post) override;
  void drop() noexcept override { on_dropped(); }
  // The engine's completion of the exchange.
  void on_end(error_code ec, response r);
  // The engine dropped the exchange without completing it (the context shut down): pending
  // operations are destroyed, as Asio does with every pending handler then.
  void on_dropped() noexcept;

  // The three kinds of pending operation, and how one is handed to its handler's executor:
  // the operation stays here, and a small runner (naming it) is posted or dispatched; the
  // runner takes it, with its result, when it runs (run()). Queueing the runner is the only
  // step that may fail for lack of memory, and then nothing is lost: the operation is still
  // here, asked again at the driver's next wake-up (retry_later()).
  enum kind : unsigned char { open_kind, read_kind, write_kind };
  void run(kind k, unsigned generation);
  void runner_dropped(kind k, unsigned generation) noexcept;

 private:
  enum class phase : unsigned char { waiting, queued };
  struct dispatch_state {
    phase at = phase::waiting;
    unsigned generation = 0;  // names one queueing: a runner of an earlier one is stale
  };

  std::size_t held() const noexcept { return buffer_.size(); }
  void schedule() noexcept;  // mutex_ held: a delivery is wanted (take_notice(), then deliver())
  bool ready(kind k) const;   // mutex_ held: the operation of kind k can complete now
  void serve(std::unique_lock<std::mutex>& lock, bool post) noexcept;  // queues what can complete, unlocks
  void retry_later() noexcept;  // a runner could not be queued: the driver's next wake-up serves again
  void publish_head(bool final) noexcept;  // on the user's executor, just before a handler
  std::size_t copy_out(const boost::asio::mutable_buffer* buffers, std::size_t count);
  std::size_t place(const char* data, std::size_t n) noexcept;  // into the pending read's buffers
  std::size_t upload_held() const noexcept { return upload_.size(); }
  std::size_t copy_in(const boost::asio::const_buffer* buffers, std::size_t count);
  error_code write_refused() const;  // mutex_ held: why a write cannot be taken, if it cannot
  bool take_resume() noexcept;  // mutex_ held: whether the reader or writer should resume the transfer now
  void resume();                // without mutex_

  mutable std::mutex mutex_;
  byte_ring buffer_;       // the reader's bytes
  bool paused_ = false;    // the write callback paused the transfer
  bool scheduled_ = false; // a delivery is wanted and not begun
  bool notice_ = false;    // ...and the driver is not told yet
  bool opened_ = false;
  bool fail_on_error_status_ = false;
  std::optional<response> head_;
  bool ended_ = false;
  bool aborted_ = false;
  bool out_of_memory_ = false;
  error_code end_ec_;
  response final_;
  std::weak_ptr<multi_driver> driver_;
  std::uint64_t operation_id_ = 0;
  std::optional<pending_operation<fetch_handler>> open_;
  std::optional<pending_operation<read_handler>> read_;
  boost::container::small_vector<boost::asio::mutable_buffer, 8> read_buffers_;
  std::size_t read_filled_ = 0;  // bytes the write callback put straight into them
  dispatch_state dispatch_[3];

  // A request::streamed_body: what the writer gave and libcurl has not taken yet (bounded
  // like the body read), and whether the writer said it is all.
  byte_ring upload_;
  bool upload_finished_ = false;
  bool send_paused_ = false;  // the read callback paused the sending
  std::optional<pending_operation<read_handler>> write_;
  boost::container::small_vector<boost::asio::const_buffer, 8> write_buffers_;

  // The exchange's own cancellation: the engine's handler sits in its slot. Emitted under
  // emit_mutex_ (never under mutex_): from cancel(), the destructor and pending operations' slots.
  std::mutex emit_mutex_;
  boost::asio::cancellation_signal abort_signal_;

  response user_head_;  // what head() shows: written on the user's executor, just before a handler runs
};

}  // namespace boost_curl::detail

#endif
