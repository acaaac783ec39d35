// Cancellation by timeout, three ways:
//  1. request::timeout, enforced by libcurl: completes with an error equal to errc::timed_out;
//  2. racing the fetch with a timer in a parallel_group: the loser is cancelled;
//  3. a cancellation_signal bound to the handler, emitted by your own logic.
// (With Boost >= 1.86 `asio::cancel_after(2s, token)` works too: it uses per-operation
// cancellation like 2 and 3.)
// usage: example_timeout   (uses the embedded origin's /hang route, which never answers)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <iostream>

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main() {
  boost_curl::tools::loopback_origin origin;
  asio::io_context ctx;
  int failures = 0;

  // 1. libcurl's own timeout.
  boost_curl::request req(origin.url("/hang"));
  req.timeout = 200ms;
  boost_curl::async_fetch(ctx, std::move(req), [&](boost_curl::error_code ec, boost_curl::response) {
    std::cout << "request::timeout: " << ec.message() << '\n';
    failures += ec != boost::system::errc::timed_out;
  });

  // 2. Race against a timer.
  asio::steady_timer timer(ctx, 200ms);
  asio::experimental::make_parallel_group(boost_curl::async_fetch(ctx, boost_curl::request(origin.url("/hang")), asio::deferred),
                                          timer.async_wait(asio::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<std::size_t, 2> order, boost_curl::error_code ec, boost_curl::response, boost_curl::error_code) {
                    std::cout << "parallel_group: " << (order[0] == 1 ? "timer won, fetch " : "fetch won, ")
                              << ec.message() << '\n';
                    failures += ec != asio::error::operation_aborted;
                  });

  // 3. Your own signal.
  asio::cancellation_signal signal;
  boost_curl::async_fetch(ctx, boost_curl::request(origin.url("/hang")),
                          asio::bind_cancellation_slot(signal.slot(), [&](boost_curl::error_code ec, boost_curl::response) {
                            std::cout << "cancellation_signal: " << ec.message() << '\n';
                            failures += ec != asio::error::operation_aborted;
                          }));
  asio::steady_timer stopper(ctx, 200ms);
  stopper.async_wait([&](boost_curl::error_code) { signal.emit(asio::cancellation_type::terminal); });

  ctx.run();
  return failures == 0 ? 0 : 1;
}
