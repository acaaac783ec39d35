// Many transfers at once, connection reuse, several threads and several contexts.

#include "test_support.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <fstream>
#include <sstream>
#include <thread>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {
// TCP connections of this network namespace to `port` that the peer has closed and the
// client has not (CLOSE_WAIT), from /proc/net/tcp and tcp6.
std::size_t close_wait_connections_to(unsigned short port) {
  std::size_t n = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // column titles
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto colon = remote.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::stoul(remote.substr(colon + 1), nullptr, 16) == port && state == "08") ++n;
    }
  }
  return n;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(concurrency, origin_fixture)

BOOST_AUTO_TEST_CASE(hundreds_at_once_all_complete_with_their_own_bodies) {
  constexpr int n = 300;
  std::vector<fetch_result> results(n);
  for (int i = 0; i < n; ++i) async_fetch(ctx, request(url("/bytes/" + std::to_string(i * 7))), record(results[i]));
  run_bounded(ctx);
  for (int i = 0; i < n; ++i) {
    BOOST_TEST_CONTEXT("fetch " << i) {
      BOOST_TEST(results[i].calls == 1);
      BOOST_TEST(!results[i].ec);
      BOOST_TEST(results[i].resp.body.size() == std::size_t(i * 7));
      BOOST_TEST(has_origin_pattern(results[i].resp.body));
    }
  }
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_CASE(load_spreads_over_multi_handles) {
  // Low concurrency: one multi handle, so its connections are reused.
  for (int i = 0; i < 5; ++i) fetch(ctx, request(url("/bytes/1")));
  BOOST_TEST(service().statistics().multi_handles == 1u);
  // 200 at once (slow, so none completes while they start) with 64 per handle: four
  // handles, every fetch correct.
  BOOST_TEST(service().transfers_per_multi() == 64u);
  std::vector<fetch_result> results(200);
  for (auto& r : results) async_fetch(ctx, request(url("/delay/300")), record(r));
  BOOST_TEST(service().statistics().multi_handles == 4u);
  run_bounded(ctx);
  for (auto& r : results) BOOST_TEST(r.resp.body == "delayed");
}

// After a burst above transfers_per_multi(), the extra multi handles must not keep their
// connections for the life of the context: once nothing runs they are closed, and the first
// handle's connections that the server closed are reaped by libcurl when it is used again.
BOOST_AUTO_TEST_CASE(descriptors_return_to_baseline_after_a_burst) {
  tools::loopback_origin::options options;
  options.idle_timeout = 300ms;  // the server closes connections idle that long
  tools::loopback_origin closing(options);
  service().set_transfers_per_multi(4);
  std::vector<fetch_result> burst(24);
  for (auto& r : burst) async_fetch(ctx, request(closing.url("/delay/100")), record(r));
  BOOST_TEST(service().statistics().multi_handles == 6u);
  run_bounded(ctx);
  for (auto& r : burst) BOOST_TEST(r.resp.body == "delayed");
  BOOST_TEST(service().open_sockets() <= 4u);  // the first handle's, kept for reuse

  std::this_thread::sleep_for(600ms);  // the server closes them all
  BOOST_TEST(closing.open_connections() == 0u);
  // Sequential use of the first handle for over a second: libcurl prunes dead connections
  // at most once a second, when a transfer starts.
  for (int i = 0; i < 12; ++i) {
    BOOST_TEST(fetch(ctx, request(closing.url("/bytes/1"))).resp.body == "0");
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(service().open_sockets() == 1u);
  BOOST_TEST(close_wait_connections_to(closing.port()) == 0u);
}

// While other transfers run, an extra multi handle left idle for multi_idle_timeout() closes
// its connections (it will not be picked again until the others are full).
BOOST_AUTO_TEST_CASE(idle_extra_multi_handles_are_retired_while_others_work) {
  service().set_transfers_per_multi(4);
  service().set_multi_idle_timeout(300ms);
  BOOST_TEST((service().multi_idle_timeout() == 300ms));
  fetch_result long_one;  // keeps the service busy throughout
  async_fetch(ctx, request(url("/delay/2500")), record(long_one));
  int burst_done = 0, trickle = 0;
  std::size_t sockets_after_burst = 0, sockets_at_end = 0;
  asio::steady_timer timer(ctx);
  std::function<void()> next_trickle = [&] {
    if (++trickle == 16) {
      sockets_at_end = service().open_sockets();
      return;
    }
    async_fetch(ctx, request(url("/bytes/1")), [&](error_code, response) {
      timer.expires_after(60ms);
      timer.async_wait([&](error_code) { next_trickle(); });
    });
  };
  for (int i = 0; i < 12; ++i)
    async_fetch(ctx, request(url("/delay/50")), [&](error_code ec, response) {
      BOOST_TEST(!ec);
      if (++burst_done == 12) {
        sockets_after_burst = service().open_sockets();
        next_trickle();
      }
    });
  BOOST_TEST(service().statistics().multi_handles == 4u);
  run_bounded(ctx);
  BOOST_TEST(long_one.resp.body == "delayed");
  BOOST_TEST(trickle == 16);
  BOOST_TEST(sockets_after_burst == 13u);
  BOOST_TEST(sockets_at_end <= 4u);  // the first handle's only
}

// 32 chains of keep-alive fetches, each starting its next from its handler: after the first
// round every fetch reuses a connection. (When one wake-up finishes many transfers, libcurl's
// default cache bound, four per easy handle still added, sinks while they are removed one
// after the other, and closed connections that were about to be reused: 2 483 connections
// for 20 000 fetches at concurrency 32 before the bound was set from the peak.)
BOOST_AUTO_TEST_CASE(concurrent_keep_alive_chains_reuse_their_connections) {
  constexpr int chains = 32, per_chain = 40;
  int ok = 0;
  std::function<void(int)> next = [&](int left) {
    if (left == 0) return;
    async_fetch(ctx, request(url("/bytes/10")), [&, left](error_code ec, response r) {
      ok += !ec && r.body.size() == 10;
      next(left - 1);
    });
  };
  for (int c = 0; c < chains; ++c) next(per_chain);
  run_bounded(ctx);
  BOOST_TEST(ok == chains * per_chain);
  BOOST_TEST(service().statistics().sockets_opened <= std::size_t(chains));
  BOOST_TEST(origin.connections_accepted() <= std::size_t(chains));
}

BOOST_AUTO_TEST_CASE(one_multi_handle_when_asked) {
  service().set_transfers_per_multi(0);
  std::vector<fetch_result> results(150);
  for (auto& r : results) async_fetch(ctx, request(url("/bytes/20")), record(r));
  run_bounded(ctx);
  for (auto& r : results) BOOST_TEST(r.resp.body.size() == 20u);
  BOOST_TEST(service().statistics().multi_handles == 1u);
  BOOST_TEST(service().statistics().sockets_opened >= 100u);  // all on one handle's cache
}

BOOST_AUTO_TEST_CASE(keep_alive_reuses_one_connection) {
  for (int i = 0; i < 20; ++i) BOOST_TEST(fetch(ctx, request(url("/bytes/50"))).resp.body.size() == 50u);
  BOOST_TEST(origin.connections_accepted() == 1u);
  BOOST_TEST(service().statistics().sockets_opened == 1u);
  BOOST_TEST(service().open_sockets() == 1u);  // kept for the next request
}

BOOST_AUTO_TEST_CASE(run_returns_when_idle_despite_cached_connections) {
  fetch(ctx, request(url("/bytes/10")));
  BOOST_TEST_REQUIRE(service().open_sockets() == 1u);
  // A second round: the context must run out of work by itself, not wait on the idle socket
  // or on libcurl's connect timer.
  fetch_result r;
  async_fetch(ctx, request(url("/bytes/10")), record(r));
  const auto t0 = std::chrono::steady_clock::now();
  ctx.restart();
  ctx.run_for(10s);
  BOOST_TEST(r.done);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 3s));
}

// libcurl 7.88 drops a transfer's timeout now and then, when something else runs the transfer
// less than a millisecond before it expires (see multi_driver::on_watchdog); a silent server
// then holds it forever. It takes load: 1 000 transfers in flight on two threads, a quarter of
// them to a server that stops mid-body, each of which must still time out. Without the
// engine's own deadline about 1 in 200 of those never completed (20 to 40 a run: the test hung
// until run_limit and failed); at 400 in flight, hardly ever.
BOOST_AUTO_TEST_CASE(timeouts_hold_among_busy_transfers) {
  const std::size_t total = sanitized ? 4000 : 20000;
  // Two descriptors a connection (the origin is in this process): the soft limit goes up to
  // the hard one, and the load down if even that is short.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  const std::size_t in_flight = std::min<std::size_t>(1000, (std::size_t(lim.rlim_cur) - 200) / 3);
  std::mutex mutex;
  std::size_t started = 0;
  std::atomic<std::size_t> finished{0}, wrong{0};
  std::vector<std::atomic<unsigned char>> calls(total);
  std::function<void()> start_next = [&] {  // with `mutex` held
    const std::size_t i = started++;
    const bool lying = i % 4 == 0;
    request req(url(lying ? "/lie-length" : i % 8 == 1 ? "/bytes/100000" : "/bytes/1000"));
    req.timeout = lying ? 50ms : 30s;
    async_fetch(ctx, std::move(req), [&, i, lying](error_code ec, response) {
      ++calls[i];
      if (lying ? ec != condition::timeout : bool(ec)) ++wrong;
      std::lock_guard lock(mutex);
      ++finished;
      if (started < total) start_next();
    });
  };
  {
    std::lock_guard lock(mutex);
    while (started < in_flight) start_next();
  }
  run_on_threads(ctx, 2, [&] { return finished.load() == total; });
  BOOST_TEST(finished.load() == total);
  BOOST_TEST(wrong.load() == 0u);
  std::size_t not_once = 0;
  for (const auto& c : calls) not_once += c.load() != 1;
  BOOST_TEST(not_once == 0u);
  BOOST_TEST_MESSAGE("timeouts the engine enforced: " << service().statistics().timeouts_enforced);
}

BOOST_AUTO_TEST_CASE(four_threads_run_the_context) {
  constexpr int n = 200;
  std::vector<fetch_result> results(n);
  for (int i = 0; i < n; ++i) async_fetch(ctx, request(url("/bytes/" + std::to_string(100 + i))), record(results[i]));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([this] { ctx.run_for(run_limit); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    BOOST_TEST(results[i].calls == 1);
    BOOST_TEST(results[i].resp.body.size() == std::size_t(100 + i));
  }
}

BOOST_AUTO_TEST_CASE(fetches_started_from_foreign_threads) {
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([this] { ctx.run_for(run_limit); });
  constexpr int per_thread = 25, threads_n = 4;
  std::atomic<int> ok{0}, calls{0};
  std::vector<std::thread> starters;
  for (int t = 0; t < threads_n; ++t)
    starters.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i)
        async_fetch(ctx, request(url("/bytes/64")), [&](error_code ec, response r) {
          if (!ec && r.body.size() == 64) ++ok;
          ++calls;
        });
    });
  for (auto& t : starters) t.join();
  const auto deadline = std::chrono::steady_clock::now() + run_limit;
  while (calls < per_thread * threads_n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  guard.reset();
  runner.join();
  BOOST_TEST(calls.load() == per_thread * threads_n);
  BOOST_TEST(ok.load() == per_thread * threads_n);
}

BOOST_AUTO_TEST_CASE(several_contexts_on_several_threads) {
  constexpr int contexts_n = 3, per_context = 40;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::vector<fetch_result>> results(contexts_n, std::vector<fetch_result>(per_context));
  for (int c = 0; c < contexts_n; ++c) {
    contexts.push_back(std::make_unique<asio::io_context>());
    for (int i = 0; i < per_context; ++i) async_fetch(*contexts[c], request(url("/bytes/33")), record(results[c][i]));
  }
  std::vector<std::thread> threads;
  for (auto& c : contexts) threads.emplace_back([&c] { c->run_for(run_limit); });
  for (auto& t : threads) t.join();
  for (int c = 0; c < contexts_n; ++c) {
    for (auto& r : results[c]) BOOST_TEST(r.resp.body.size() == 33u);
    // Each context has its own service, multi handle and connections.
    BOOST_TEST(asio::use_service<curl_service>(*contexts[c]).statistics().transfers_started == std::size_t(per_context));
  }
}

BOOST_AUTO_TEST_SUITE_END()
