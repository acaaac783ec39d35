#include <boost_curl/session.hpp>
#include <boost_curl/stream.hpp>

#include "detail/stream_state.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace boost_curl {
namespace asio = boost::asio;

namespace detail {
namespace {

constexpr std::size_t initial_buffer = std::size_t(64) << 10;

// What stream::head() shows from a completion on: nothing new, the open's head, or the final
// response's (at the end of the body).
enum class shows { same, opened, final };

// Runs a pending operation's handler on its executor: posted from initiating functions and
// cancellation, dispatched from the engine's own handlers. The slot is cleared there (on the
// executor the emitter uses), and what stream::head() shows is updated, just before the
// handler runs.
template <class Handler, class... Args>
void complete(pending_operation<Handler>&& op, bool post, const std::shared_ptr<stream_state>& state, shows head,
              Args... args) {
  asio::any_completion_executor ex = std::move(op.work);
  auto f = [h = std::move(op.handler), slot = op.slot, state, head, values = std::make_tuple(std::move(args)...)]() mutable {
    if (slot.is_connected()) slot.clear();
    if (head != shows::same) state->publish_head(head == shows::final);
    std::apply([&h](auto&&... a) { std::move(h)(std::move(a)...); }, std::move(values));
  };
  if (post)
    asio::post(op.io, asio::bind_executor(std::move(ex), std::move(f)));
  else
    asio::dispatch(ex, std::move(f));
}

// The handler the engine completes when the exchange ends: it reaches the state, never the
// user. Its slot is the state's abort signal, where the engine puts its cancellation.
struct end_handler {
  std::shared_ptr<stream_state> state;
  asio::cancellation_slot slot;

  using cancellation_slot_type = asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return slot; }

  end_handler(std::shared_ptr<stream_state> s, asio::cancellation_slot sl) : state(std::move(s)), slot(sl) {}
  end_handler(end_handler&& other) noexcept : state(std::move(other.state)), slot(other.slot) {}
  end_handler& operator=(end_handler&&) = delete;
  ~end_handler() {
    if (state) state->on_dropped();  // destroyed unrun: the context shut down
  }
  void operator()(error_code ec, response r) {
    const std::shared_ptr<stream_state> s = std::move(state);
    s->on_end(ec, std::move(r));
  }
};

}  // namespace

struct stream_state::outcome {
  std::optional<pending_operation<fetch_handler>> open;
  error_code open_ec;
  std::optional<response> open_head;
  std::optional<pending_operation<read_handler>> read;
  error_code read_ec;
  std::size_t read_n = 0;
  bool final_head = false;  // at the end of the body, head() becomes the final response's
  std::optional<pending_operation<read_handler>> write;
  error_code write_ec;
  std::size_t write_n = 0;
};

// ---------------------------------------------------------------------------------------
// The reader's side

void stream_state::open(pending_operation<fetch_handler>&& op, request&& req, const std::shared_ptr<session_state>& session) {
  asio::any_io_executor io;
  {
    std::unique_lock lock(mutex_);
    if (opened_) {  // stream::async_open makes a fresh state for a second exchange
      lock.unlock();
      complete(std::move(op), true, shared_from_this(), shows::same, error_code(asio::error::already_open), response{});
      return;
    }
    opened_ = true;
    fail_on_error_status_ = req.fail_on_error_status;
    io = op.io;
    open_.emplace(std::move(op));
  }
  asio::any_completion_executor work = asio::prefer(io, asio::execution::outstanding_work.tracked);
  // Under emit_mutex_: the engine puts its cancellation handler in abort_signal_'s slot here,
  // which must not race with an emit (an operation's slot, on another thread).
  std::unique_lock emit_lock(emit_mutex_);
  try {
    initiate_fetch(io, std::move(work), std::move(req),
                   fetch_handler(end_handler(shared_from_this(), abort_signal_.slot())), session, shared_from_this());
  } catch (...) {
    // Nothing started (out of memory): the open is taken back, its handler destroyed unrun
    // (it may hold this stream: kept here it would keep both alive for ever), and the
    // exception goes to the caller.
    emit_lock.unlock();
    std::optional<pending_operation<fetch_handler>> back;
    {
      std::lock_guard lock(mutex_);
      back.swap(open_);
      if (!ended_) opened_ = false;
    }
    throw;
  }
}

void stream_state::read(pending_operation<read_handler>&& op, const asio::mutable_buffer* buffers, std::size_t count) {
  std::unique_lock lock(mutex_);
  std::size_t wanted = 0;
  for (std::size_t i = 0; i < count; ++i) wanted += buffers[i].size();
  error_code ec;
  std::size_t n = 0;
  bool final_head = false;
  if (read_) {
    ec = asio::error::in_progress;  // one read at a time, as for any AsyncReadStream
  } else if (!opened_) {
    ec = asio::error::not_connected;
  } else if (wanted == 0) {
  } else if (held() != 0) {
    n = copy_out(buffers, count);
  } else if (ended_ && !open_) {
    ec = end_ec_ ? end_ec_ : error_code(asio::error::eof);
    final_head = !end_ec_;
  } else {
    read_buffers_.assign(buffers, buffers + count);
    read_filled_ = 0;
    read_.emplace(std::move(op));
    return;
  }
  const bool resume_now = take_resume();
  lock.unlock();
  if (resume_now) resume();
  complete(std::move(op), true, shared_from_this(), final_head ? shows::final : shows::same, ec, n);
}

void stream_state::write(pending_operation<read_handler>&& op, const asio::const_buffer* buffers, std::size_t count) {
  std::unique_lock lock(mutex_);
  std::size_t offered = 0;
  for (std::size_t i = 0; i < count; ++i) offered += buffers[i].size();
  error_code ec;
  std::size_t n = 0;
  if (write_) {
    ec = asio::error::in_progress;
  } else if ((ec = write_refused())) {
  } else if (offered == 0) {
  } else if (upload_held() < stream_buffer_limit) {
    n = copy_in(buffers, count);
  } else {
    write_buffers_.assign(buffers, buffers + count);
    write_.emplace(std::move(op));
    return;
  }
  const bool resume_now = take_resume();
  lock.unlock();
  if (resume_now) resume();
  complete(std::move(op), true, shared_from_this(), shows::same, ec, n);
}

error_code stream_state::write_refused() const {
  if (!opened_) return asio::error::not_connected;
  if (upload_finished_) return asio::error::shut_down;  // finish_body() was called
  if (ended_ || aborted_) return end_ec_ ? end_ec_ : error_code(asio::error::broken_pipe);
  return {};
}

std::size_t stream_state::copy_in(const asio::const_buffer* buffers, std::size_t count) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count && upload_held() < stream_buffer_limit; ++i) {
    const std::size_t k = std::min(buffers[i].size(), stream_buffer_limit - upload_held());
    upload_.append(static_cast<const char*>(buffers[i].data()), k, initial_buffer);
    n += k;
  }
  return n;
}

void stream_state::finish_body() {
  bool resume_now = false;
  {
    std::lock_guard lock(mutex_);
    upload_finished_ = true;
    resume_now = take_resume();
  }
  if (resume_now) resume();
}

std::size_t stream_state::copy_out(const asio::mutable_buffer* buffers, std::size_t count) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count && buffer_.size() != 0; ++i)
    n += buffer_.take(static_cast<char*>(buffers[i].data()), buffers[i].size());
  return n;
}

// Resumed once the reader has taken half: not at every byte, so that a reader of small
// pieces does not pause and resume the transfer for each.
bool stream_state::take_resume() noexcept {
  if (ended_) return false;
  bool resume_now = false;
  if (paused_ && held() <= stream_buffer_limit / 2) {
    paused_ = false;
    resume_now = true;
  }
  if (send_paused_ && (upload_held() != 0 || upload_finished_)) {
    send_paused_ = false;
    resume_now = true;
  }
  return resume_now;  // curl_easy_pause(CURLPAUSE_CONT) lets both directions go
}

void stream_state::resume() {
  std::weak_ptr<multi_driver> driver;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    driver = driver_;
    id = operation_id_;
  }
  if (auto d = driver.lock()) d->resume(id);
}

void stream_state::abort() {
  outcome out;
  {
    std::lock_guard lock(mutex_);
    if (!ended_ && opened_) {
      aborted_ = true;
      end_ec_ = asio::error::operation_aborted;
      buffer_.clear();
    }
    if (open_) {
      out.open = std::move(open_);
      open_.reset();
    }
    if (read_) {
      out.read = std::move(read_);
      read_.reset();
      read_filled_ = 0;
    }
    if (write_) {
      out.write = std::move(write_);
      write_.reset();
    }
  }
  const error_code aborted = asio::error::operation_aborted;
  if (out.write) complete(std::move(*out.write), true, shared_from_this(), shows::same, aborted, std::size_t{0});
  if (out.open) complete(std::move(*out.open), true, shared_from_this(), shows::same, aborted, response{});
  if (out.read) complete(std::move(*out.read), true, shared_from_this(), shows::same, aborted, std::size_t{0});
  std::lock_guard emit_lock(emit_mutex_);
  abort_signal_.emit(asio::cancellation_type::terminal);  // a finished exchange ignores it
}

bool stream_state::in_use() const noexcept {
  std::lock_guard lock(mutex_);
  return opened_;
}

// A finished exchange (the engine is done with this state: its end arrived, nothing pending)
// makes room for the next one in place, keeping the buffers' memory: a stream reopened for
// request after request allocates them once.
bool stream_state::reuse() noexcept {
  std::lock_guard lock(mutex_);
  if (!ended_ || open_ || read_ || write_ || scheduled_) return false;
  buffer_.clear();
  paused_ = notice_ = opened_ = fail_on_error_status_ = ended_ = aborted_ = out_of_memory_ = false;
  head_.reset();
  end_ec_ = {};
  final_ = response{};
  driver_.reset();
  operation_id_ = 0;
  read_filled_ = 0;
  upload_.clear();
  upload_finished_ = send_paused_ = false;
  return true;
}

// ---------------------------------------------------------------------------------------
// The engine's side: libcurl's callbacks, driver's mutex held

void stream_state::started(std::weak_ptr<multi_driver> driver, std::uint64_t operation_id) {
  std::lock_guard lock(mutex_);
  driver_ = std::move(driver);
  operation_id_ = operation_id;
}

void stream_state::head(const response& r) {
  std::lock_guard lock(mutex_);
  try {
    head_ = r;
  } catch (...) {
    head_.emplace();  // out of memory: an empty head rather than none
    head_->status = r.status;
  }
  if (open_) schedule();
}

std::size_t stream_state::write(const char* data, std::size_t n) {
  std::lock_guard lock(mutex_);
  if (aborted_) return 0;
  const std::size_t all = n;
  if (read_ && held() == 0) {
    // A reader waits: its own buffers first, one copy instead of two; what does not fit is
    // kept below (the buffer is empty, so it always fits).
    const std::size_t placed = place(data, n);
    schedule();
    if (placed == n) return all;
    data += placed;
    n -= placed;
  }
  if (held() != 0 && held() + n > stream_buffer_limit) {
    paused_ = true;
    return CURL_WRITEFUNC_PAUSE;  // libcurl keeps these bytes and gives them again after resume()
  }
  try {
    // 64 KiB at first (several of libcurl's 16 KiB writes), doubled as needed up to the
    // limit's neighbourhood.
    buffer_.append(data, n, initial_buffer);
  } catch (...) {
    out_of_memory_ = true;
    return 0;
  }
  if (read_) schedule();
  return all;
}

std::size_t stream_state::place(const char* data, std::size_t n) noexcept {
  std::size_t placed = 0, skip = read_filled_;
  for (const asio::mutable_buffer& b : read_buffers_) {
    if (placed == n) break;
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    const std::size_t k = std::min(b.size() - skip, n - placed);
    std::memcpy(static_cast<char*>(b.data()) + skip, data + placed, k);
    placed += k;
    skip = 0;
  }
  read_filled_ += placed;
  return placed;
}

void stream_state::publish_head(bool final) {
  std::lock_guard lock(mutex_);
  if (final)
    user_head_ = final_;
  else if (head_)
    user_head_ = *head_;
  else
    user_head_ = final_;
}

std::size_t stream_state::read(char* data, std::size_t n) {
  std::lock_guard lock(mutex_);
  if (aborted_) return CURL_READFUNC_ABORT;
  if (upload_.size() == 0) {
    if (upload_finished_) return 0;  // the end of the body
    send_paused_ = true;
    return CURL_READFUNC_PAUSE;  // resumed by the next write or finish_body()
  }
  const std::size_t k = upload_.take(data, n);
  if (write_) schedule();  // room for the pending write
  return k;
}

error_code stream_state::failure() const {
  std::lock_guard lock(mutex_);
  if (aborted_) return asio::error::operation_aborted;
  if (out_of_memory_) return make_curl_error(CURLE_OUT_OF_MEMORY);
  return {};
}

// Never completes from inside libcurl: the driver calls deliver() once its mutex is released.
void stream_state::schedule() noexcept {
  if (scheduled_) return;
  scheduled_ = true;
  notice_ = true;
}

bool stream_state::take_notice() noexcept {
  std::lock_guard lock(mutex_);
  return std::exchange(notice_, false);
}

void stream_state::deliver(bool post) {
  std::unique_lock lock(mutex_);
  scheduled_ = false;
  serve(lock, post);
}

void stream_state::on_end(error_code ec, response r) {
  std::unique_lock lock(mutex_);
  ended_ = true;
  if (!aborted_) end_ec_ = ec;
  final_ = std::move(r);
  serve(lock, false);
}

void stream_state::on_dropped() noexcept {
  std::optional<pending_operation<fetch_handler>> open;
  std::optional<pending_operation<read_handler>> read;
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    if (!end_ec_) end_ec_ = asio::error::operation_aborted;
    open.swap(open_);
    read.swap(read_);
  }
  // Destroyed here, outside the mutex: a handler's destructor may destroy the stream.
}

// Completes what can be completed now: the open once the head (or the end) is there, a read
// once bytes (or the end) are.
void stream_state::serve(std::unique_lock<std::mutex>& lock, bool post) {
  outcome out;
  if (open_ && (head_ || ended_)) {
    out.open.swap(open_);
    if (head_) {
      out.open_head = *head_;  // kept: publish_head() copies it for head()
      const unsigned code = head_->status_code();
      if (fail_on_error_status_ && code >= 400 && code <= 599) out.open_ec = make_http_status_error(code);
    } else {
      out.open_ec = end_ec_;
      out.open_head = final_;
    }
  }
  if (read_ && !open_ && (read_filled_ != 0 || held() != 0 || ended_)) {
    out.read.swap(read_);
    if (read_filled_ != 0) {
      out.read_n = std::exchange(read_filled_, 0);  // written straight into its buffers
    } else if (held() != 0) {
      out.read_n = copy_out(read_buffers_.data(), read_buffers_.size());
    } else {
      out.read_ec = end_ec_ ? end_ec_ : error_code(asio::error::eof);
      out.final_head = !end_ec_;
    }
  }
  if (write_) {
    if (const error_code refused = write_refused()) {
      out.write.swap(write_);
      out.write_ec = refused;
    } else if (upload_held() < stream_buffer_limit) {
      out.write.swap(write_);
      out.write_n = copy_in(write_buffers_.data(), write_buffers_.size());
    }
  }
  const bool resume_now = take_resume();
  lock.unlock();
  if (resume_now) resume();
  const std::shared_ptr<stream_state> self = shared_from_this();
  if (out.write) complete(std::move(*out.write), post, self, shows::same, out.write_ec, out.write_n);
  if (out.open) {
    complete(std::move(*out.open), post, self, shows::opened, out.open_ec, std::move(*out.open_head));
  }
  if (out.read) complete(std::move(*out.read), post, self, out.final_head ? shows::final : shows::same, out.read_ec, out.read_n);
}

// ---------------------------------------------------------------------------------------
// Entry points of the templates

std::shared_ptr<stream_state> make_stream_state(const asio::any_io_executor&) {
  return std::make_shared<stream_state>();
}

void stream_open(const std::shared_ptr<stream_state>& state, pending_operation<fetch_handler>&& op, request&& req,
                 const std::shared_ptr<session_state>& session) {
  state->open(std::move(op), std::move(req), session);
}

void stream_read(const std::shared_ptr<stream_state>& state, pending_operation<read_handler>&& op,
                 const asio::mutable_buffer* buffers, std::size_t count) {
  state->read(std::move(op), buffers, count);
}

void stream_write(const std::shared_ptr<stream_state>& state, pending_operation<read_handler>&& op,
                  const asio::const_buffer* buffers, std::size_t count) {
  state->write(std::move(op), buffers, count);
}

void stream_finish_body(stream_state& state) { state.finish_body(); }

void stream_abort(stream_state& state) { state.abort(); }

bool stream_in_use(const stream_state& state) noexcept { return state.in_use(); }

bool stream_reuse(stream_state& state) noexcept { return state.reuse(); }

}  // namespace detail

// ---------------------------------------------------------------------------------------
// stream

stream::stream(const executor_type& ex) : executor_(ex), state_(detail::make_stream_state(ex)) {}

stream::stream(session& s) : executor_(s.get_executor()), session_(s.state()), state_(detail::make_stream_state(executor_)) {}

stream::stream(stream&& other) noexcept = default;

stream& stream::operator=(stream&& other) noexcept {
  if (this != &other) {
    if (state_) detail::stream_abort(*state_);
    executor_ = std::move(other.executor_);
    session_ = std::move(other.session_);
    state_ = std::move(other.state_);
  }
  return *this;
}

stream::~stream() {
  if (state_) detail::stream_abort(*state_);
}

const response& stream::head() const {
  static const response none;
  return state_ ? state_->user_head() : none;
}

void stream::finish_body() {
  if (state_) detail::stream_finish_body(*state_);
}

void stream::cancel() {
  if (state_) detail::stream_abort(*state_);
}

}  // namespace boost_curl
