#include "multi_driver.hpp"

#include "session_state.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace boost_curl::detail {
namespace asio = boost::asio;

thread_local multi_driver* multi_driver::delivering = nullptr;

namespace {

// Identity of an open file, to tell a descriptor number that the kernel reused apart from
// the file we registered under that number earlier.
std::pair<dev_t, ino_t> file_identity(int fd) noexcept {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

// Names the operation, not the transfer: a transfer object may have moved on to another
// operation, another driver (a session's), or been freed by the time a late cancellation runs.
// It stays in the slot after completion (see finish()); drivers live until the service shuts
// down, which clears the slots of the operations still active.
struct cancel_handler {
  multi_driver* driver;
  std::uint64_t operation_id;
  void operator()(asio::cancellation_type_t type) const;
};

}  // namespace

// Reached through cancel_handler; kept out of the class's public interface.
struct multi_driver_access {
  static void cancel(multi_driver& d, std::uint64_t operation_id, asio::cancellation_type_t type) {
    d.cancel(operation_id, type);
  }
};

namespace {
void cancel_handler::operator()(asio::cancellation_type_t type) const {
  multi_driver_access::cancel(*driver, operation_id, type);
}
}  // namespace

multi_driver::multi_driver() {
  ensure_curl_global_init();
  multi_.reset(curl_multi_init());
  if (!multi_) throw std::bad_alloc();
  CURLM* m = multi_.get();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &multi_driver::on_socket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &multi_driver::on_timer);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, static_cast<void*>(this));
  hooks_ = {&multi_driver::on_open_socket, &multi_driver::on_close_socket, this};
}

multi_driver::~multi_driver() { shutdown(); }

std::size_t multi_driver::active_transfers() const {
  std::lock_guard lock(mutex_);
  return active_.size();
}

std::size_t multi_driver::open_sockets() const {
  std::lock_guard lock(mutex_);
  return owned_sockets_;
}

service_statistics multi_driver::statistics() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

// ---------------------------------------------------------------------------------------
// Starting, finishing and cancelling transfers

void multi_driver::start(const asio::any_io_executor& io_executor, const asio::any_io_executor& context_executor,
                         asio::any_completion_executor work, request&& req, fetch_handler&& handler,
                         std::shared_ptr<session_state> session) {
  error_code ec;
  completions done;
  {
    std::unique_lock lock(mutex_);
    if (shut_down_) return;  // like Asio's own objects after shutdown: the handler is dropped
    if (!timer_) {
      executor_ = asio::prefer(context_executor, asio::execution::outstanding_work.untracked);
      timer_.emplace(executor_);
    }
    std::unique_ptr<transfer> t = acquire(session.get());
    ec = t->prepare(std::move(req));
    if (!ec) {
      // Room first: once the transfer is in the multi handle and its cancellation handler is
      // installed, nothing may throw before it is in active_.
      active_.reserve(active_.size() + 1);
      starting_ = true;  // the "timeout 0" libcurl asks for now is served below, not posted
      const CURLMcode mc = curl_multi_add_handle(multi_.get(), t->easy());
      starting_ = false;
      const bool kick = std::exchange(kick_, false);
      if (mc == CURLM_OK) {
        t->active = true;
        t->active_index = active_.size();
        // Swapped in, not assigned: Asio 1.81's any_completion_handler move-assignment wraps
        // the source instead of moving it (recursing until the stack overflows).
        fetch_handler(std::move(handler)).swap(t->op.handler);
        t->op.work = std::move(work);
        t->op.io_executor = io_executor;
        t->op.session = std::move(session);
        t->operation_id = ++stats_.transfers_started;
        t->op.slot = asio::get_associated_cancellation_slot(t->op.handler);
        if (t->op.slot.is_connected())
          t->op.slot.template emplace<cancel_handler>(cancel_handler{this, t->operation_id});
        active_.push_back(std::move(t));
        load_.store(active_.size(), std::memory_order_relaxed);
        // Let libcurl start the transfer (connect, or send on a reused connection) without a
        // posted turn, which would cost a handler and a reactor poll per request. Fetches
        // started by handlers this thread is delivering are started together once those
        // handlers returned: libcurl then writes their requests (HTTP/2 frames, TLS records)
        // in one go, as it would for a batch.
        if (kick) {
          if (delivering == this)
            kick_deferred_ = true;
          else
            socket_action(CURL_SOCKET_TIMEOUT, 0, done);
        }
        lock.unlock();
        // Transfers this finished (ours included, if it failed at once) complete by post:
        // never inside the initiating function.
        deliver(done, delivery::post);
        return;
      }
      ec = make_curl_multi_error(mc);
    }
    release(std::move(t));
  }
  // Failed before anything started: still complete through the executor, never inline.
  asio::post(io_executor, asio::append(std::move(handler), ec, response{}));
}

void multi_driver::cancel(std::uint64_t operation_id, asio::cancellation_type_t type) {
  completions done;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    // Cancellation is rare and a driver runs a few dozen transfers: a scan, never a pointer
    // that may be stale.
    transfer* t = nullptr;
    for (const auto& candidate : active_)
      if (candidate->operation_id == operation_id) t = candidate.get();
    if (!t) return;  // completed already
    constexpr auto abort_any_time = asio::cancellation_type::terminal | asio::cancellation_type::partial;
    const bool honoured = (type & abort_any_time) != asio::cancellation_type::none ||
                          ((type & asio::cancellation_type::total) != asio::cancellation_type::none &&
                           !t->request_started());
    if (!honoured) return;
    const error_code aborted = asio::error::operation_aborted;
    finish(t, CURLE_OK, &aborted, done);
  }
  // Posted: the signal's emitter must not find the handler running inside emit().
  deliver(done, delivery::post);
}

void multi_driver::finish(transfer* t, CURLcode result, const error_code* override_ec, completions& done) {
  remove(*t);
  error_code ec = t->finish(result);
  if (override_ec) ec = *override_ec;
  t->active = false;
  // The cancellation handler is left in the user's slot, not cleared: this may run on any
  // thread of the context while the user emits through the handler's executor on another, and
  // the slot is not thread-safe. Left there, the handler finds no active operation with its id
  // and does nothing; the next operation bound to that slot replaces it.
  t->op.slot = {};
  done.push_back(std::make_unique<completion>(completion{std::move(t->op), ec, std::move(t->result())}));

  const std::size_t index = t->active_index;
  std::unique_ptr<transfer> owned = std::move(active_[index]);
  if (index + 1 != active_.size()) {
    active_[index] = std::move(active_.back());
    active_[index]->active_index = index;
  }
  active_.pop_back();
  load_.store(active_.size(), std::memory_order_relaxed);
  release(std::move(owned));
}

// Pending waits are outstanding work for the context: left on idle keep-alive connections
// and on a timer libcurl no longer needs, they would keep run() from returning. They are kept
// while transfers run (re-arming costs a syscall per request) and dropped once none is left.
// Checked after completions were delivered, so that a handler starting the next fetch right
// away (a sequential loop) keeps them. With mutex_ held.
void multi_driver::drop_waits_if_idle() {
  if (shut_down_ || !active_.empty()) return;
  if (timer_armed_ && !deadline_wanted_) {
    timer_->cancel();
    timer_armed_ = false;
  }
  for (auto& entry : sockets_) {
    if (entry && entry->owned && entry->wanted == 0 && (entry->read_pending || entry->write_pending)) {
      error_code ignored;
      entry->descriptor.cancel(ignored);
    }
  }
}

void multi_driver::collect_finished(completions& done) {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // Copy out first: msg is invalidated by curl_multi_remove_handle.
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;
    if (transfer* t = transfer::from(easy); t && t->active) finish(t, result, nullptr, done);
  }
}

void multi_driver::deliver_one(std::unique_ptr<completion> c, delivery how) {
  // `work` is the handler's associated executor (the I/O executor when it has none), with
  // work tracked. A plain function (no associated executor of its own) spares dispatch() a
  // second hop.
  // Moved out, not copied (a copy of a tracked executor is a pair of atomic operations on the
  // context's work count): `ex` carries the work until the handler has run or is queued.
  asio::any_completion_executor ex = std::move(c->op.work);
  if (how == delivery::post) {
    // The handler's executor may not support blocking.never: post through the I/O executor,
    // which then dispatches to it.
    asio::any_io_executor io = std::move(c->op.io_executor);
    asio::post(io, asio::bind_executor(std::move(ex), [c = std::move(c)]() mutable {
                 std::move(c->op.handler)(c->ec, std::move(c->resp));
               }));
  } else {
    asio::dispatch(ex, [c = std::move(c)]() mutable { std::move(c->op.handler)(c->ec, std::move(c->resp)); });
  }
}

void multi_driver::deliver(completions& done, delivery how) {
  // Marks this thread as delivering for this driver; restored even if a handler throws (a
  // stale mark would defer this thread's kicks forever).
  struct delivering_mark {
    multi_driver* outer;
    explicit delivering_mark(multi_driver* d) : outer(std::exchange(delivering, d)) {}
    ~delivering_mark() { delivering = outer; }
  };
  while (!done.empty()) {
    {
      const delivering_mark mark(this);
      for (std::unique_ptr<completion>& c : done) deliver_one(std::move(c), how);
    }
    done.clear();
    // Start what the handlers started (see start()); what that finishes is delivered in turn.
    std::lock_guard lock(mutex_);
    if (std::exchange(kick_deferred_, false) && !shut_down_) {
      socket_action(CURL_SOCKET_TIMEOUT, 0, done);
      how = delivery::dispatch;
    } else {
      drop_waits_if_idle();
    }
  }
}

// A session's transfers are its own (see session_state.hpp); the others are pooled here.
std::unique_ptr<transfer> multi_driver::acquire(session_state* session) {
  if (session) return session->acquire(hooks_);
  std::unique_ptr<transfer> t = idle_.take();
  return t ? std::move(t) : std::make_unique<transfer>(hooks_);
}

// The session, if any, is alive here: the finished operation holding it is not delivered yet
// (or, when prepare failed, start() still holds it).
void multi_driver::release(std::unique_ptr<transfer> t) {
  if (session_state* session = t->session())
    session->release(std::move(t));
  else
    idle_.give(std::move(t));
}

// ---------------------------------------------------------------------------------------
// Driving libcurl

void multi_driver::socket_action(curl_socket_t s, int ev_bitmask, completions& done) {
  int running = 0;
  // CURLM_BAD_SOCKET only means libcurl already forgot the socket: nothing to do.
  curl_multi_socket_action(multi_.get(), s, ev_bitmask, &running);
  collect_finished(done);
}

void multi_driver::on_wait(const std::shared_ptr<socket_entry>& entry, int direction, const error_code& ec) {
  completions done;
  {
    std::lock_guard lock(mutex_);
    (direction == CURL_POLL_IN ? entry->read_pending : entry->write_pending) = false;
    if (shut_down_ || entry->closed) return;
    if (ec != asio::error::operation_aborted && (entry->wanted & direction)) {
      int mask = direction == CURL_POLL_IN ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
      if (ec) mask |= CURL_CSELECT_ERR;
      socket_action(entry->fd, mask, done);
    }
    // Asio waits are one-shot: wait again while libcurl still wants this direction (also
    // after an idle sweep's cancel raced with a new transfer wanting the socket again).
    if (!entry->closed) arm(entry);
  }
  deliver(done, delivery::dispatch);
}

void multi_driver::on_timer_expired(unsigned generation, const error_code& ec) {
  completions done;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || generation != timer_generation_) return;  // superseded by a later arm
    timer_armed_ = false;
    if (ec == asio::error::operation_aborted || !deadline_wanted_) return;
    if (std::chrono::steady_clock::now() < wanted_deadline_) {
      arm_timer(wanted_deadline_);  // armed for an earlier deadline that libcurl since moved
      return;
    }
    deadline_wanted_ = false;
    socket_action(CURL_SOCKET_TIMEOUT, 0, done);
  }
  deliver(done, delivery::dispatch);
}

void multi_driver::on_soon() {
  completions done;
  {
    std::lock_guard lock(mutex_);
    soon_posted_ = false;
    if (shut_down_) return;
    socket_action(CURL_SOCKET_TIMEOUT, 0, done);
  }
  deliver(done, delivery::dispatch);
}

void multi_driver::arm(const std::shared_ptr<socket_entry>& entry) {
  if ((entry->wanted & CURL_POLL_IN) && !entry->read_pending) start_wait(entry, CURL_POLL_IN);
  if ((entry->wanted & CURL_POLL_OUT) && !entry->write_pending) start_wait(entry, CURL_POLL_OUT);
}

void multi_driver::start_wait(const std::shared_ptr<socket_entry>& entry, int direction) {
  const bool read = direction == CURL_POLL_IN;
  (read ? entry->read_pending : entry->write_pending) = true;
  entry->descriptor.async_wait(
      read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
      [this, entry, direction](const error_code& ec) { on_wait(entry, direction, ec); });
}

void multi_driver::arm_timer(std::chrono::steady_clock::time_point deadline) {
  timer_->expires_at(deadline);  // cancels the previous wait; its handler sees a stale generation
  armed_deadline_ = deadline;
  timer_armed_ = true;
  const unsigned generation = ++timer_generation_;
  timer_->async_wait([this, generation](const error_code& ec) { on_timer_expired(generation, ec); });
}

std::shared_ptr<socket_entry>* multi_driver::slot_of(curl_socket_t s) {
  if (s < 0) return nullptr;
  const auto index = static_cast<std::size_t>(s);
  if (index >= sockets_.size()) sockets_.resize(std::max<std::size_t>(index + 1, sockets_.size() * 2));
  return &sockets_[index];
}

// Removes t from the multi handle. Removing it may call on_socket / on_close_socket: the
// mutex is held already.
//
// libcurl 7.88 closes the socket of a transfer that is still connecting without calling
// CLOSESOCKETFUNCTION when the transfer is removed: the number is free again at once, and any
// thread of the process may get it for another file. So the socket a transfer opened and had
// not finished connecting (TCP, then TLS) is dropped from the reactor *before* the removal,
// while the number is still ours (Asio's release: epoll_ctl(DEL), no close); libcurl then
// closes it. Should a libcurl call the close callback after all, on_close_socket closes what
// it no longer knows; should it keep the socket, on_socket meets it again as a descriptor we did
// not open.
void multi_driver::remove(transfer& t) {
  CURL* easy = t.easy();
  const curl_socket_t s = std::exchange(t.opened_socket, CURL_SOCKET_BAD);
  if (s >= 0 && static_cast<std::size_t>(s) < sockets_.size()) {
    std::shared_ptr<socket_entry>& slot = sockets_[static_cast<std::size_t>(s)];
    if (slot && slot->owned && slot->opened_for == t.operation_id) {
      curl_off_t connected_at = 0, handshaken_at = 0;
      char* scheme = nullptr;
      curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected_at);
      curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &handshaken_at);
      curl_easy_getinfo(easy, CURLINFO_SCHEME, &scheme);
      const bool tls = scheme && (boost::beast::iequals(scheme, "https") || boost::beast::iequals(scheme, "wss"));
      if (connected_at == 0 || (tls && handshaken_at == 0)) {
        forget(*slot);
        slot.reset();
      }
    }
  }
  curl_multi_remove_handle(multi_.get(), easy);
}

// Closing through Asio deregisters the socket and ends pending waits with operation_aborted;
// those waits hold the entry, and find it marked closed.
void multi_driver::close_owned(socket_entry& entry) {
  entry.closed = true;
  entry.wanted = 0;
  error_code ignored;
  entry.descriptor.close(ignored);
  --owned_sockets_;
}

void multi_driver::forget(socket_entry& entry) {
  // Stop waiting without closing: the number may already belong to another file.
  entry.closed = true;
  entry.wanted = 0;
  entry.descriptor.release();
  if (entry.owned) --owned_sockets_;
}

// ---------------------------------------------------------------------------------------
// libcurl callbacks: called from inside libcurl, mutex_ held

int multi_driver::on_socket(CURL* easy, curl_socket_t s, int what, void* self, void*) noexcept {
  auto* d = static_cast<multi_driver*>(self);
  std::shared_ptr<socket_entry>* slot = d->slot_of(s);
  if (!slot) return 0;
  if (what == CURL_POLL_REMOVE) {
    // Not "closed": an owned socket goes back to libcurl's connection cache and may be
    // used again; a pending wait on it stays, harmlessly, until it is wanted again.
    if (*slot) {
      (*slot)->wanted = 0;
      if (!(*slot)->owned) {
        d->forget(**slot);
        slot->reset();
      }
    }
    return 0;
  }
  try {
    if (*slot && !(*slot)->owned && (*slot)->identity != file_identity(s)) {
      // A descriptor we did not open was closed and its number reused behind our back.
      d->forget(**slot);
      slot->reset();
    }
    if (!*slot) {
      // A descriptor libcurl did not open through us (threaded resolver's socketpair, ...):
      // wait on it, never close it. If it cannot be registered, the wait fails at once and
      // libcurl is told of an error on it rather than left waiting forever.
      auto entry = std::make_shared<socket_entry>(d->executor_, s, false);
      error_code ec;
      entry->descriptor.assign(s, ec);
      entry->identity = file_identity(s);
      *slot = std::move(entry);
      ++d->stats_.foreign_descriptors;
    }
    (*slot)->wanted = what & (CURL_POLL_IN | CURL_POLL_OUT);
    d->arm(*slot);
    // First report of a socket we opened: the transfer connecting it (see remove()).
    if ((*slot)->owned && (*slot)->opened_for == 0) {
      if (transfer* t = transfer::from(easy)) {
        (*slot)->opened_for = t->operation_id;
        t->opened_socket = s;
      }
    }
  } catch (...) {
    return -1;  // out of memory: libcurl fails the transfers rather than stall them
  }
  return 0;
}

int multi_driver::on_timer(CURLM*, long timeout_ms, void* self) noexcept {
  auto* d = static_cast<multi_driver*>(self);
  if (timeout_ms < 0) {  // -1: delete the timer (not "fire now")
    d->deadline_wanted_ = false;
    return 0;
  }
  try {
    if (timeout_ms == 0) {
      // "As soon as possible", but never by calling libcurl from inside its own callback.
      d->deadline_wanted_ = false;
      if (d->starting_) {
        d->kick_ = true;  // start() calls libcurl right after curl_multi_add_handle returns
      } else if (!d->soon_posted_) {
        d->soon_posted_ = true;
        asio::post(d->executor_, [d] { d->on_soon(); });
      }
      return 0;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    d->wanted_deadline_ = deadline;
    d->deadline_wanted_ = true;
    if (!d->timer_armed_ || deadline < d->armed_deadline_) d->arm_timer(deadline);
  } catch (...) {
    return -1;
  }
  return 0;
}

curl_socket_t multi_driver::on_open_socket(void* self, curlsocktype, curl_sockaddr* address) noexcept {
  auto* d = static_cast<multi_driver*>(self);
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  try {
    std::shared_ptr<socket_entry>* slot = d->slot_of(fd);
    if (*slot) {
      // We still knew this number from a descriptor closed without our close callback.
      d->forget(**slot);
      slot->reset();
    }
    auto entry = std::make_shared<socket_entry>(d->executor_, fd, true);
    error_code ec;
    entry->descriptor.assign(fd, ec);
    if (ec) {
      ::close(fd);
      return CURL_SOCKET_BAD;
    }
    entry->identity = file_identity(fd);
    *slot = std::move(entry);
    ++d->owned_sockets_;
    ++d->stats_.sockets_opened;
  } catch (...) {
    ::close(fd);
    return CURL_SOCKET_BAD;
  }
  return fd;
}

int multi_driver::on_close_socket(void* self, curl_socket_t s) noexcept {
  auto* d = static_cast<multi_driver*>(self);
  if (s >= 0 && static_cast<std::size_t>(s) < d->sockets_.size()) {
    std::shared_ptr<socket_entry>& slot = d->sockets_[static_cast<std::size_t>(s)];
    if (slot && slot->owned) {
      d->close_owned(*slot);
      slot.reset();
      return 0;
    }
  }
  return ::close(s);
}

// ---------------------------------------------------------------------------------------

void multi_driver::shutdown() {
  std::vector<transfer::operation> doomed;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    doomed.reserve(active_.size());
    for (auto& t : active_) {
      remove(*t);
      if (t->op.slot.is_connected()) t->op.slot.clear();
      doomed.push_back(std::move(t->op));
    }
    multi_.reset();  // closes cached connections through on_close_socket
    active_.clear();
    load_.store(0, std::memory_order_relaxed);
    idle_.clear();
    for (auto& entry : sockets_) {
      if (!entry) continue;
      if (entry->owned && entry->identity == file_identity(entry->fd)) {
        close_owned(*entry);
      } else {
        forget(*entry);  // never close a number that may belong to another file by now
      }
    }
    sockets_.clear();
    // Destroyed here, not in our destructor: services created after this one (the reactor,
    // the timer service) are destroyed before it.
    timer_.reset();
  }
  // Asio's rule at shutdown: pending handlers are destroyed, never invoked; and never with
  // our mutex held, since their destructors may run arbitrary user code.
  doomed.clear();
}

}  // namespace boost_curl::detail
