// Stress, for ThreadSanitizer above all (CI's tsan stage runs it; it passes in every build):
// one io_context run by 8 threads and two more contexts run by 2 threads each, fetches
// started from completion handlers, from strands and from foreign threads, through sessions
// shared by all of them and plain, with handlers bound to strands or not; each cancelled (or
// not) with a random type, from a strand, a foreign thread or another operation's handler.
//   - a fixed count: every operation completes exactly once, nothing is left running;
//   - the same, with every context destroyed mid-run: no operation completes twice, none
//     after its context is gone, and descriptors come back to what they were.
// Its own program: it counts the process's descriptors.

#define BOOST_TEST_MODULE boost_curl_stress
#include "test_support.hpp"

#include <origin/process_stats.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {

enum class source { none, strand, foreign_thread, other_handler };

struct operation {
  asio::cancellation_signal signal;  // emitted by exactly one party, after async_fetch returned
  std::atomic<int> calls{0};
};

// One execution context, the threads running it, its strand and its shared sessions.
struct rig {
  asio::io_context ctx;
  asio::strand<asio::io_context::executor_type> strand{ctx.get_executor()};
  std::vector<std::unique_ptr<session>> sessions;
  std::vector<std::thread> threads;
  asio::executor_work_guard<asio::io_context::executor_type> work{ctx.get_executor()};

  explicit rig(int n) : ctx(n) {
    for (int i = 0; i < 2; ++i) sessions.push_back(std::make_unique<session>(ctx));
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { ctx.run(); });
  }
  // Stops and joins the threads; what is in flight is destroyed with the context.
  void halt() {
    work.reset();
    ctx.stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

std::mt19937& rng() {
  thread_local std::mt19937 r(std::random_device{}());
  return r;
}

class stress {
 public:
  stress(tools::loopback_origin& origin, std::size_t total) : origin_(origin), quota_(total) {
    rigs_.push_back(std::make_unique<rig>(8));
    rigs_.push_back(std::make_unique<rig>(2));
    rigs_.push_back(std::make_unique<rig>(2));
  }

  // Starts the first operations, the two foreign starters and the foreign canceller.
  void begin() {
    for (auto& r : rigs_)
      for (int i = 0; i < 48; ++i) asio::post(r->strand, [this, rp = r.get()] { launch(*rp); });
    for (int i = 0; i < 2; ++i)
      foreign_.emplace_back([this] {
        while (!stop_foreign_.load()) {
          if (in_flight() < cap) launch(*rigs_[rng()() % rigs_.size()]);
          else std::this_thread::sleep_for(std::chrono::microseconds(200));
          if (quota_.load() == 0) std::this_thread::sleep_for(1ms);
        }
      });
    foreign_.emplace_back([this] {
      while (!stop_foreign_.load()) {
        if (auto [o, type] = take(foreign_cancels_); o) {
          std::this_thread::sleep_for(std::chrono::microseconds(rng()() % 2000));
          o->signal.emit(type);
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
      }
    });
  }

  // Joins the foreign threads: before a context goes, nothing may start or emit on it.
  void stop_foreign() {
    stop_foreign_.store(true);
    for (auto& t : foreign_) t.join();
    foreign_.clear();
  }

  void halt_all() {
    for (auto& r : rigs_) r->halt();
  }
  void destroy_rigs() { rigs_.clear(); }
  std::vector<std::unique_ptr<rig>>& rigs() { return rigs_; }

  std::size_t started() const { return started_.load(); }
  std::size_t finished() const { return finished_.load(); }
  std::size_t in_flight() const { return started_.load() - finished_.load(); }
  std::size_t errors() const { return errors_.load(); }
  std::size_t cancelled() const { return cancelled_.load(); }
  std::size_t successes() const { return finished_.load() - errors_.load(); }
  // Operations whose handler ran other than once (or, with `never_ok`, more than once).
  std::size_t not_once(bool never_ok) {
    std::lock_guard lock(mutex_);
    std::size_t bad = 0;
    for (const auto& o : all_) bad += never_ok ? o->calls.load() > 1 : o->calls.load() != 1;
    return bad;
  }

  static constexpr std::size_t cap = 400;  // in flight at most, over the three contexts

 private:
  using cancel_queue = std::deque<std::pair<std::shared_ptr<operation>, asio::cancellation_type>>;

  // The oldest cancellation waiting in `q` (a null operation if none).
  cancel_queue::value_type take(cancel_queue& q) {
    std::lock_guard lock(mutex_);
    if (q.empty()) return {};
    cancel_queue::value_type front = std::move(q.front());
    q.pop_front();
    return front;
  }

  bool claim() {
    std::size_t left = quota_.load();
    while (left > 0 && !quota_.compare_exchange_weak(left, left - 1)) {}
    return left > 0;
  }

  const char* route(unsigned r) const {
    switch (r % 6) {
      case 0: return "/bytes/100";
      case 1: return "/bytes/100000";
      case 2: return "/delay/2";
      case 3: return "/slow-body/3/1";
      case 4: return "/close-mid-body";
      default: return "/chunked/5000";
    }
  }

  void launch(rig& where) {
    if (!claim()) return;
    ++started_;  // before async_fetch: its handler may run on another thread before it returns
    auto o = std::make_shared<operation>();
    {
      std::lock_guard lock(mutex_);
      all_.push_back(o);
    }
    const unsigned r = rng()();
    const source from = static_cast<source>((r >> 4) % 4);
    const asio::cancellation_type type = (r >> 8) % 3 == 0   ? asio::cancellation_type::terminal
                                         : (r >> 8) % 3 == 1 ? asio::cancellation_type::partial
                                                             : asio::cancellation_type::total;
    request req(origin_.url(route(r)));
    req.timeout = 30s;
    auto on_done = [this, o, &where](error_code ec, response) {
      ++o->calls;
      if (ec) ++errors_;
      if (ec == asio::error::operation_aborted) ++cancelled_;
      ++finished_;
      // Cancel somebody else's operation from here, then start the next one from a handler.
      if (auto [victim, type] = take(handler_cancels_); victim) victim->signal.emit(type);
      if (in_flight() < cap) launch(where);
    };
    auto token = asio::bind_cancellation_slot(o->signal.slot(), std::move(on_done));
    const bool on_strand = (r >> 12) % 3 == 0;
    const int in = (r >> 14) % 3;  // plain, or one of the two shared sessions
    auto fetch = [&](auto&& t) {
      if (in == 2) async_fetch(where.ctx, std::move(req), std::move(t));
      else where.sessions[in]->async_fetch(std::move(req), std::move(t));
    };
    if (on_strand) fetch(asio::bind_executor(where.strand, std::move(token)));
    else fetch(std::move(token));

    // Now that async_fetch has returned, the signal's single emitter may have it.
    switch (from) {
      case source::none: break;
      case source::strand: {
        auto timer = std::make_shared<asio::steady_timer>(where.strand, std::chrono::microseconds(rng()() % 3000));
        timer->async_wait([timer, o, type](error_code) { o->signal.emit(type); });
        break;
      }
      case source::foreign_thread: {
        std::lock_guard lock(mutex_);
        foreign_cancels_.emplace_back(o, type);
        break;
      }
      case source::other_handler: {
        std::lock_guard lock(mutex_);
        handler_cancels_.emplace_back(o, type);
        break;
      }
    }
  }

  tools::loopback_origin& origin_;
  std::atomic<std::size_t> quota_;
  std::atomic<std::size_t> started_{0}, finished_{0}, errors_{0}, cancelled_{0};
  std::vector<std::unique_ptr<rig>> rigs_;
  std::vector<std::thread> foreign_;
  std::atomic<bool> stop_foreign_{false};
  std::mutex mutex_;
  std::vector<std::shared_ptr<operation>> all_;
  cancel_queue foreign_cancels_, handler_cancels_;
};

void wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
}

std::size_t settled_descriptors(tools::loopback_origin& origin) {
  for (int i = 0; i < 500 && origin.open_connections() != 0; ++i) std::this_thread::sleep_for(10ms);
  return tools::open_descriptors();
}

}  // namespace

BOOST_AUTO_TEST_CASE(three_contexts_twelve_threads_shared_sessions) {
  tools::loopback_origin origin;
  const std::size_t total = sanitized ? 3000 : 30000;
  stress run(origin, total);
  run.begin();
  wait_until([&] { return run.finished() == total; }, 300s);
  run.stop_foreign();
  std::this_thread::sleep_for(50ms);  // emits posted after the last completions
  BOOST_TEST(run.started() == total);
  BOOST_TEST(run.finished() == total);
  BOOST_TEST(run.not_once(false) == 0u);
  BOOST_TEST(run.successes() > 0u);
  BOOST_TEST(run.cancelled() > 0u);
  for (auto& r : run.rigs()) {
    auto& service = asio::use_service<curl_service>(r->ctx);
    BOOST_TEST(service.active_transfers() == 0u);
    BOOST_TEST(service.waiting_transfers() == 0u);
  }
  BOOST_TEST_MESSAGE(total << " operations: " << run.successes() << " succeeded, " << run.cancelled()
                           << " cancelled, " << run.errors() - run.cancelled() << " other errors");
  run.halt_all();
}

BOOST_AUTO_TEST_CASE(contexts_destroyed_while_all_that_runs) {
  tools::loopback_origin origin;
  {  // whatever libcurl and the libraries open once belongs in the baseline
    asio::io_context warm;
    async_fetch(warm, request(origin.url("/bytes/1")), [](error_code, response) {});
    warm.run_for(10s);
  }
  const std::size_t baseline = settled_descriptors(origin);
  const std::size_t total = sanitized ? 3000 : 30000;
  std::size_t finished_at_halt = 0;
  {
    stress run(origin, total);
    run.begin();
    wait_until([&] { return run.finished() >= total / 3; }, 300s);
    run.stop_foreign();
    run.halt_all();  // transfers, timers and posted emits still pending
    finished_at_halt = run.finished();
    BOOST_TEST(run.in_flight() > 0u);
    run.destroy_rigs();  // sessions, then contexts: pending handlers are destroyed, never run
    BOOST_TEST(run.finished() == finished_at_halt);
    BOOST_TEST(run.not_once(true) == 0u);
    BOOST_TEST_MESSAGE(run.started() << " started, " << finished_at_halt << " completed before the contexts went");
  }
  // The origin's ends of the connections the contexts closed may still be closing.
  std::size_t after = settled_descriptors(origin);
  for (int i = 0; i < 100 && after != baseline; ++i) {
    std::this_thread::sleep_for(10ms);
    after = tools::open_descriptors();
  }
  BOOST_TEST(after == baseline, "descriptors now:\n" << tools::describe_descriptors());
}
