// Per-operation cancellation: each type, at each stage, exactly one completion.

#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace boost_curl;
using namespace boost_curl::test;
using ct = boost::asio::cancellation_type;

namespace {
// Emits `type` on `signal` after `delay` of running ctx.
void emit_after(asio::io_context& ctx, asio::cancellation_signal& signal, ct type, std::chrono::milliseconds delay,
                std::unique_ptr<asio::steady_timer>& timer) {
  timer = std::make_unique<asio::steady_timer>(ctx, delay);
  timer->async_wait([&signal, type](error_code) { signal.emit(type); });
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(cancellation, origin_fixture)

BOOST_AUTO_TEST_CASE(mid_body_terminal_and_partial_abort) {
  for (ct type : {ct::terminal, ct::partial, ct::terminal | ct::partial | ct::total}) {
    asio::cancellation_signal signal;
    std::unique_ptr<asio::steady_timer> timer;
    fetch_result r;
    const auto t0 = std::chrono::steady_clock::now();
    async_fetch(ctx, request(url("/slow-body/40/50")), asio::bind_cancellation_slot(signal.slot(), record(r)));
    emit_after(ctx, signal, type, 200ms, timer);
    run_bounded(ctx);
    BOOST_TEST_CONTEXT("type " << static_cast<int>(type)) {
      BOOST_TEST(r.calls == 1);
      BOOST_TEST((r.ec == asio::error::operation_aborted));
      BOOST_TEST(!r.resp.body.empty());  // the pieces that arrived before
      BOOST_TEST(r.resp.body.size() < 40000u);
      BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1500ms));  // did not wait for the 2 s body
      BOOST_TEST(service().active_transfers() == 0u);
      BOOST_TEST(service().open_sockets() == 0u);  // a half-read connection cannot be reused
    }
  }
}

BOOST_AUTO_TEST_CASE(total_mid_body_is_not_honoured) {
  // The request has left: it can no longer be undone without side effects.
  asio::cancellation_signal signal;
  std::unique_ptr<asio::steady_timer> timer;
  fetch_result r;
  async_fetch(ctx, request(url("/slow-body/4/50")), asio::bind_cancellation_slot(signal.slot(), record(r)));
  emit_after(ctx, signal, ct::total, 80ms, timer);
  run_bounded(ctx);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.body.size() == 4000u);
}

BOOST_AUTO_TEST_CASE(before_connect_every_type_aborts) {
  for (ct type : {ct::terminal, ct::partial, ct::total}) {
    asio::cancellation_signal signal;
    fetch_result r;
    async_fetch(ctx, request(url("/bytes/10")), asio::bind_cancellation_slot(signal.slot(), record(r)));
    signal.emit(type);  // after initiation returned, before the context ran
    BOOST_TEST(!r.done);  // not invoked from inside emit()
    run_bounded(ctx);
    BOOST_TEST(r.calls == 1);
    BOOST_TEST((r.ec == asio::error::operation_aborted));
  }
  BOOST_TEST(origin.requests_served() == 0u);
}

BOOST_AUTO_TEST_CASE(after_completion_is_a_no_op) {
  asio::cancellation_signal signal;
  fetch_result r;
  async_fetch(ctx, request(url("/bytes/10")), asio::bind_cancellation_slot(signal.slot(), record(r)));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(r.calls == 1);
  signal.emit(ct::terminal);
  run_bounded(ctx);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST(!r.ec);
  // The completed operation's handler stays in the slot (the engine never touches a user's
  // slot from its own threads). Emitted while the same pooled transfer serves another
  // operation, it must find nothing to cancel.
  asio::cancellation_signal other;
  fetch_result r3;
  async_fetch(ctx, request(url("/delay/100")), asio::bind_cancellation_slot(other.slot(), record(r3)));
  std::unique_ptr<asio::steady_timer> stale_timer;
  emit_after(ctx, signal, ct::terminal, 30ms, stale_timer);
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(r3.calls == 1);
  BOOST_TEST(!r3.ec);
  BOOST_TEST(r3.resp.body == "delayed");
  BOOST_TEST(service().statistics().transfers_started == 2u);
  // The same signal serves the next operation: binding it replaces the stale handler.
  fetch_result r2;
  async_fetch(ctx, request(url("/hang")), asio::bind_cancellation_slot(signal.slot(), record(r2)));
  std::unique_ptr<asio::steady_timer> timer;
  emit_after(ctx, signal, ct::terminal, 50ms, timer);
  run_bounded(ctx);
  BOOST_TEST(r2.calls == 1);
  BOOST_TEST((r2.ec == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(repeated_emits_complete_once) {
  asio::cancellation_signal signal;
  fetch_result r;
  async_fetch(ctx, request(url("/hang")), asio::bind_cancellation_slot(signal.slot(), record(r)));
  asio::steady_timer t(ctx, 50ms);
  t.async_wait([&](error_code) {
    signal.emit(ct::terminal);
    signal.emit(ct::terminal);
    signal.emit(ct::partial);
  });
  run_bounded(ctx);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST((r.ec == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(cancelling_one_leaves_the_others_alone) {
  constexpr int n = 10;
  std::vector<fetch_result> results(n);
  asio::cancellation_signal signal;
  for (int i = 0; i < n; ++i) {
    if (i == 3)
      async_fetch(ctx, request(url("/slow-body/4/50")), asio::bind_cancellation_slot(signal.slot(), record(results[i])));
    else
      async_fetch(ctx, request(url("/slow-body/4/50")), record(results[i]));
  }
  std::unique_ptr<asio::steady_timer> timer;
  emit_after(ctx, signal, ct::terminal, 60ms, timer);
  run_bounded(ctx);
  for (int i = 0; i < n; ++i) {
    BOOST_TEST_CONTEXT("fetch " << i) {
      BOOST_TEST(results[i].calls == 1);
      if (i == 3) {
        BOOST_TEST((results[i].ec == asio::error::operation_aborted));
      } else {
        BOOST_TEST(!results[i].ec);
        BOOST_TEST(results[i].resp.body.size() == 4000u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(parallel_group_races_a_timer) {
  asio::steady_timer timer(ctx, 100ms);
  bool done = false;
  error_code fetch_ec;
  std::size_t winner = 99;
  asio::experimental::make_parallel_group(async_fetch(ctx, request(url("/hang")), asio::deferred),
                                          timer.async_wait(asio::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<std::size_t, 2> order, error_code ec, response, error_code) {
                    done = true;
                    winner = order[0];
                    fetch_ec = ec;
                  });
  run_bounded(ctx);
  BOOST_TEST(done);
  BOOST_TEST(winner == 1u);
  BOOST_TEST((fetch_ec == asio::error::operation_aborted));
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_CASE(awaitable_operator_or_timeout) {
  using namespace asio::experimental::awaitable_operators;
  bool timed_out = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
        auto result = co_await (async_fetch(ctx, request(url("/hang")), asio::use_awaitable) ||
                                t.async_wait(asio::use_awaitable));
        timed_out = result.index() == 1;
      },
      asio::detached);
  run_bounded(ctx);
  BOOST_TEST(timed_out);
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
