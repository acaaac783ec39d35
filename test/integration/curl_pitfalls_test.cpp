// One test per bug that sank earlier Asio integrations of libcurl (../shared/conventions.md §6).
// Each runs under ASan+UBSan and TSan in CI: several only fail loudly there.

#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <random>
#include <thread>

using namespace boost_curl;
using namespace boost_curl::test;
namespace http = boost_curl::http;

BOOST_FIXTURE_TEST_SUITE(curl_pitfalls, origin_fixture)

// §6.1: TIMERFUNCTION(0) must not call curl_multi_socket_action re-entrantly (libcurl 7.88
// refuses, and the transfers stall). Adding a handle asks for timeout 0 every time; starting
// each fetch from the previous one's handler exercises it on every turn.
BOOST_AUTO_TEST_CASE(p1_timeout_zero_is_deferred_not_recursive) {
  int remaining = 50, ok = 0;
  std::function<void()> next = [&] {
    if (remaining-- == 0) return;
    async_fetch(ctx, request(url("/bytes/1")), [&](error_code ec, response) {
      ok += !ec;
      next();
    });
  };
  next();
  run_bounded(ctx);
  BOOST_TEST(ok == 50);
}

// §6.2: timeout -1 deletes the timer. Treated as "fire now" it spins; left armed it keeps
// run() from returning: run() must come back as soon as the fetch is done.
fetch_result fetch_and_time_run(asio::io_context& ctx, request req) {
  fetch_result r;
  async_fetch(ctx, std::move(req), record(r));
  const auto t0 = std::chrono::steady_clock::now();
  run_bounded(ctx);
  BOOST_TEST(r.done);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
  return r;
}

BOOST_AUTO_TEST_CASE(p2_timeout_minus_one_disarms) {
  request req(url("/bytes/1"));
  req.connect_timeout = 60s;  // libcurl's connect-phase deadline
  BOOST_TEST(!fetch_and_time_run(ctx, std::move(req)).ec);
}

// The same when libcurl's last deadline was a long one: the response comes after libcurl's
// early timers (200 ms connect phase) expired, so the Asio timer was re-armed for the 60 s
// total timeout; it must be disarmed once no transfer is left, or run() waits a minute.
BOOST_AUTO_TEST_CASE(p2_long_deadline_disarmed_when_idle) {
  request req(url("/delay/500"));
  req.timeout = 60s;
  BOOST_TEST(fetch_and_time_run(ctx, std::move(req)).resp.body == "delayed");
}

// §6.3: Asio waits are one-shot; a body needing many reads stalls unless re-armed.
BOOST_AUTO_TEST_CASE(p3_waits_rearmed_for_many_reads) {
  fetch_result big = fetch(ctx, request(url("/bytes/20000000")));
  BOOST_TEST(big.resp.body.size() == 20000000u);
  fetch_result slow = fetch(ctx, request(url("/slow-body/10/10")));
  BOOST_TEST(slow.resp.body.size() == 10000u);
  request post(http::verb::post, url("/echo"));
  post.body.assign(8 << 20, 'p');  // many writable waits too
  fetch_result echoed = fetch(ctx, std::move(post));
  BOOST_TEST(echoed.resp.body.size() > std::size_t(8 << 20));
}

// §6.4: a wait pending when libcurl closes the socket must not touch freed memory. Cancelling
// mid-body closes the socket with a read wait pending; ASan watches.
BOOST_AUTO_TEST_CASE(p4_wait_outlives_closed_socket) {
  for (int i = 0; i < 20; ++i) {
    asio::cancellation_signal signal;
    fetch_result r;
    async_fetch(ctx, request(url("/slow-body/20/20")), asio::bind_cancellation_slot(signal.slot(), record(r)));
    asio::steady_timer t(ctx, std::chrono::milliseconds(5 + i * 3));
    t.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
    run_bounded(ctx);
    BOOST_TEST(r.calls == 1);
  }
  BOOST_TEST(service().open_sockets() <= 1u);
}

// §6.5: CURL_POLL_REMOVE is not "closed": the connection returns to the cache and comes back.
BOOST_AUTO_TEST_CASE(p5_remove_is_not_close) {
  for (int i = 0; i < 30; ++i) BOOST_TEST(!fetch(ctx, request(url("/bytes/10"))).ec);
  BOOST_TEST(service().statistics().sockets_opened == 1u);
  BOOST_TEST(origin.connections_accepted() == 1u);
}

// §6.6: descriptor numbers are reused as soon as a socket closes. With "Connection: close"
// every exchange opens a socket that likely gets a number just freed.
BOOST_AUTO_TEST_CASE(p6_descriptor_numbers_reused) {
  constexpr int n = 200;
  std::vector<fetch_result> results(n);
  for (int i = 0; i < n; ++i) {
    request req(url("/bytes/100"));
    req.headers.set(http::field::connection, "close");
    async_fetch(ctx, std::move(req), record(results[i]));
  }
  run_bounded(ctx);
  int ok = 0;
  for (auto& r : results) ok += !r.ec && r.resp.body.size() == 100;
  BOOST_TEST(ok == n);
  BOOST_TEST(service().statistics().sockets_opened == std::size_t(n));
  BOOST_TEST(service().open_sockets() == 0u);
}

// §6.6 again, a libcurl 7.88 bug: removing a transfer whose socket is still connecting closes
// that socket without calling CLOSESOCKETFUNCTION. The engine must notice, or it keeps an entry
// for a number the process may reuse for any file (and would close that file at shutdown).
BOOST_AUTO_TEST_CASE(p6_socket_closed_behind_our_back) {
  for (int i = 0; i < 5; ++i) {
    asio::cancellation_signal signal;
    fetch_result r;
    // async_fetch starts connecting at once; cancelled before the connection completes.
    async_fetch(ctx, request(url("/bytes/1")), asio::bind_cancellation_slot(signal.slot(), record(r)));
    signal.emit(asio::cancellation_type::terminal);
    run_bounded(ctx);
    BOOST_TEST((r.ec == asio::error::operation_aborted));
  }
  BOOST_TEST(service().open_sockets() == 0u);
  BOOST_TEST(!fetch(ctx, request(url("/bytes/1"))).ec);  // and the engine carries on
}

// §6.7: descriptors libcurl did not open through OPENSOCKETFUNCTION (the threaded resolver's
// socketpair) must be waited on, or name resolution stalls.
BOOST_AUTO_TEST_CASE(p7_foreign_descriptors_are_watched) {
  fetch_result r = fetch(ctx, request("http://no-such-host.invalid/"));
  BOOST_TEST((r.ec == condition::name_resolution_failed));
  BOOST_TEST(service().statistics().foreign_descriptors > 0u);
  fetch_result ok = fetch(ctx, request("http://localhost:" + std::to_string(origin.port()) + "/bytes/3"));
  BOOST_TEST(ok.resp.body == "012");
}

// §6.8: no libcurl call from inside libcurl's callbacks: a handler that cancels another
// transfer and starts a new one runs outside them.
BOOST_AUTO_TEST_CASE(p8_handlers_may_call_back_into_the_engine) {
  asio::cancellation_signal signal;
  fetch_result slow, next;
  async_fetch(ctx, request(url("/hang")), asio::bind_cancellation_slot(signal.slot(), record(slow)));
  async_fetch(ctx, request(url("/bytes/1")), [&](error_code, response) {
    signal.emit(asio::cancellation_type::terminal);
    async_fetch(ctx, request(url("/bytes/2")), record(next));
  });
  run_bounded(ctx);
  BOOST_TEST((slow.ec == asio::error::operation_aborted));
  BOOST_TEST(next.resp.body == "01");
}

// §6.9: one thread in libcurl per multi handle, even with the context run by four threads
// (TSan checks the serialisation).
BOOST_AUTO_TEST_CASE(p9_one_thread_in_libcurl_at_a_time) {
  constexpr int n = 100;
  std::vector<fetch_result> results(n);
  for (int i = 0; i < n; ++i) async_fetch(ctx, request(url("/slow-body/2/5")), record(results[i]));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([this] { ctx.run_for(run_limit); });
  for (auto& t : threads) t.join();
  int ok = 0;
  for (auto& r : results) ok += !r.ec && r.resp.body.size() == 2000;
  BOOST_TEST(ok == n);
}

// §6.10: a callback returning -1 aborts every transfer on the multi: one failing transfer
// must not take the others with it.
BOOST_AUTO_TEST_CASE(p10_one_failure_does_not_abort_the_rest) {
  std::vector<fetch_result> good(20);
  fetch_result bad, bad2;
  for (auto& r : good) async_fetch(ctx, request(url("/slow-body/2/20")), record(r));
  async_fetch(ctx, request("http://127.0.0.1:" + std::to_string(refused_port()) + "/"), record(bad));
  async_fetch(ctx, request(url("/close-mid-body")), record(bad2));
  run_bounded(ctx);
  BOOST_TEST(bad.ec);
  BOOST_TEST(bad2.ec);
  for (auto& r : good) BOOST_TEST(!r.ec);
}

// §6.11: completion and cancellation racing must remove the handle once and complete once.
BOOST_AUTO_TEST_CASE(p11_cancel_racing_completion_completes_once) {
  std::mt19937 rng(42);
  int aborted = 0, succeeded = 0;
  for (int i = 0; i < 60; ++i) {
    asio::cancellation_signal signal;
    fetch_result r;
    async_fetch(ctx, request(url("/bytes/100")), asio::bind_cancellation_slot(signal.slot(), record(r)));
    asio::steady_timer t(ctx, std::chrono::microseconds(rng() % 3000));
    t.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
    run_bounded(ctx);
    BOOST_TEST_REQUIRE(r.calls == 1);
    (r.ec ? aborted : succeeded) += 1;
  }
  BOOST_TEST_MESSAGE("aborted " << aborted << ", succeeded " << succeeded);
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
