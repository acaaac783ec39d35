// Lifetimes: destroying the context under live transfers, stop/restart.

#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

using namespace boost_curl;
using namespace boost_curl::test;

BOOST_AUTO_TEST_SUITE(lifetime)

BOOST_AUTO_TEST_CASE(context_destroyed_with_transfers_in_flight) {
  tools::loopback_origin origin;
  auto token = std::make_shared<int>(0);
  int invoked = 0;
  {
    asio::io_context ctx;
    const char* paths[] = {"/hang", "/slow-body/100/50", "/bytes/1000000", "/delay/5000"};
    for (int i = 0; i < 40; ++i)
      async_fetch(ctx, request(origin.url(paths[i % 4])), [token, &invoked](error_code, response) { ++invoked; });
    ctx.run_for(150ms);
    BOOST_TEST(token.use_count() > 1);  // some handlers still pending
  }
  // Asio's rule: destroyed, never invoked. Their captures are released (no leak).
  BOOST_TEST(token.use_count() == 1);
  const int invoked_before = invoked;
  BOOST_TEST(invoked_before < 40);
}

// A completed fetch leaves its cancellation handler in the user's slot (clearing it from the
// engine's thread would race with the user). A signal that outlives the context may still be
// emitted: the handler keeps what it names alive, and finds the service shut down.
BOOST_AUTO_TEST_CASE(signal_emitted_after_the_context_is_gone) {
  tools::loopback_origin origin;
  asio::cancellation_signal signal;  // outlives the context
  fetch_result done, in_flight;
  asio::cancellation_signal second;
  {
    asio::io_context ctx;
    async_fetch(ctx, request(origin.url("/bytes/1")), asio::bind_cancellation_slot(signal.slot(), record(done)));
    ctx.run_for(run_limit);
    BOOST_TEST_REQUIRE(done.calls == 1);
    async_fetch(ctx, request(origin.url("/hang")), asio::bind_cancellation_slot(second.slot(), record(in_flight)));
    ctx.run_for(50ms);
  }
  signal.emit(asio::cancellation_type::terminal);  // ASan watches
  second.emit(asio::cancellation_type::terminal);  // its operation was destroyed with the context
  BOOST_TEST(done.calls == 1);
  BOOST_TEST(in_flight.calls == 0);
}

BOOST_AUTO_TEST_CASE(coroutine_frames_destroyed_with_the_context) {
  tools::loopback_origin origin;
  auto alive = std::make_shared<int>(0);
  bool resumed = false;
  {
    asio::io_context ctx;
    asio::co_spawn(
        ctx,
        [&, guard = alive]() -> asio::awaitable<void> {
          co_await async_fetch(ctx, request(origin.url("/hang")), asio::use_awaitable);
          resumed = true;
        },
        asio::detached);
    ctx.run_for(100ms);
  }
  BOOST_TEST(!resumed);
  BOOST_TEST(alive.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(context_destroyed_before_it_ever_ran) {
  tools::loopback_origin origin;
  auto token = std::make_shared<int>(0);
  {
    asio::io_context ctx;
    async_fetch(ctx, request(origin.url("/bytes/1")), [token](error_code, response) {});
  }
  BOOST_TEST(token.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(stop_then_restart_finishes_transfers) {
  tools::loopback_origin origin;
  asio::io_context ctx;
  fetch_result r;
  async_fetch(ctx, request(origin.url("/slow-body/3/50")), record(r));
  asio::steady_timer t(ctx, 30ms);
  t.async_wait([&](error_code) { ctx.stop(); });
  ctx.run_for(run_limit);
  BOOST_TEST(!r.done);
  run_bounded(ctx);  // restart() + run()
  BOOST_TEST(r.calls == 1);
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.body.size() == 3000u);
}

BOOST_AUTO_TEST_CASE(service_outlives_many_contexts) {
  tools::loopback_origin origin;
  for (int i = 0; i < 20; ++i) {
    asio::io_context ctx;
    BOOST_TEST(fetch(ctx, request(origin.url("/bytes/8"))).resp.body == "01234567");
  }
}

BOOST_AUTO_TEST_SUITE_END()
