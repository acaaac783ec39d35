#include "multi_driver.hpp"

#include "multi_pool.hpp"
#include "session_state.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/wait_traits.hpp>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <utility>

namespace boost_curl::detail {
namespace asio = boost::asio;

namespace {

// How many transfers in flight on a context get transfer::large_receive_buffer by default.
constexpr std::size_t large_reads_below = 64;

// Names the operation, not the transfer: a transfer object may have moved on to another
// operation, another driver (a session's), or been freed by the time a late cancellation runs.
// It stays in the slot after completion (see finish()), and keeps the driver alive: a signal
// may be emitted after the context, and the service, are gone (a shut-down driver ignores it).
struct cancel_handler {
  std::shared_ptr<multi_driver> driver;
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

multi_driver::multi_driver(const engine_executor& executor, multi_pool& pool)
    : pool_(pool), sockets_(executor), timer_(std::in_place, executor), watchdog_(std::in_place, executor) {
  ensure_curl_global_init();
  new_multi();
}

multi_driver::~multi_driver() { shutdown(); }

void multi_driver::set_max_host_connections(std::size_t n) {
  std::lock_guard lock(mutex_);
  max_host_connections_ = n;
  if (multi_) curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(n));
}

// A multi handle wired to this driver. With mutex_ held (or before anyone else can see it).
void multi_driver::new_multi() {
  multi_.reset(curl_multi_init());
  if (!multi_) throw std::bad_alloc();
  CURLM* m = multi_.get();
  if (max_host_connections_) curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(max_host_connections_));
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &multi_driver::on_socket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &multi_driver::on_timer);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, static_cast<void*>(this));
}

std::size_t multi_driver::active_transfers() const {
  std::lock_guard lock(mutex_);
  return active_.size();
}

std::size_t multi_driver::open_sockets() const {
  std::lock_guard lock(mutex_);
  return sockets_.owned();
}

service_statistics multi_driver::statistics() const {
  std::lock_guard lock(mutex_);
  service_statistics s = stats_;
  s.sockets_opened = sockets_.opened_total();
  s.foreign_descriptors = sockets_.foreign_total();
  return s;
}

// ---------------------------------------------------------------------------------------
// Starting, finishing and cancelling transfers

std::uint64_t multi_driver::start(const asio::any_io_executor& io_executor, asio::any_completion_executor work,
                                  request&& req, fetch_handler&& handler, std::shared_ptr<session_state> session,
                                  std::shared_ptr<body_sink> sink, std::unique_ptr<admission_ticket> ticket,
                                  bool slot_taken) {
  error_code ec;
  response failed;
  // Made now, where running out of memory throws from the initiating call, so that finishing
  // the operation never allocates (completion.hpp).
  std::unique_ptr<completion> record = std::make_unique<completion>();
  {
    std::unique_lock lock(mutex_);
    if (shut_down_) return 0;  // like Asio's own objects after shutdown: the handler is dropped
    std::unique_ptr<transfer> t = acquire(session.get());
    // request::receive_buffer_size 0 (automatic): large reads while the context runs few
    // transfers, libcurl's 16 KiB beyond, so that they cost at most about 3 MiB per context
    // (libcurl allocates the buffer for each transfer in flight: 1 000 transfers of 64 KiB
    // bodies with 63 KiB each held 48 MiB more for no measurable gain, 93 against 96 µs).
    // Counted only when asked for: it reads every driver's load.
    if (req.receive_buffer_size == 0)
      t->automatic_receive_buffer(pool_.load() < large_reads_below ? transfer::large_receive_buffer : CURL_MAX_WRITE_SIZE);
    std::shared_ptr<const response_hook> hook = session ? session->hook() : nullptr;
    body_sink* const streamed = sink.get();
    ec = t->prepare(std::move(req), hook != nullptr, std::move(sink));
    if (!ec) {
      // Room first: once the transfer is in the multi handle and its cancellation handler is
      // installed, nothing may throw before it is in active_.
      active_.reserve(active_.size() + 1);
      const CURLMcode mc = curl_multi_add_handle(multi_.get(), t->easy());
      if (mc == CURLM_OK) {
        t->record = std::move(record);
        t->active = true;
        t->active_index = active_.size();
        // Swapped in, not assigned: Asio 1.81's any_completion_handler move-assignment wraps
        // the source instead of moving it (recursing until the stack overflows).
        fetch_handler(std::move(handler)).swap(t->op.handler);
        t->op.work = std::move(work);
        t->op.io_executor = io_executor;
        t->op.session = std::move(session);
        t->op.hook = std::move(hook);
        t->op.ticket = std::move(ticket);
        if (const std::shared_ptr<progress_relay>& relay = t->progress()) {
          relay->target(io_executor, t->op.work);
          t->op.progress = relay;
        }
        const std::uint64_t id = t->operation_id = ++stats_.transfers_started;
        if (streamed) streamed->started(weak_from_this(), id);
        if (!slot_taken) {
          t->op.slot = asio::get_associated_cancellation_slot(t->op.handler);
          if (t->op.slot.is_connected())
            t->op.slot.template emplace<cancel_handler>(cancel_handler{shared_from_this(), t->operation_id});
        }
        const auto deadline = t->deadline();
        active_.push_back(std::move(t));
        load_.store(active_.size(), std::memory_order_relaxed);
        if (deadline != std::chrono::steady_clock::time_point{}) watch_deadline(deadline);
        if (active_.size() > peak_active_) {
          // libcurl keeps at most 4 connections per easy handle *currently added* in its cache,
          // closing the oldest beyond that. A wake-up that finishes many transfers removes them
          // one after the other before their handlers start the next ones, so that bound would
          // sink mid-batch and close connections about to be reused. Set from the peak instead.
          peak_active_ = active_.size();
          curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(4 * peak_active_));
        }
        if (!holds_resources_.load(std::memory_order_relaxed)) holds_resources_.store(true, std::memory_order_relaxed);
        completions done;
        // The "timeout 0" libcurl asked for in curl_multi_add_handle: the transfer starts now
        // (connects, or sends on a reused connection), in this call. Whatever the caller does
        // next (block on a future, say), it is under way and the reactor watches its socket.
        // Except the second and later ones the handlers of one of this driver's rounds start:
        // those start together once the round's handlers returned (dispatch_completions).
        delivery_round* const round = delivery_round::of(*this);
        const bool start_now = !round || round->first_start();
        if (start_now) serve_kicks(done);
        if (round && (!start_now || !done.empty())) {
          // Left for the round's end: the start, and what the first one finished (delivered
          // by the round's next turn, not posted). Both are the driver's, not the round's,
          // and the epoll set is woken (unless a wake-up is pending already), so that another
          // thread serves them should a handler block, waiting for the fetch it started, say.
          undelivered_.append(done);
          round->defer();
          sockets_.wake();
        }
        wait_ready();
        engine_notice* found = take_notices();
        lock.unlock();
        // Transfers this finished (ours included, if it failed at once) complete by post:
        // never inside the initiating function. (Inside a round, none is left here.)
        deliver_notices(found, true);
        if (!round) post_completions(done);
        return id;
      }
      kick_ = false;
      ec = make_curl_multi_error(mc);
      t->result().error_message = curl_multi_strerror(mc);
    }
    failed = std::move(t->result());
    release(std::move(t));
  }
  if (ticket) pool_.release(std::move(ticket));
  // Failed before anything started: still complete through the executor, never inline.
  asio::post(io_executor, asio::append(std::move(handler), ec, std::move(failed)));
  return 0;
}

void multi_driver::cancel(std::uint64_t operation_id, asio::cancellation_type_t type) {
  completions done;
  engine_notice* found = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    transfer* t = find_active(operation_id);
    if (!t) return;  // completed already
    constexpr auto abort_any_time = asio::cancellation_type::terminal | asio::cancellation_type::partial;
    const bool honoured = (type & abort_any_time) != asio::cancellation_type::none ||
                          ((type & asio::cancellation_type::total) != asio::cancellation_type::none &&
                           !t->request_started());
    if (!honoured) return;
    const error_code aborted = asio::error::operation_aborted;
    finish(t, CURLE_OK, &aborted, done);
    serve_kicks(done);  // what finishes now is posted too
    wait_ready();
    found = take_notices();
  }
  // Posted: the signal's emitter must not find any handler running inside emit().
  deliver_notices(found, true);
  post_completions(done);
}

// By id, never by a pointer that may be stale: the operation may have finished, and its transfer
// moved on. A driver runs at most a few dozen transfers (transfers_per_multi): a scan.
transfer* multi_driver::find_active(std::uint64_t operation_id) const noexcept {
  for (const auto& candidate : active_)
    if (candidate->operation_id == operation_id) return candidate.get();
  return nullptr;
}

void multi_driver::resume(std::uint64_t operation_id) {
  completions done;
  engine_notice* found = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    transfer* t = find_active(operation_id);
    if (!t) return;
    // May hand the bytes libcurl held back to the sink at once (which may pause again); asks
    // for timeout 0 so that the transfer reads its socket again.
    if (curl_easy_pause(t->easy(), CURLPAUSE_CONT) == CURLE_OUT_OF_MEMORY) out_of_memory_ = true;
    serve_kicks(done);
    wait_ready();
    found = take_notices();
  }
  // From a reader's initiating function (or a delivery that may be posted): never inline.
  deliver_notices(found, true);
  post_completions(done);
}

void multi_driver::finish(transfer* t, CURLcode result, const error_code* override_ec, completions& done,
                          const char* why) {
  remove(*t);
  error_code ec;
  try {  // collecting the response allocates: out of memory, the operation ends with that error
    ec = t->finish(result);
    if (why) t->result().error_message = why;
    if (override_ec) {
      ec = *override_ec;
      if (ec == asio::error::operation_aborted) t->result().error_message = "the operation was cancelled";
    } else if (!ec && t->follow_redirect(ec)) {
      // The next hop of the same operation: the transfer stays active, under the same id (a
      // cancellation still finds it); libcurl's "timeout 0" for it is served by the caller's
      // serve_kicks().
      const CURLMcode mc = curl_multi_add_handle(multi_.get(), t->easy());
      if (mc == CURLM_OK) return;
      ec = make_curl_multi_error(mc);
      t->result().error_message = curl_multi_strerror(mc);
    }
    t->complete(ec);
  } catch (...) {
    ec = make_curl_error(CURLE_OUT_OF_MEMORY);
    try {
      t->result().error_message = "out of memory collecting the response";
    } catch (...) {
    }
  }
  t->active = false;
  // The cancellation handler is left in the user's slot, not cleared: this may run on any
  // thread of the context while the user emits through the handler's executor on another, and
  // the slot is not thread-safe. Left there, the handler finds no active operation with its id
  // and does nothing; the next operation bound to that slot replaces it.
  std::unique_ptr<completion> c = std::move(t->record);
  transfer::operation& op = c->op;
  // Swapped, not assigned: Asio 1.81's any_completion_handler move-assignment is broken (start()).
  fetch_handler(std::move(t->op.handler)).swap(op.handler);
  op.work = std::move(t->op.work);
  op.io_executor = std::move(t->op.io_executor);
  op.session = std::move(t->op.session);
  op.hook = std::move(t->op.hook);
  op.ticket = std::move(t->op.ticket);
  op.progress = std::move(t->op.progress);
  t->op.slot = {};
  c->ec = ec;
  c->resp = std::move(t->result());
  c->hop_requests = std::move(t->hop_requests());
  done.push(std::move(c));

  const std::size_t index = t->active_index;
  std::unique_ptr<transfer> owned = std::move(active_[index]);
  if (index + 1 != active_.size()) {
    active_[index] = std::move(active_.back());
    active_[index]->active_index = index;
  }
  active_.pop_back();
  load_.store(active_.size(), std::memory_order_relaxed);
  try {
    release(std::move(owned));
  } catch (...) {
    // No room to pool it (out of memory): the transfer is freed instead.
  }
}

// Removes t from the multi handle. Removing it may call on_socket / on_close_socket: the
// mutex is held already. libcurl 7.88 closes the socket of a transfer still connecting without
// the close callback (inside curl_multi_remove_handle, or earlier, on a connect timeout or a
// lost happy-eyeballs race); settle() then finds those numbers no longer hold the files we
// opened and forgets them. Nothing is done to the numbers themselves: they may be anyone's.
void multi_driver::remove(transfer& t) {
  curl_multi_remove_handle(multi_.get(), t.easy());
  if (!t.sockets_opened.empty()) {
    sockets_.settle(t.sockets_opened, t.operation_id);
    t.sockets_opened.clear();
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

// ---------------------------------------------------------------------------------------
// Delivering completions, and going idle

// Runs on the handler's executor: the session's response hook (every hop, oldest first,
// with the request that produced it), then the handler, exactly once even if the hook throws
// (its exception is rethrown after the handler ran).
void multi_driver::complete_operation(completion& c) {
  std::exception_ptr hook_failed;
  if (c.op.progress) {
    try {
      c.op.progress->finish();  // request::on_progress's last call, before the handler
    } catch (...) {
      hook_failed = std::current_exception();
    }
  }
  if (c.op.hook) {
    try {  // (the final progress call's exception, if any, is the one kept)
      const std::vector<request>& hops = c.hop_requests;
      for (std::size_t i = 0; i < c.resp.history.size() && i < hops.size(); ++i) (*c.op.hook)(hops[i], c.resp.history[i]);
      if (!hops.empty()) (*c.op.hook)(hops.back(), c.resp);
    } catch (...) {
      if (!hook_failed) hook_failed = std::current_exception();
    }
  }
  if (!hook_failed) return std::move(c.op.handler)(c.ec, std::move(c.resp));
  try {
    std::move(c.op.handler)(c.ec, std::move(c.resp));
  } catch (...) {
    // Both threw: one exception, as Asio reports two of one handler run.
    throw asio::multiple_exceptions(hook_failed);
  }
  std::rethrow_exception(hook_failed);
}

// The handler queued for one completion. Should queueing it fail for lack of memory (Asio
// allocates its operation, and may drop the handler on the way out), the completion is not lost:
// whichever copy of this object still holds it gives it back to the driver, which delivers it
// at its next wake-up. Destroyed unrun at shutdown, it finds the driver gone or shut down and
// the completion is destroyed, as Asio does with every pending handler then.
struct delivery {
  std::unique_ptr<completion> c;
  std::weak_ptr<multi_driver> home;

  delivery(std::unique_ptr<completion> done, std::weak_ptr<multi_driver> driver) noexcept
      : c(std::move(done)), home(std::move(driver)) {}
  delivery(delivery&&) noexcept = default;
  delivery& operator=(delivery&&) = delete;
  ~delivery() {
    if (!c) return;
    if (const std::shared_ptr<multi_driver> d = home.lock()) d->keep_undelivered(std::move(c));
  }
  void operator()() {
    const std::unique_ptr<completion> owned = std::move(c);
    if (!multi_driver::delivery_round::running(owned.get()))
      return multi_driver::complete_operation(*owned);  // queued: as any Asio handler
    try {
      multi_driver::complete_operation(*owned);
    } catch (...) {
      if (!keep_user_exception()) throw;  // (kept: a round has its wake-up's collector)
    }
  }
};

void multi_driver::deliver_one(std::unique_ptr<completion> c, bool post) noexcept {
  // `work` is the handler's associated executor (the I/O executor when it has none), with
  // work tracked. Moved out, not copied (a copy of a tracked executor is a pair of atomic
  // operations on the context's work count): it carries the work until the handler has run
  // or is queued. Kept in the completion (a copy) until queueing succeeded.
  delivery_round* const round = post ? nullptr : delivery_round::of(*this);
  if (round) round->dispatching(c.get());
  try {
    asio::any_completion_executor ex = c->op.work;
    if (post) {
      // The handler's executor may not support blocking.never: post through the I/O executor,
      // which then dispatches to it.
      asio::any_io_executor io = c->op.io_executor;
      asio::post(io, asio::bind_executor(std::move(ex), delivery(std::move(c), weak_from_this())));
    } else {
      asio::dispatch(ex, delivery(std::move(c), weak_from_this()));
    }
  } catch (...) {
    // Queueing failed (a handler run inline cannot throw here: delivery keeps its exception).
    // Before the delivery took the completion, it is kept here; after, the delivery gave it
    // back when destroyed.
    if (c) keep_undelivered(std::move(c));
  }
  if (round) round->dispatching(nullptr);
}

void multi_driver::keep_undelivered(std::unique_ptr<completion> c) noexcept {
  completions one;
  one.push(std::move(c));
  keep_undelivered(one);
}

// Left to the driver's next wake-up, on whichever thread runs the context.
void multi_driver::keep_undelivered(completions& done) noexcept {
  completions dropped;  // destroyed after the mutex is released: it holds user handlers
  std::lock_guard lock(mutex_);
  if (shut_down_) {
    dropped.append(done);
  } else {
    undelivered_.append(done);
    wake_soon();
  }
}

void multi_driver::notice(std::shared_ptr<engine_notice> n) noexcept {
  engine_notice* p = n.get();
  p->queued_ = std::move(n);
  p->next_notice_ = notices_;
  notices_ = p;
}

bool multi_driver::requeue(std::shared_ptr<engine_notice> n) noexcept {
  std::lock_guard lock(mutex_);
  if (shut_down_) return false;
  if (!n->queued_) notice(std::move(n));
  wake_soon();
  return true;
}

// What waits to be retried (undelivered completions, requeued notices) is served at the next
// wake-up: the wait is armed again if it was down (no transfer left), and the set is woken.
void multi_driver::wake_soon() noexcept {
  wait_ready();
  sockets_.wake();
}

// Each notice's links are cleared before its deliver() runs: from then on it may be queued
// again (by a libcurl callback on another thread), and only then.
void multi_driver::deliver_notices(engine_notice* list, bool post) noexcept {
  while (list) {
    engine_notice* next = std::exchange(list->next_notice_, nullptr);
    const std::shared_ptr<engine_notice> keep = std::move(list->queued_);
    try {
      list->deliver(post);
    } catch (...) {
      // Dispatched: a progress callback run inline threw, or queueing it failed (that
      // bad_alloc goes to run() too). Posted: queueing failed. A call that was not queued is
      // skipped, and the relay queues the next one (progress_relay.cpp).
      if (!post) keep_user_exception();
    }
    list = next;
  }
}

// Finished transfers give their room back first: what waited for it starts now.
void multi_driver::release_tickets(completions& done) {
  done.for_each([this](completion& c) {
    if (!c.op.ticket) return;
    try {
      pool_.release(std::move(c.op.ticket));
    } catch (...) {
      // Out of memory starting what waited: the room is given back, the waiting fetch is
      // started by the next release.
    }
  });
}

thread_local multi_driver::delivery_round* multi_driver::delivery_round::current = nullptr;

namespace {
// Rounds (the handlers, then the transfers they started, which may finish more) one wake-up
// runs before the reactor and the context's other handlers get their turn.
constexpr int max_delivery_rounds = 8;
}  // namespace

// Only from the engine's own handlers (a socket turned ready, the timer): a handler that may
// run inline here runs in no initiating function and no emit(). The fetches they start are
// started together after them (delivery_round), and what finishes then is delivered the same
// way, for a bounded number of rounds.
void multi_driver::dispatch_completions(engine_notice* found, completions& done) {
  rethrow_later thrown;  // used only where keep_user_exception() finds no run()
  const rethrow_later::collecting collecting(thrown);
  deliver_notices(found, false);
  for (int round = 0;; ++round) {
    release_tickets(done);
    bool deferred;
    {
      delivery_round starts(*this);
      while (std::unique_ptr<completion> c = done.pop()) deliver_one(std::move(c), false);  // noexcept
      deferred = starts.deferred();
    }
    if (deferred) {
      engine_notice* more = nullptr;
      {
        std::lock_guard lock(mutex_);
        if (!shut_down_) {
          done.append(undelivered_);
          serve_kicks(done);
          wait_ready();
          more = take_notices();
        }
      }
      deliver_notices(more, false);
    }
    if (done.empty()) break;
    if (round == max_delivery_rounds) {
      // Finished transfers found again and again (responses that keep arriving while the
      // handlers start more): the reactor and the other handlers get their turn first.
      keep_undelivered(done);
      return thrown.rethrow();
    }
  }
  after_delivery();
  thrown.rethrow();
}

// From async_fetch and from cancellation: every handler is queued, none runs here. (Going
// idle may retire other multi handles, closing their connections: engine work, no user code.)
void multi_driver::post_completions(completions& done) {
  release_tickets(done);
  while (std::unique_ptr<completion> c = done.pop()) deliver_one(std::move(c), true);
  after_delivery();
}

// Checked after delivery, not at completion: a handler starting the next fetch right away
// (a sequential loop) keeps the waits armed.
void multi_driver::after_delivery() {
  if (load_.load(std::memory_order_relaxed) != 0) return;  // stale at worst: a later delivery checks again
  bool idle;
  {
    std::lock_guard lock(mutex_);
    idle = drop_waits_if_idle();
  }
  if (idle) pool_.driver_idle(*this);
}

// Pending waits are outstanding work: run() must return when no transfer is left. So the
// driver's waits are cancelled once none is left (cached connections stay in libcurl's
// cache and in the epoll set, unwatched). With mutex_ held.
bool multi_driver::drop_waits_if_idle() {
  if (shut_down_ || !active_.empty() || !undelivered_.empty() || notices_) return false;
  if (timer_armed_ && !deadline_wanted_) {
    timer_->cancel();
    timer_armed_ = false;
  }
  if (watchdog_armed_) {
    watchdog_armed_ = false;
    ++watchdog_generation_;  // its handler is stale
    watchdog_->cancel();
  }
  if (ready_wait_pending_) {
    ready_wait_pending_ = false;
    ++ready_generation_;  // its handler, run with operation_aborted, is stale
    error_code ignored;
    sockets_.ready_signal().cancel(ignored);
  }
  idle_since_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  return true;
}

void multi_driver::retire() {
  std::lock_guard lock(mutex_);
  if (shut_down_ || !active_.empty() || !holds_resources_.load(std::memory_order_relaxed)) return;
  if (replace_multi()) ++stats_.multi_handles_retired;
}

// A fresh multi handle for the old one, which goes with its cached connections and idle
// transfers. With mutex_ held and no transfer active. False: out of memory, the old one kept.
bool multi_driver::replace_multi() {
  multi_ptr old = std::move(multi_);
  try {
    new_multi();
  } catch (...) {
    multi_ = std::move(old);  // out of memory: keep the connections rather than lose the handle
    return false;
  }
  // curl_multi_cleanup closes the cached connections through on_close_socket; anything
  // the registry still holds after it is either not ours or already closed.
  old.reset();
  kick_ = false;
  deadline_wanted_ = false;
  drop_waits_if_idle();
  peak_active_ = 0;
  sockets_.clear();
  idle_.clear();
  holds_resources_.store(false, std::memory_order_relaxed);
  return true;
}

// A session's transfers are its own (see session_state.hpp); the others are pooled here.
std::unique_ptr<transfer> multi_driver::acquire(session_state* session) {
  const socket_hooks hooks{&multi_driver::on_open_socket, &multi_driver::on_close_socket, this};
  if (session) return session->acquire(hooks);
  std::unique_ptr<transfer> t = idle_.take();
  return t ? std::move(t) : std::make_unique<transfer>(hooks);
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
  // CURLM_BAD_SOCKET only means libcurl already forgot the socket: nothing to do. Out of
  // memory: see recover_from_out_of_memory().
  if (curl_multi_socket_action(multi_.get(), s, ev_bitmask, &running) == CURLM_OUT_OF_MEMORY) out_of_memory_ = true;
  collect_finished(done);
}

// A libcurl call ran out of memory part-way. libcurl 7.88 then returns CURLM_OUT_OF_MEMORY
// and its multi handle may be left unfit for use: singlesocket() may have skipped a
// transfer's socket callback (the transfer then waits forever for an event nobody watches),
// or destroyed the transfer table of a socket it keeps (Curl_hash_destroy after a failed
// Curl_hash_add), after which the next use of that socket divides by zero. Found by
// test/exhaustion/libcurl_allocation_failure_test.cpp, which fails libcurl's allocations one
// by one. Neither can be repaired from outside: every transfer on the handle ends with
// CURLE_OUT_OF_MEMORY (removing a transfer closes its connection without touching that
// table) and the handle is replaced, as retire() does. Called where each of the engine's
// entry points has made its last libcurl call (serve_kicks).
void multi_driver::recover_from_out_of_memory(completions& done) {
  out_of_memory_ = false;
  const error_code no_memory = make_curl_error(CURLE_OUT_OF_MEMORY);
  while (!active_.empty())
    finish(active_.back().get(), CURLE_OUT_OF_MEMORY, &no_memory, done,
           "libcurl ran out of memory in the multi handle running this transfer: each of its transfers "
           "was ended and the handle replaced");
  replace_multi();
}

// libcurl asked, from inside a call of ours, to be called again at once (timeout 0), which it
// must not be from inside its own callback: done here, now that the call has returned. A few
// rounds at most; should it keep asking, a wake-up of the epoll set gives the reactor a turn
// first.
void multi_driver::serve_kicks(completions& done) {
  for (int round = 0; kick_ && round < 4; ++round) {
    kick_ = false;
    socket_action(CURL_SOCKET_TIMEOUT, 0, done);
  }
  if (out_of_memory_) return recover_from_out_of_memory(done);
  if (std::exchange(kick_, false)) sockets_.wake();
}

// One wait on the epoll set while transfers run. Asio's waits are one-shot: re-armed after
// each wake-up (Asio's epoll_ctl(MOD) on re-arming makes the kernel look at the set again, so
// readiness left over from the last round is never lost: the set is level-triggered).
// Never throws: a wait that cannot be armed for lack of memory is armed by the driver's next
// activity (a start, the timer), and the flag says so truthfully meanwhile.
void multi_driver::wait_ready() noexcept {
  if (ready_wait_pending_ || (active_.empty() && undelivered_.empty() && !notices_) || shut_down_) return;
  const unsigned generation = ++ready_generation_;
  try {
    sockets_.ready_signal().async_wait(socket_registry::descriptor::wait_read,
                                       [this, generation](const error_code& ec) { on_ready(generation, ec); });
  } catch (...) {
    return;
  }
  ready_wait_pending_ = true;  // after: the handler takes mutex_, held by our caller
}

void multi_driver::on_ready(unsigned generation, const error_code& ec) {
  completions done;
  engine_notice* found = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || generation != ready_generation_) return;  // cancelled when idle, or superseded
    ready_wait_pending_ = false;
    done.append(undelivered_);  // what could not be queued before: delivered from here
    if (!ec) {
      // Every socket ready now, in one round under one lock. libcurl may close or open
      // sockets while handling one: each is checked still to be the same entry first.
      socket_registry::ready ready[64];
      bool woken = false;
      const std::size_t n = sockets_.poll(ready, std::size(ready), woken);
      for (std::size_t i = 0; i < n; ++i)
        if (sockets_.still_current(ready[i])) socket_action(ready[i].fd, ready[i].mask, done);
      if (woken) {
        // Descriptors epoll cannot watch, reported ready (or in error) as poll(2) would.
        const std::size_t m = sockets_.take_unwatchable(ready, std::size(ready));
        for (std::size_t i = 0; i < m; ++i)
          if (sockets_.still_current(ready[i])) socket_action(ready[i].fd, ready[i].mask, done);
        socket_action(CURL_SOCKET_TIMEOUT, 0, done);
        if (sockets_.has_unwatchable()) sockets_.wake();
      }
      serve_kicks(done);
    }
    wait_ready();
    found = take_notices();
  }
  dispatch_completions(found, done);
}

void multi_driver::on_timer_expired(unsigned generation, const error_code& ec) {
  completions done;
  engine_notice* found = nullptr;
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
    serve_kicks(done);
    wait_ready();
    found = take_notices();
  }
  dispatch_completions(found, done);
}

// libcurl 7.88 loses a transfer's CURLOPT_TIMEOUT now and then: when something else (another
// of its timers, activity) runs the transfer less than a millisecond before that timeout,
// add_next_timeout() compares the two in whole milliseconds (truncated), finds the
// timeout "not in the future" and drops it from the list, while the transfer itself, checked
// in microseconds, is not late yet. libcurl then has no timer for it at all
// (curl_multi_timeout says -1), and a server that stays silent holds it forever. Seen in the
// soak run (about 1 in 200 of the transfers that timed out at 50 ms) and confirmed with an
// instrumented libcurl 7.88.1; later libcurl compares in microseconds. So the engine keeps
// request::timeout itself: a transfer still active `grace` after its deadline ends here with
// the error libcurl would have given (condition::timeout). Normally libcurl ends it first and
// this timer, armed lazily for the earliest deadline, finds nothing to do.
namespace {
constexpr std::chrono::milliseconds watchdog_grace{100};
}  // namespace

void multi_driver::watch_deadline(std::chrono::steady_clock::time_point deadline) {
  const auto at = deadline + watchdog_grace;
  if (watchdog_armed_ && watchdog_at_ <= at) return;
  watchdog_->expires_at(at);  // cancels the previous wait; its handler sees a stale generation
  watchdog_at_ = at;
  watchdog_armed_ = true;
  const unsigned generation = ++watchdog_generation_;
  watchdog_->async_wait([this, generation](const error_code& ec) { on_watchdog(generation, ec); });
}

void multi_driver::on_watchdog(unsigned generation, const error_code& ec) {
  completions done;
  engine_notice* found = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || generation != watchdog_generation_) return;
    watchdog_armed_ = false;
    if (ec == asio::error::operation_aborted) return;
    const auto now = std::chrono::steady_clock::now();
    constexpr auto none = std::chrono::steady_clock::time_point{};
    // finish() reorders active_: the late ones are collected first.
    boost::container::small_vector<transfer*, 8> late;
    auto earliest = std::chrono::steady_clock::time_point::max();
    for (const auto& t : active_) {
      const auto d = t->deadline();
      if (d == none) continue;
      if (d + watchdog_grace <= now)
        late.push_back(t.get());
      else
        earliest = std::min(earliest, d);
    }
    const error_code timed_out = make_curl_error(CURLE_OPERATION_TIMEDOUT);
    for (transfer* t : late) {
      ++stats_.timeouts_enforced;
      finish(t, CURLE_OPERATION_TIMEDOUT, &timed_out, done,
             "request::timeout expired (libcurl had lost the transfer's timer; ended by boost_curl)");
    }
    if (earliest != std::chrono::steady_clock::time_point::max()) watch_deadline(earliest);
    if (!late.empty()) {
      serve_kicks(done);
      wait_ready();
    }
    found = take_notices();
  }
  dispatch_completions(found, done);
}

void multi_driver::arm_timer(std::chrono::steady_clock::time_point deadline) {
  timer_->expires_at(deadline);  // cancels the previous wait; its handler sees a stale generation
  armed_deadline_ = deadline;
  timer_armed_ = true;
  const unsigned generation = ++timer_generation_;
  timer_->async_wait([this, generation](const error_code& ec) { on_timer_expired(generation, ec); });
}

// ---------------------------------------------------------------------------------------
// libcurl callbacks: called from inside libcurl, mutex_ held

int multi_driver::on_socket(CURL*, curl_socket_t s, int what, void* self, void*) noexcept {
  auto* d = static_cast<multi_driver*>(self);
  if (what == CURL_POLL_REMOVE) {
    d->sockets_.unwant(s);
    return 0;
  }
  // A descriptor epoll cannot watch is served at the next wake-up instead (as poll(2) would
  // report a regular file ready); one that is not open makes libcurl see an error on it.
  if (!d->sockets_.want(s, what)) d->sockets_.wake();
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
      // "As soon as possible", but never by calling libcurl from inside its own callback:
      // served by serve_kicks() once the call in progress (always ours) has returned.
      d->deadline_wanted_ = false;
      d->kick_ = true;
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

// The client pointer is the transfer (CURLOPT_OPENSOCKETDATA is per easy handle), so the
// sockets it opens are recorded with it for settle().
curl_socket_t multi_driver::on_open_socket(void* clientp, curlsocktype, curl_sockaddr* address) noexcept {
  auto* t = static_cast<transfer*>(clientp);
  auto* d = static_cast<multi_driver*>(t->hooks().owner);
  try {
    t->sockets_opened.reserve(t->sockets_opened.size() + 1);
  } catch (...) {
    t->socket_errno = ENOMEM;
    return CURL_SOCKET_BAD;
  }
  const int fd = d->sockets_.open(address->family, address->socktype, address->protocol, t->operation_id);
  if (fd < 0) {
    t->socket_errno = errno;  // libcurl says only "could not connect": finish() says why
    return CURL_SOCKET_BAD;
  }
  t->sockets_opened.push_back(fd);
  t->socket_errno = 0;
  return fd;
}

// The client pointer is the driver: libcurl may close a cached connection long after the
// transfer that opened it is gone.
int multi_driver::on_close_socket(void* self, curl_socket_t s) noexcept {
  return static_cast<multi_driver*>(self)->sockets_.close(s);
}

// ---------------------------------------------------------------------------------------

void multi_driver::shutdown() {
  std::vector<transfer::operation> doomed;
  completion_list doomed_completions;  // destroyed after the mutex is released
  engine_notice* undelivered = nullptr;
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
    kick_ = false;
    active_.clear();
    load_.store(0, std::memory_order_relaxed);
    idle_.clear();
    sockets_.clear();
    // The Asio objects go here, not in our destructor: services created after this one (the
    // reactor, the timer service) are destroyed before it.
    timer_.reset();
    watchdog_.reset();
    sockets_.close_set();
    undelivered = take_notices();
    doomed_completions.append(undelivered_);
  }
  while (undelivered) {  // dropped, outside the mutex: the last reference to a stream may go
    engine_notice* next = std::exchange(undelivered->next_notice_, nullptr);
    std::shared_ptr<engine_notice> dropped = std::move(undelivered->queued_);
    dropped->drop();
    undelivered = next;
  }
  // Asio's rule at shutdown: pending handlers are destroyed, never invoked; and never with
  // our mutex held, since their destructors may run arbitrary user code.
  doomed.clear();
}

}  // namespace boost_curl::detail
