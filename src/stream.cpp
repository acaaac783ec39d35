#include <boost_curl/session.hpp>
#include <boost_curl/stream.hpp>

#include "detail/stream_state.hpp"
#include "detail/user_exception.hpp"

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

// Completes an operation at once with a result that takes nothing from the stream (a second
// read while one is pending, a read before the open...): posted from its initiating function.
// If queueing fails for lack of memory, the exception goes to the caller and the handler,
// never run, with it.
template <class Handler, class... Args>
void complete_now(pending_operation<Handler>&& op, Args... args) {
  auto f = [h = std::move(op.handler), slot = op.slot, values = std::make_tuple(std::move(args)...)]() mutable {
    if (slot.is_connected()) slot.clear();
    std::apply([&h](auto&&... a) { std::move(h)(std::move(a)...); }, std::move(values));
  };
  asio::any_io_executor io = op.io;
  asio::post(io, asio::bind_executor(std::move(op.work), std::move(f)));
}

// Which runner this thread is queueing (see runner's destructor).
struct queueing_mark {
  const stream_state* state;
  int kind;
};
thread_local queueing_mark queueing{nullptr, -1};

struct queueing_guard {
  queueing_mark saved;
  queueing_guard(const stream_state* s, int k) noexcept : saved(queueing) { queueing = {s, k}; }
  ~queueing_guard() { queueing = saved; }
  queueing_guard(const queueing_guard&) = delete;
  queueing_guard& operator=(const queueing_guard&) = delete;
};

// Posted or dispatched to a pending operation's executor: runs the operation it names, which
// the state still holds. Destroyed unrun (the context shut down), it has the operation
// destroyed; destroyed unrun while being queued (queueing failed), it leaves it for a retry.
class runner {
 public:
  runner(std::shared_ptr<stream_state> s, stream_state::kind k, unsigned generation) noexcept
      : state_(std::move(s)), kind_(k), generation_(generation) {}
  runner(runner&& other) noexcept
      : state_(std::move(other.state_)), kind_(other.kind_), generation_(other.generation_) {}
  runner& operator=(runner&&) = delete;
  ~runner() {
    if (state_ && !(queueing.state == state_.get() && queueing.kind == kind_)) state_->runner_dropped(kind_, generation_);
  }
  void operator()() {
    const std::shared_ptr<stream_state> s = std::move(state_);
    // Run inside the serve() that is queueing it, by an executor that may let the handler's
    // exception out of dispatch (where serve() would take it for a failure to queue): handed
    // to this thread's run() instead, as the io_context's executor does (user_exception.hpp).
    if (!(queueing.state == s.get() && queueing.kind == kind_)) return s->run(kind_, generation_);
    try {
      const queueing_guard running(nullptr, -1);  // the mark is serve()'s queueing, not this run's
      s->run(kind_, generation_);
    } catch (...) {
      if (!keep_user_exception()) throw;
    }
  }

 private:
  std::shared_ptr<stream_state> state_;
  stream_state::kind kind_;
  unsigned generation_;
};

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

// A copy of `from` in `to`; out of memory, what could be copied (the status at least).
void copy_head(const response& from, response& to) noexcept {
  try {
    to = from;
  } catch (...) {
    to.status = from.status;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The reader's side

void stream_state::open(pending_operation<fetch_handler>&& op, request&& req, const std::shared_ptr<session_state>& session) {
  asio::any_io_executor io;
  {
    std::unique_lock lock(mutex_);
    if (opened_) {  // stream::async_open makes a fresh state for a second exchange
      lock.unlock();
      complete_now(std::move(op), error_code(asio::error::already_open), response{});
      return;
    }
    io = op.io;
    opened_ = true;
    fail_on_error_status_ = req.fail_on_error_status;
    open_.emplace(std::move(op));
  }
  // Under emit_mutex_: the engine puts its cancellation handler in abort_signal_'s slot here,
  // which must not race with an emit (an operation's slot, on another thread).
  std::unique_lock emit_lock(emit_mutex_);
  try {
    asio::any_completion_executor work = asio::prefer(io, asio::execution::outstanding_work.tracked);
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
  if (read_) {
    ec = asio::error::in_progress;  // one read at a time, as for any AsyncReadStream
  } else if (!opened_) {
    ec = asio::error::not_connected;
  } else if (wanted != 0) {
    read_buffers_.assign(buffers, buffers + count);  // may throw: nothing taken yet
    read_filled_ = 0;
    read_.emplace(std::move(op));
    serve(lock, true);  // completes it now if bytes (or the end) are here
    return;
  }
  lock.unlock();
  complete_now(std::move(op), ec, std::size_t{0});
}

void stream_state::write(pending_operation<read_handler>&& op, const asio::const_buffer* buffers, std::size_t count) {
  std::unique_lock lock(mutex_);
  std::size_t offered = 0;
  for (std::size_t i = 0; i < count; ++i) offered += buffers[i].size();
  error_code ec;
  if (write_) {
    ec = asio::error::in_progress;
  } else if ((ec = write_refused())) {
  } else if (offered != 0) {
    write_buffers_.assign(buffers, buffers + count);  // may throw: nothing taken yet
    write_.emplace(std::move(op));
    serve(lock, true);  // takes the bytes now if there is room
    return;
  }
  lock.unlock();
  complete_now(std::move(op), ec, std::size_t{0});
}

error_code stream_state::write_refused() const {
  if (!opened_) return asio::error::not_connected;
  if (upload_finished_) return asio::error::shut_down;  // finish_body() was called
  if (ended_ || aborted_) return end_ec_ ? end_ec_ : error_code(asio::error::broken_pipe);
  return {};
}

// All or nothing: throws std::bad_alloc, having taken nothing, when the room cannot be made.
std::size_t stream_state::copy_in(const asio::const_buffer* buffers, std::size_t count) {
  std::size_t offered = 0;
  for (std::size_t i = 0; i < count; ++i) offered += buffers[i].size();
  upload_.reserve_more(std::min(offered, stream_buffer_limit - std::min(upload_held(), stream_buffer_limit)), initial_buffer);
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

// From cancel(), the destructor, a move-assignment and pending operations' slots (inside an
// emit): never throws, never runs a handler.
void stream_state::abort() noexcept {
  {
    std::unique_lock lock(mutex_);
    if (!ended_ && opened_) {
      aborted_ = true;
      end_ec_ = asio::error::operation_aborted;
      buffer_.clear();
    }
    serve(lock, true);  // pending operations complete with operation_aborted
  }
  std::lock_guard emit_lock(emit_mutex_);
  try {
    abort_signal_.emit(asio::cancellation_type::terminal);  // a finished exchange ignores it
  } catch (...) {
    // Out of memory in the engine's cancellation: the write callback refuses the next bytes
    // (aborted_), which ends the transfer with an error instead.
  }
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

void stream_state::publish_head(bool final) noexcept {
  std::lock_guard lock(mutex_);
  copy_head(final || !head_ ? final_ : *head_, user_head_);
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

// Operations being queued or queued belong to their runners (see runner_dropped()).
void stream_state::on_dropped() noexcept {
  std::optional<pending_operation<fetch_handler>> open;
  std::optional<pending_operation<read_handler>> read, write;
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    if (!end_ec_) end_ec_ = asio::error::operation_aborted;
    if (dispatch_[open_kind].at == phase::waiting) open.swap(open_);
    if (dispatch_[read_kind].at == phase::waiting) read.swap(read_);
    if (dispatch_[write_kind].at == phase::waiting) write.swap(write_);
  }
  // Destroyed here, outside the mutex: a handler's destructor may destroy the stream.
}

// ---------------------------------------------------------------------------------------
// Completing: serve() queues a runner for each operation that can complete, run() completes it

bool stream_state::ready(kind k) const {
  switch (k) {
    case open_kind:
      return open_ && (head_ || ended_ || aborted_);
    case read_kind:
      // After the open: its runner is queued first, so the open's handler runs first.
      return read_ && (!open_ || dispatch_[open_kind].at == phase::queued) &&
             (aborted_ || read_filled_ != 0 || held() != 0 || ended_);
    case write_kind:
      return write_ && (write_refused() || upload_held() < stream_buffer_limit);
  }
  return false;
}

void stream_state::serve(std::unique_lock<std::mutex>& lock, bool post) noexcept {
  struct wanted {
    bool queue = false;
    unsigned generation = 0;
    std::optional<asio::any_completion_executor> work;
    std::optional<asio::any_io_executor> io;
  } want[3];
  // The executors the runner goes through (copies: the operation keeps its own until it runs);
  // the I/O executor only to post through.
  auto executors_of = [post](const auto& op, wanted& w) {
    w.work.emplace(op.work);
    if (post) w.io.emplace(op.io);
  };
  bool failed = false;
  for (const kind k : {open_kind, read_kind, write_kind}) {
    if (dispatch_[k].at != phase::waiting || !ready(k)) continue;
    try {
      if (k == open_kind)
        executors_of(*open_, want[k]);
      else
        executors_of(k == read_kind ? *read_ : *write_, want[k]);
    } catch (...) {
      failed = true;
      continue;
    }
    dispatch_[k].at = phase::queued;
    want[k].generation = ++dispatch_[k].generation;
    want[k].queue = true;
  }
  const bool resume_now = take_resume();
  lock.unlock();
  if (resume_now) {
    try {
      resume();
    } catch (...) {
    }
  }
  std::shared_ptr<stream_state> self = shared_from_this();
  for (const kind k : {open_kind, read_kind, write_kind}) {
    if (!want[k].queue) continue;
    const queueing_guard guard(this, k);
    try {
      if (post)
        asio::post(*want[k].io, asio::bind_executor(std::move(*want[k].work), runner(self, k, want[k].generation)));
      else
        asio::dispatch(*want[k].work, runner(self, k, want[k].generation));
    } catch (...) {
      lock.lock();
      if (dispatch_[k].at == phase::queued && dispatch_[k].generation == want[k].generation) dispatch_[k].at = phase::waiting;
      lock.unlock();
      failed = true;
    }
  }
  if (failed) retry_later();
}

void stream_state::retry_later() noexcept {
  std::weak_ptr<multi_driver> driver;
  {
    std::lock_guard lock(mutex_);
    if (scheduled_) return;  // a delivery is coming anyway
    scheduled_ = true;
    notice_ = false;
    driver = driver_;
  }
  if (const std::shared_ptr<multi_driver> d = driver.lock())
    if (d->requeue(shared_from_this())) return;
  bool gone = false;
  {
    std::lock_guard lock(mutex_);
    scheduled_ = false;
    gone = ended_;
  }
  // No driver to wake: until the exchange ends, its end serves again; after, the context is
  // going (or the session's driver went): what waits is dropped as at shutdown.
  if (gone) on_dropped();
}

void stream_state::runner_dropped(kind k, unsigned generation) noexcept {
  std::optional<pending_operation<fetch_handler>> open;
  std::optional<pending_operation<read_handler>> other;
  {
    std::lock_guard lock(mutex_);
    if (dispatch_[k].at != phase::queued || dispatch_[k].generation != generation) return;
    dispatch_[k].at = phase::waiting;
    if (k == open_kind) open.swap(open_);
    else other.swap(k == read_kind ? read_ : write_);
  }
}

void stream_state::run(kind k, unsigned generation) {
  std::unique_lock lock(mutex_);
  if (dispatch_[k].at != phase::queued || dispatch_[k].generation != generation) return;  // stale
  dispatch_[k].at = phase::waiting;
  if (k == open_kind) {
    pending_operation<fetch_handler> op = std::move(*open_);
    open_.reset();
    error_code ec;
    response head;
    if (aborted_) {
      ec = asio::error::operation_aborted;
    } else if (head_) {
      copy_head(*head_, head);
      const unsigned code = head_->status_code();
      if (fail_on_error_status_ && code >= 400 && code <= 599) ec = make_http_status_error(code);
    } else {
      ec = end_ec_;
      copy_head(final_, head);
    }
    const bool resume_now = take_resume();
    lock.unlock();
    if (resume_now) resume();
    if (op.slot.is_connected()) op.slot.clear();
    publish_head(false);
    std::move(op.handler)(ec, std::move(head));
    return;
  }
  pending_operation<read_handler> op = std::move(k == read_kind ? *read_ : *write_);
  (k == read_kind ? read_ : write_).reset();
  error_code ec;
  std::size_t n = 0;
  bool final_head = false;
  if (k == read_kind) {
    const std::size_t filled = std::exchange(read_filled_, 0);
    if (aborted_) {
      ec = asio::error::operation_aborted;
    } else if (filled != 0) {
      n = filled;  // written straight into its buffers
    } else if (held() != 0) {
      n = copy_out(read_buffers_.data(), read_buffers_.size());
    } else {
      ec = end_ec_ ? end_ec_ : error_code(asio::error::eof);
      final_head = !end_ec_;
    }
  } else if (!(ec = write_refused())) {
    try {
      n = copy_in(write_buffers_.data(), write_buffers_.size());
    } catch (...) {
      ec = make_error_code(std::errc::not_enough_memory);  // nothing taken
      n = 0;
    }
  }
  const bool resume_now = take_resume();
  lock.unlock();
  if (resume_now) resume();
  if (op.slot.is_connected()) op.slot.clear();
  if (final_head) publish_head(true);
  std::move(op.handler)(ec, n);
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

// The executor and session are copied, not moved: a moved-from stream is as if constructed
// anew (as Asio's I/O objects are), so it can be opened again, and its reads say not_connected.
stream::stream(stream&& other) noexcept
    : executor_(other.executor_), session_(other.session_), state_(std::move(other.state_)) {}

stream& stream::operator=(stream&& other) noexcept {
  if (this != &other) {
    if (state_) detail::stream_abort(*state_);
    executor_ = other.executor_;
    session_ = other.session_;
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
