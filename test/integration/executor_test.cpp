// The engine's own waits (libcurl's sockets and timer) run on the execution context's plain
// executor, never on an executor a user handed in: whatever executor arrives first (a strand,
// an any_io_executor wrapping one, a coroutine's, a session's), a busy or blocked user strand
// must not stop unrelated fetches.

#include "test_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {

constexpr auto block_limit = 5s;  // how long a blocked strand waits before giving up

// Blocks `strand` until a fetch started on the context's plain executor has completed, and
// says whether it did while the strand was still blocked (false after block_limit: the engine
// was waiting on that strand).
template <class Strand>
bool plain_fetch_completes_while_strand_blocked(origin_fixture& f, Strand strand) {
  std::atomic<bool> plain_done{false}, blocked_done{false}, completed_while_blocked{false};
  asio::post(strand, [&] {
    const auto deadline = std::chrono::steady_clock::now() + block_limit;
    while (!plain_done && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    completed_while_blocked = plain_done.load();
    blocked_done = true;
  });
  std::atomic<bool> plain_ok{false};
  async_fetch(f.ctx.get_executor(), request(f.url("/bytes/2")), [&](error_code ec, response) {
    plain_ok = !ec;  // Boost.Test's macros are for the main thread only
    plain_done = true;
  });
  run_on_threads(f.ctx, 3, [&] { return plain_done && blocked_done; });
  BOOST_TEST(plain_ok.load());
  return completed_while_blocked;
}

// A handler on `strand` that blocks on a fetch of the plain executor (a use_future wait):
// whether the fetch completed within block_limit.
template <class Strand>
bool strand_handler_may_block_on_a_fetch(origin_fixture& f, Strand strand) {
  std::atomic<int> outcome{0};  // 0 running, 1 completed, 2 gave up
  asio::post(strand, [&] {
    auto future = async_fetch(f.ctx.get_executor(), request(f.url("/bytes/3")), asio::use_future);
    outcome = future.wait_for(block_limit) == std::future_status::ready ? 1 : 2;
  });
  run_on_threads(f.ctx, 3, [&] { return outcome != 0; });
  return outcome == 1;
}

// The context's first fetch, started on `ex`.
template <class Executor>
void first_fetch_on(origin_fixture& f, Executor ex) {
  fetch_result first;
  async_fetch(ex, request(f.url("/bytes/1")), record(first));
  run_bounded(f.ctx);
  BOOST_TEST_REQUIRE(first.done);
  BOOST_TEST(!first.ec);
  f.ctx.restart();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(executors, origin_fixture)

// The case: the context's first fetch comes from a coroutine spawned on a strand,
// whose this_coro::executor is an any_io_executor wrapping the strand.
BOOST_AUTO_TEST_CASE(first_fetch_from_a_coroutine_on_a_strand) {
  auto strand = asio::make_strand(ctx);
  std::atomic<bool> first{false}, first_ok{false};
  asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<void> {
        auto r = co_await async_fetch(co_await asio::this_coro::executor, request(url("/bytes/1")),
                                      asio::use_awaitable);
        first_ok = r.body == "0";
        first = true;
      },
      asio::detached);
  run_on_threads(ctx, 1, [&] { return first.load(); });
  BOOST_TEST_REQUIRE(first.load());
  BOOST_TEST(first_ok.load());
  BOOST_TEST(plain_fetch_completes_while_strand_blocked(*this, strand));
  BOOST_TEST(strand_handler_may_block_on_a_fetch(*this, strand));
}

BOOST_AUTO_TEST_CASE(first_fetch_on_an_any_io_executor_wrapping_a_strand) {
  asio::any_io_executor strand = asio::make_strand(ctx);
  first_fetch_on(*this, strand);
  BOOST_TEST(plain_fetch_completes_while_strand_blocked(*this, strand));
  BOOST_TEST(strand_handler_may_block_on_a_fetch(*this, strand));
}

// A typed strand's context is statically an io_context; tested so both paths stay covered.
BOOST_AUTO_TEST_CASE(first_fetch_on_a_typed_strand) {
  auto strand = asio::make_strand(ctx.get_executor());
  first_fetch_on(*this, strand);
  BOOST_TEST(plain_fetch_completes_while_strand_blocked(*this, strand));
}

BOOST_AUTO_TEST_CASE(session_built_on_a_strand) {
  asio::any_io_executor strand = asio::make_strand(ctx);
  session s(strand);
  fetch_result first;
  s.async_fetch(request(url("/bytes/1")), record(first));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(first.done);
  BOOST_TEST(!first.ec);
  ctx.restart();
  BOOST_TEST(plain_fetch_completes_while_strand_blocked(*this, strand));
  BOOST_TEST(strand_handler_may_block_on_a_fetch(*this, strand));
}

// A strand of a thread_pool: the engine runs on the pool's own executor.
BOOST_AUTO_TEST_CASE(strand_of_a_thread_pool) {
  asio::thread_pool pool(3);
  asio::any_io_executor strand = asio::make_strand(pool);
  {
    auto first = async_fetch(strand, request(url("/bytes/1")), asio::use_future);
    BOOST_TEST_REQUIRE((first.wait_for(run_limit) == std::future_status::ready));
    BOOST_TEST(first.get().body == "0");
  }
  std::atomic<bool> plain_done{false}, plain_ok{false};
  std::promise<bool> blocked;
  asio::post(strand, [&] {
    const auto deadline = std::chrono::steady_clock::now() + block_limit;
    while (!plain_done && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    blocked.set_value(plain_done.load());
  });
  async_fetch(pool.get_executor(), request(url("/bytes/2")), [&](error_code ec, response) {
    plain_ok = !ec;
    plain_done = true;
  });
  BOOST_TEST(blocked.get_future().get());
  pool.join();
  BOOST_TEST(plain_ok.load());
}

BOOST_AUTO_TEST_SUITE_END()
