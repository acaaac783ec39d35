// Cancellation residue: 100 000 fetches (10 000 under sanitizers), 200 in flight on two
// threads, each cancelled at a random point (at once, before or while connecting, mid-header,
// mid-body, after completion, or never) with a random cancellation type from a random thread.
// Every operation completes exactly once; afterwards no transfer is active or waiting, the
// descriptors open are only the connections kept for reuse, the heap in use stopped growing
// after the warm-up, and destroying the context brings the descriptor count back to what it
// was before the context existed.
// Its own program: it counts the process's descriptors.

#define BOOST_TEST_MODULE boost_curl_cancellation_residue
#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>
#include <origin/process_stats.hpp>
#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace boost_curl;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Where the cancellation lands, as the plan for one operation.
enum class when { immediately, after_delay, after_completion, never };

// Lives as long as its completion handler or a pending emit needs it.
struct operation {
  asio::cancellation_signal signal;
};

struct residue_run {
  tools::loopback_origin& origin;
  asio::io_context& ctx;
  std::size_t total;
  std::size_t in_flight_limit = 200;

  std::vector<std::atomic<int>> completions;  // per operation, allocated before the warm-up

  std::mutex mutex{};
  std::condition_variable done_cv{};
  std::mt19937 rng{20261201};
  std::size_t started = 0, finished = 0, errors = 0, successes = 0;
  asio::strand<asio::io_context::executor_type> canceller{ctx.get_executor()};

  residue_run(tools::loopback_origin& o, asio::io_context& c, std::size_t all)
      : origin(o), ctx(c), total(0), completions(all) {}

  const char* route(unsigned r) const {
    switch (r % 6) {
      case 0: return "/bytes/100";
      case 1: return "/bytes/200000";     // cancelled mid-body, several pieces
      case 2: return "/delay/3";          // mid-header
      case 3: return "/slow-body/4/1";    // mid-body, between pieces
      case 4: return "/chunked/20000";
      default: return "/status/204";
    }
  }

  void start_more() {  // with mutex held
    while (started < total && started - finished < in_flight_limit) start_one();
  }

  void start_one() {
    const std::size_t index = started++;
    auto o = std::make_shared<operation>();
    const unsigned r = rng();
    const when w = static_cast<when>(rng() % 4);
    const asio::cancellation_type type = (r >> 8) % 3 == 0   ? asio::cancellation_type::terminal
                                         : (r >> 8) % 3 == 1 ? asio::cancellation_type::partial
                                                             : asio::cancellation_type::total;
    const auto delay = std::chrono::microseconds(rng() % 3000);
    request req(origin.url(route(r)));
    req.timeout = 30s;
    async_fetch(ctx, std::move(req),
                asio::bind_cancellation_slot(o->signal.slot(), [this, o, index, w, type](error_code ec, response) {
                  ++completions[index];
                  if (w == when::after_completion)  // a late emit: nothing left to cancel
                    asio::post(canceller, [o, type] { o->signal.emit(type); });
                  std::lock_guard lock(mutex);
                  (ec ? errors : successes) += 1;
                  ++finished;
                  start_more();
                  if (finished == total) done_cv.notify_all();
                }));
    if (w == when::immediately) {
      asio::post(canceller, [o, type] { o->signal.emit(type); });
    } else if (w == when::after_delay) {
      auto timer = std::make_shared<asio::steady_timer>(canceller, delay);
      timer->async_wait([timer, o, type](error_code) { o->signal.emit(type); });
    }
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(random_cancellations_leave_nothing_behind) {
  tools::loopback_origin origin;
  const std::size_t total = test::sanitized ? 10000 : 100000;
  {  // one fetch first, so that whatever libcurl and the libraries open once is in the baseline
    asio::io_context warm;
    async_fetch(warm, request(origin.url("/bytes/1")), [](error_code, response) {});
    warm.run_for(10s);
  }
  for (int i = 0; i < 500 && origin.open_connections() != 0; ++i) std::this_thread::sleep_for(10ms);
  const std::size_t baseline_fds = tools::open_descriptors();
  std::size_t warm_rss = 0, end_rss = 0, kept_sockets = 0, fds_with_context = 0;
  std::vector<std::size_t> rss_samples, heap_samples;  // after each tenth past the warm-up
  {
    asio::io_context ctx;
    auto& service = asio::use_service<curl_service>(ctx);
    residue_run run(origin, ctx, total);
    auto work = asio::make_work_guard(ctx);
    std::thread a([&] { ctx.run(); }), b([&] { ctx.run(); });

    auto run_batch = [&](std::size_t count) {
      std::unique_lock lock(run.mutex);
      run.total = run.started + count;
      run.start_more();
      const bool all = run.done_cv.wait_for(lock, 600s, [&] { return run.finished == run.total; });
      BOOST_TEST_REQUIRE(all, run.finished << " of " << run.total << " completed");
    };
    // Between batches the client settles: the extra multi handles retire (closing their
    // connections) and driver 0 keeps at most 64; the origin, in this process, sees the
    // dropped connections go. Sampled only then, the heap holds the pools and the kept
    // connections, nothing in flight.
    auto settle = [&] {
      std::size_t last = ~std::size_t(0);
      for (int i = 0, same = 0; i < 500 && same < 10; ++i) {
        const std::size_t now = service.open_sockets();
        same = (now == last && origin.open_connections() <= now) ? same + 1 : 0;
        last = now;
        std::this_thread::sleep_for(10ms);
      }
    };
    // Warm-up: the first four tenths fill the pools (idle easy handles, connection caches,
    // the allocator's arenas); then memory is sampled after each further tenth.
    for (int k = 0; k < 4; ++k) run_batch(total / 10);
    settle();
    warm_rss = tools::resident_kb();
    std::string samples;
    for (int k = 4; k < 10; ++k) {
      run_batch(total / 10);
      settle();
      rss_samples.push_back(tools::resident_kb());
      heap_samples.push_back(tools::heap_in_use_kb());
      samples.append(" ").append(std::to_string(rss_samples.back())).append("/");
      samples.append(std::to_string(heap_samples.back())).append("/");
      samples.append(std::to_string(service.open_sockets()));
    }
    end_rss = tools::resident_kb();
    BOOST_TEST_MESSAGE("RSS / heap in use (KiB) / connections kept, after each tenth past the warm-up:" << samples);

    // Late emits (after completion) are posted: let them run before counting.
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(run.finished == total);
    BOOST_TEST(run.errors > 0u);
    BOOST_TEST(run.successes > 0u);
    for (const auto& n : run.completions) BOOST_TEST_REQUIRE(n.load() == 1);  // exactly once each
    BOOST_TEST(service.active_transfers() == 0u);
    BOOST_TEST(service.waiting_transfers() == 0u);
    kept_sockets = service.open_sockets();
    // The origin's ends of the connections the client closed may still be closing.
    for (int i = 0; i < 500 && origin.open_connections() > kept_sockets; ++i) std::this_thread::sleep_for(10ms);
    fds_with_context = tools::open_descriptors();
    BOOST_TEST_MESSAGE(total << " fetches: " << run.successes << " succeeded, " << run.errors
                              << " cancelled or failed; RSS " << warm_rss << " KiB after warm-up, " << end_rss
                              << " KiB at the end; " << kept_sockets << " connections kept, descriptors "
                              << baseline_fds << " before the context, " << fds_with_context << " with it");
    // Connections kept for reuse are bounded by the peak concurrency (200 in flight).
    BOOST_TEST(kept_sockets <= 4u * 200u);
    // Besides the kept connections (both ends: the origin is in this process), only the
    // context's own descriptors: the reactor's (epoll, eventfd, timerfd) and four per multi
    // handle (our epoll set and eventfd, libcurl's wake-up socket pair).
    BOOST_TEST(fds_with_context <= baseline_fds + 2 * kept_sockets + 3 + 4 * service.statistics().multi_handles);
    work.reset();
    ctx.stop();
    a.join();
    b.join();
  }
  // With the context gone, everything the client held is closed; wait (bounded) for the
  // origin to see its peers leave.
  for (int i = 0; i < 500 && origin.open_connections() != 0; ++i) std::this_thread::sleep_for(10ms);
  BOOST_TEST(origin.open_connections() == 0u);
  BOOST_TEST(tools::open_descriptors() == baseline_fds);
  // Memory over the last 60% of the run: the median of its last three samples against the
  // median of its first three (30 000 operations apart), so that one odd sample per half does
  // not decide. The leak check is on the heap in use (glibc's count of bytes allocated and not
  // freed): resident memory also moves when the allocator keeps pages or grows an arena (seen
  // in clang builds: +3 MiB in one step, then flat), which is not a leak. The heap's noise is
  // the connections kept: about 75 KiB each (both ends, the origin being in this process), 49
  // to 64 of them, so up to 1.1 MiB. A leak of 50 bytes per operation would exceed the 1.5 MiB
  // allowed. Resident memory gets a loose bound, against gross growth outside the heap.
  // Sanitizer runtimes have their own allocator and keep freed memory in quarantine, so
  // there the leak check is ASan's own at exit.
  const auto median3 = [](std::size_t a, std::size_t b, std::size_t c) {
    return std::max(std::min(a, b), std::min(std::max(a, b), c));
  };
  if (!test::sanitized && heap_samples.size() == 6) {
    const std::size_t first = median3(heap_samples[0], heap_samples[1], heap_samples[2]);
    const std::size_t last = median3(heap_samples[3], heap_samples[4], heap_samples[5]);
    BOOST_TEST(last <= first + 1536, "heap in use grew from " << first << " to " << last << " KiB (medians of three samples)");
    const std::size_t rss_first = median3(rss_samples[0], rss_samples[1], rss_samples[2]);
    const std::size_t rss_last = median3(rss_samples[3], rss_samples[4], rss_samples[5]);
    BOOST_TEST(rss_last <= rss_first + 8192, "RSS grew from " << rss_first << " to " << rss_last << " KiB (medians of three samples)");
  }
}
