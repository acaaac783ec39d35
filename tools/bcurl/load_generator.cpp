#include "load_generator.hpp"
#include "options.hpp"

#include <boost_curl.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace bcurl {
namespace {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;
using std::chrono::microseconds;

constexpr auto progress_period = std::chrono::milliseconds(250);
constexpr auto late_threshold = std::chrono::milliseconds(1);

std::uint64_t to_us(clock_type::duration d) {
  return d.count() > 0 ? std::uint64_t(std::chrono::duration_cast<microseconds>(d).count()) : 0;
}

// State all workers share; only atomics are written after the start.
struct shared_run {
  const load_config& cfg;
  clock_type::time_point t0;
  std::optional<clock_type::time_point> deadline;
  std::atomic<std::uint64_t> claimed{0};  // closed loop: request numbers handed out
  std::atomic<std::uint64_t> done{0};     // for the progress line
  std::atomic<std::uint64_t> failed{0};
};

// One io_context (with its own curl_service) and the requests it is responsible for. Everything
// but the snapshot is touched only from the thread running ioc_.
class worker {
 public:
  worker(shared_run& run, unsigned index, unsigned concurrency, std::function<void()> on_finished)
      : run_(run),
        cfg_(run.cfg),
        index_(index),
        slots_(concurrency),
        pacer_(ioc_),
        snapshot_timer_(ioc_),
        on_finished_(std::move(on_finished)) {
    free_slots_.reserve(concurrency);
    // A session per slot at most: more would never be used.
    for (unsigned i = 0; i < std::min(cfg_.sessions, concurrency); ++i) sessions_.emplace_back(ioc_);
    for (unsigned s = concurrency; s-- > 0;) free_slots_.push_back(s);
    if (open_loop()) {
      // Open loop: this worker owns global request numbers index, index+T, index+2T ...
      const std::uint64_t n = cfg_.requests, t = cfg_.threads;
      local_total_ = n == unlimited ? unlimited : (n > index ? (n - index + t - 1) / t : 0);
    }
  }

  asio::io_context& ioc() { return ioc_; }

  void start() {
    asio::post(ioc_, [this] { begin(); });
  }
  void stop() {
    asio::post(ioc_, [this] { stop_here(); });
  }
  // Called from the progress timer on another thread.
  void add_snapshot_to(latency_histogram& h) {
    std::lock_guard lock(snapshot_mutex_);
    h.merge(snapshot_);
  }
  run_summary& result() { return result_; }
  // Tells the control thread this worker is done; once, even if also called after a failure.
  void report_finished() {
    if (!reported_.exchange(true)) on_finished_();
  }

 private:
  struct slot {
    asio::cancellation_signal cancel;
    bool busy = false;
  };

  bool open_loop() const { return cfg_.rate > 0; }

  // Scheduled send time of this worker's j-th request. Computed from the start each time, so
  // rounding never accumulates into drift.
  clock_type::time_point scheduled(std::uint64_t j) const {
    const double k = double(index_) + double(j) * double(cfg_.threads);
    return run_.t0 + std::chrono::nanoseconds(std::int64_t(k * 1e9 / cfg_.rate));
  }
  bool past_deadline(clock_type::time_point t) const { return run_.deadline && t >= *run_.deadline; }

  void begin() {
    if (cfg_.progress) publish_snapshot();
    if (open_loop()) {
      pace({});
    } else {
      // Closed loop: every slot starts one request; each completion starts the next.
      while (!free_slots_.empty() && claim_and_launch()) {
      }
    }
    maybe_finish();
  }

  // ---- closed loop
  bool claim_and_launch() {
    const auto now = clock_type::now();
    if (stopping_ || past_deadline(now)) return false;
    const std::uint64_t k = run_.claimed.fetch_add(1, std::memory_order_relaxed);
    if (k >= cfg_.requests) return false;
    launch(k, now);
    return true;
  }

  // ---- open loop
  // The timer fires at the next scheduled time; everything due by now becomes "due" (also a
  // backlog if the thread was late), then as many due requests start as slots allow. The rest
  // wait for a slot, and that wait is part of their latency.
  void pace(boost::system::error_code ec) {
    if (ec || stopping_) return;
    const auto now = clock_type::now();
    while (due_ < local_total_ && scheduled(due_) <= now && !past_deadline(scheduled(due_))) ++due_;
    start_due();
    if (due_ < local_total_ && !past_deadline(scheduled(due_))) {
      pacer_.expires_at(scheduled(due_));
      pacer_.async_wait([this](boost::system::error_code e) { pace(e); });
    } else {
      scheduling_done_ = true;
      maybe_finish();
    }
  }

  void start_due() {
    while (started_ < due_ && !free_slots_.empty()) {
      launch(index_ + started_ * cfg_.threads, scheduled(started_));
      ++started_;
    }
  }

  // ---- both
  void launch(std::uint64_t k, clock_type::time_point intended) {
    const unsigned s = free_slots_.back();
    free_slots_.pop_back();
    slots_[s].busy = true;
    ++in_flight_;
    boost_curl::request req = cfg_.prototype;
    req.url = cfg_.urls[k % cfg_.urls.size()];
    const auto started = clock_type::now();
    if (open_loop()) {
      const auto lag = started - intended;
      if (lag > late_threshold) ++result_.late_starts;
      result_.max_start_lag_us = std::max(result_.max_start_lag_us, to_us(lag));
    }
    auto handler = asio::bind_cancellation_slot(
        slots_[s].cancel.slot(), [this, s, intended, started](boost_curl::error_code ec, boost_curl::response r) {
          complete(s, intended, started, ec, r);
        });
    if (sessions_.empty())
      boost_curl::async_fetch(ioc_, std::move(req), std::move(handler));
    else  // a virtual user per slot: its cookies follow it from request to request
      sessions_[s % sessions_.size()].async_fetch(std::move(req), std::move(handler));
  }

  void complete(unsigned s, clock_type::time_point intended, clock_type::time_point started,
                const boost_curl::error_code& ec, const boost_curl::response& r) {
    const auto now = clock_type::now();
    slots_[s].busy = false;
    free_slots_.push_back(s);
    --in_flight_;
    last_completion_ = now;
    // A request we cancelled ourselves (Ctrl-C) measured nothing about the server.
    if (ec != asio::error::operation_aborted) {
      result_.latency.record(to_us(now - intended));
      if (open_loop()) result_.service.record(to_us(now - started));
    }
    result_.tally(ec, r.status_code(), r.body.size());
    run_.done.fetch_add(1, std::memory_order_relaxed);
    if (ec || r.status_code() >= 400) run_.failed.fetch_add(1, std::memory_order_relaxed);
    if (open_loop())
      start_due();
    else
      claim_and_launch();
    maybe_finish();
  }

  void stop_here() {
    if (finished_) return;
    stopping_ = true;
    result_.interrupted = true;
    due_ = started_;  // drop what was due but never started
    scheduling_done_ = true;
    pacer_.cancel();
    for (auto& sl : slots_)
      if (sl.busy) sl.cancel.emit(asio::cancellation_type::terminal);
    maybe_finish();
  }

  void maybe_finish() {
    if (finished_ || in_flight_ != 0) return;
    if (open_loop() && !(scheduling_done_ && started_ == due_)) return;
    finished_ = true;
    snapshot_timer_.cancel();
    result_.seconds = std::chrono::duration<double>((last_completion_ ? *last_completion_ : clock_type::now()) - run_.t0).count();
    if (cfg_.progress) publish_snapshot();
    // libcurl keeps idle connections (and may keep a timer) alive: stop explicitly rather than
    // wait for the context to run out of work.
    ioc_.stop();
    report_finished();
  }

  void publish_snapshot() {
    {
      std::lock_guard lock(snapshot_mutex_);
      snapshot_ = result_.latency;
    }
    if (finished_) return;
    snapshot_timer_.expires_after(progress_period);
    snapshot_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) publish_snapshot();
    });
  }

  shared_run& run_;
  const load_config& cfg_;
  const unsigned index_;
  // Order matters for destruction: the timers go first, then the context (destroying any
  // operation still pending, whose cancellation slots live in slots_), then slots_.
  std::vector<slot> slots_;
  asio::io_context ioc_;
  std::vector<unsigned> free_slots_;
  std::vector<boost_curl::session> sessions_;  // after ioc_: gone before it (operations keep their state)
  asio::steady_timer pacer_;
  asio::steady_timer snapshot_timer_;
  std::function<void()> on_finished_;
  std::atomic<bool> reported_{false};

  unsigned in_flight_ = 0;
  bool stopping_ = false;
  bool finished_ = false;
  // Open loop, in this worker's own numbering: [started_, due_) are due and waiting for a slot.
  std::uint64_t local_total_ = 0;
  std::uint64_t due_ = 0;
  std::uint64_t started_ = 0;
  bool scheduling_done_ = false;
  std::optional<clock_type::time_point> last_completion_;

  run_summary result_;
  std::mutex snapshot_mutex_;
  latency_histogram snapshot_;
};

}  // namespace

run_summary run_load(const load_config& cfg) {
  const bool open_loop = cfg.rate > 0;
  shared_run run{cfg, {}, {}, {}, {}, {}};

  asio::io_context control;  // main thread: signals and the progress line
  auto control_work = asio::make_work_guard(control);
  asio::signal_set signals(control, SIGINT, SIGTERM);
  asio::steady_timer progress_timer(control);
  unsigned running = cfg.threads;

  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned t = 0; t < cfg.threads; ++t) {
    const unsigned share = cfg.concurrency / cfg.threads + (t < cfg.concurrency % cfg.threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(run, t, share, [&] {
      asio::post(control, [&] {
        if (--running > 0) return;
        signals.cancel();
        progress_timer.cancel();
        control_work.reset();
      });
    }));
  }

  bool interrupted = false;
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int) {
    if (ec) return;
    if (interrupted) std::_Exit(130);  // second Ctrl-C: the user really wants out
    interrupted = true;
    for (auto& w : workers) w->stop();
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  auto heap_histogram = std::make_unique<latency_histogram>();  // ~22 KiB, not for the stack
  std::function<void(boost::system::error_code)> show_progress = [&](boost::system::error_code ec) {
    if (ec) return;
    heap_histogram->reset();
    for (auto& w : workers) w->add_snapshot_to(*heap_histogram);
    const double elapsed = std::chrono::duration<double>(clock_type::now() - run.t0).count();
    const double planned = cfg.duration ? std::chrono::duration<double>(*cfg.duration).count() : 0.0;
    const std::string line =
        progress_line(run.done.load(), cfg.requests, std::max(elapsed, 0.0), planned, run.failed.load(), *heap_histogram);
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    std::fflush(stderr);
    progress_timer.expires_after(progress_period);
    progress_timer.async_wait(show_progress);
  };

  // Open loop: leave the threads a moment to start before the first scheduled send.
  run.t0 = clock_type::now() + (open_loop ? std::chrono::milliseconds(5) : std::chrono::milliseconds(0));
  if (cfg.duration) run.deadline = run.t0 + *cfg.duration;
  if (cfg.progress) {
    progress_timer.expires_after(progress_period);
    progress_timer.async_wait(show_progress);
  }

  std::vector<std::thread> threads;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (auto& w : workers) {
    w->start();
    threads.emplace_back([&, w = w.get()] {
      try {
        w->ioc().run();
      } catch (...) {
        // Unexpected (a throwing handler): stop the others, rethrow once all are joined.
        {
          std::lock_guard lock(failure_mutex);
          if (!failure) failure = std::current_exception();
        }
        for (auto& other : workers) other->stop();
        w->report_finished();
      }
    });
  }
  control.run();
  for (auto& t : threads) t.join();
  if (cfg.progress) std::fprintf(stderr, "\r\033[K");
  if (failure) std::rethrow_exception(failure);

  run_summary total;
  total.urls = cfg.urls;
  total.open_loop = open_loop;
  total.rate = cfg.rate;
  total.concurrency = cfg.concurrency;
  total.sessions = cfg.sessions;
  total.threads = cfg.threads;
  for (std::size_t t = 0; t < workers.size(); ++t) {
    run_summary& r = workers[t]->result();
    r.connections = asio::use_service<boost_curl::curl_service>(workers[t]->ioc()).statistics().sockets_opened;
    char line[160];
    std::snprintf(line, sizeof line, "%zu: %llu requests in %.3f s, %llu connections", t, (unsigned long long)r.requests,
                  r.seconds, (unsigned long long)r.connections);
    total.per_thread.emplace_back(line);
    total.merge(r);
  }
  // Open loop: the schedule spans N/R seconds (request k owns [k/R, (k+1)/R)); measuring only
  // up to the last completion would report slightly more than the rate asked for.
  if (open_loop && !total.interrupted) total.seconds = std::max(total.seconds, double(total.requests) / cfg.rate);
  return total;
}

}  // namespace bcurl
