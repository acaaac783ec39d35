// The service's caps on concurrent transfers (curl_service::set_max_transfers): never exceeded,
// the excess waits in order, and a waiting fetch can be cancelled and times out.

#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <deque>
#include <thread>

using namespace boost_curl;
using namespace boost_curl::test;
using ct = boost::asio::cancellation_type;

BOOST_FIXTURE_TEST_SUITE(service_limits, origin_fixture)

// The origin counts connections open at once: under 2 000 concurrent fetches it never sees
// more than the cap.
BOOST_AUTO_TEST_CASE(total_cap_is_never_exceeded) {
  service().set_max_transfers(50);
  BOOST_TEST(service().max_transfers() == 50u);
  constexpr int n = 2000;
  int ok = 0;
  std::size_t most_active = 0, most_waiting = 0;
  for (int i = 0; i < n; ++i)
    async_fetch(ctx, request(url("/bytes/100")), [&](error_code ec, response r) {
      ok += !ec && r.body.size() == 100;
      most_active = std::max(most_active, service().active_transfers());
      most_waiting = std::max(most_waiting, service().waiting_transfers());
    });
  BOOST_TEST(service().waiting_transfers() == std::size_t(n - 50));
  run_bounded(ctx);
  BOOST_TEST(ok == n);
  BOOST_TEST(most_active <= 50u);
  BOOST_TEST(origin.max_open_connections() <= 50u);
  BOOST_TEST(service().waiting_transfers() == 0u);
}

// Per host: two origins, three at once each; each host's fetches start in the order they came.
BOOST_AUTO_TEST_CASE(per_host_cap_in_order) {
  tools::loopback_origin other;
  service().set_max_transfers(0, 3);
  std::vector<int> order_a, order_b;
  for (int i = 0; i < 15; ++i) {
    async_fetch(ctx, request(url("/delay/30")), [&order_a, i](error_code ec, response) {
      if (!ec) order_a.push_back(i);
    });
    async_fetch(ctx, request(other.url("/delay/30")), [&order_b, i](error_code ec, response) {
      if (!ec) order_b.push_back(i);
    });
  }
  run_bounded(ctx);
  BOOST_TEST(order_a.size() == 15u);
  BOOST_TEST(order_b.size() == 15u);
  BOOST_TEST(origin.max_open_connections() <= 3u);
  BOOST_TEST(other.max_open_connections() <= 3u);
  // Three at a time, in order: each one finishes in the wave of its position.
  for (std::size_t k = 0; k < order_a.size(); ++k) BOOST_TEST(std::abs(order_a[k] / 3 - int(k) / 3) <= 1);
}

BOOST_AUTO_TEST_CASE(waiting_fetch_is_cancellable_with_every_type) {
  service().set_max_transfers(1);
  asio::cancellation_signal hang_signal;
  fetch_result hang;
  async_fetch(ctx, request(url("/hang")), asio::bind_cancellation_slot(hang_signal.slot(), record(hang)));
  for (ct type : {ct::terminal, ct::partial, ct::total}) {
    asio::cancellation_signal signal;
    fetch_result waiting;
    async_fetch(ctx, request(url("/bytes/1")), asio::bind_cancellation_slot(signal.slot(), record(waiting)));
    BOOST_TEST(service().waiting_transfers() == 1u);
    asio::post(ctx, [&] { signal.emit(type); });
    ctx.restart();
    while (!waiting.done && ctx.run_one_for(2s)) {
    }
    BOOST_TEST_CONTEXT("type " << int(type)) {
      BOOST_TEST(waiting.calls == 1);
      BOOST_TEST((waiting.ec == asio::error::operation_aborted));
      BOOST_TEST(!waiting.resp.error_message.empty());
      BOOST_TEST(service().waiting_transfers() == 0u);
    }
  }
  BOOST_TEST(origin.requests_served() <= 1u);  // only /hang may have reached the server
  asio::post(ctx, [&] { hang_signal.emit(ct::terminal); });
  run_bounded(ctx);
  BOOST_TEST((hang.ec == asio::error::operation_aborted));
}

// request::timeout runs while waiting, and what is left goes to the transfer.
BOOST_AUTO_TEST_CASE(timeout_counts_the_wait) {
  service().set_max_transfers(1);
  fetch_result first, expires_waiting, expires_running;
  async_fetch(ctx, request(url("/delay/400")), record(first));
  request short_one(url("/bytes/1"));
  short_one.timeout = 150ms;
  async_fetch(ctx, short_one, record(expires_waiting));
  request after(url("/delay/400"));
  after.timeout = 600ms;  // 400 ms of waiting, then 200 ms for a 400 ms answer
  async_fetch(ctx, after, record(expires_running));
  run_bounded(ctx);
  BOOST_TEST(!first.ec);
  BOOST_TEST((expires_waiting.ec == condition::timeout));
  BOOST_TEST((expires_running.ec == condition::timeout));
  BOOST_TEST(origin.requests_served() == 2u);  // the short one never left
}

BOOST_AUTO_TEST_CASE(raising_the_cap_starts_waiting_fetches) {
  service().set_max_transfers(1);
  asio::cancellation_signal hang_signal;
  fetch_result hang, waiting;
  async_fetch(ctx, request(url("/hang")), asio::bind_cancellation_slot(hang_signal.slot(), record(hang)));
  async_fetch(ctx, request(url("/bytes/3")), record(waiting));
  BOOST_TEST(service().waiting_transfers() == 1u);
  service().set_max_transfers(2);
  ctx.restart();
  while (!waiting.done && ctx.run_one_for(2s)) {
  }
  BOOST_TEST(waiting.resp.body == "012");
  asio::post(ctx, [&] { hang_signal.emit(ct::terminal); });
  run_bounded(ctx);
}

// Four threads; fetches on strands, half cancelled from their strand while waiting or running
// under a cap of 4 (TSan watches the forwarding between the queue and the drivers).
BOOST_AUTO_TEST_CASE(cancellation_while_waiting_on_four_threads) {
  service().set_max_transfers(4);
  constexpr int n = 200;
  std::deque<asio::cancellation_signal> signals(n);
  std::atomic<int> completed{0}, aborted{0};
  std::vector<asio::strand<asio::io_context::executor_type>> strands;
  for (int i = 0; i < n; ++i) strands.push_back(asio::make_strand(ctx));
  for (int i = 0; i < n; ++i) {
    asio::post(strands[i], [&, i] {
      async_fetch(ctx, request(url(i % 2 ? "/delay/20" : "/bytes/10")),
                  asio::bind_cancellation_slot(signals[i].slot(),
                                               asio::bind_executor(strands[i], [&](error_code ec, response) {
                                                 aborted += ec == asio::error::operation_aborted;
                                                 ++completed;
                                               })));
      if (i % 2) asio::post(strands[i], [&, i] { signals[i].emit(ct::terminal); });
    });
  }
  run_on_threads(ctx, 4, [&] { return completed == n; });
  BOOST_TEST(completed.load() == n);
  BOOST_TEST(aborted.load() >= 1);
  BOOST_TEST(service().waiting_transfers() == 0u);
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
