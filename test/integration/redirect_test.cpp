// Redirects followed by the engine, hop by hop: each hop a response of its own in `history`,
// methods and bodies as RFC 9110 and browsers have them, limits and allow-lists on every hop.

#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstring>

using namespace boost_curl;
using namespace boost_curl::test;
namespace http = boost_curl::http;

namespace {
request follow(std::string url) {
  request req(std::move(url));
  req.follow_redirects = true;
  return req;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(redirects, origin_fixture)

BOOST_AUTO_TEST_CASE(every_hop_is_a_response_in_history) {
  fetch_result r = fetch(ctx, follow(url("/redirect/3")));
  BOOST_TEST_REQUIRE(!r.ec);
  BOOST_TEST(r.resp.body == "done");
  BOOST_TEST(r.resp.redirect_count == 3);
  BOOST_TEST_REQUIRE(r.resp.history.size() == 3u);
  std::chrono::microseconds hops_total{0};
  for (int i = 0; i < 3; ++i) {
    const response& hop = r.resp.history[i];
    BOOST_TEST_CONTEXT("hop " << i) {
      BOOST_TEST(hop.status_code() == 302u);
      BOOST_TEST(hop.effective_url == url("/redirect/" + std::to_string(3 - i)));
      BOOST_TEST(hop.headers[http::field::location] == "/redirect/" + std::to_string(2 - i));
      BOOST_TEST(hop.body == "redirect");
      BOOST_TEST(hop.time.total.count() > 0);
      BOOST_TEST(hop.history.empty());
    }
    hops_total += hop.time.total;
  }
  BOOST_TEST(r.resp.effective_url == url("/redirect/0"));
  BOOST_TEST((r.resp.time.redirect == hops_total));
  BOOST_TEST(service().statistics().sockets_opened == 1u);  // one connection for the whole chain
  BOOST_TEST(service().statistics().transfers_started == 1u);  // one operation
}

BOOST_AUTO_TEST_CASE(methods_and_bodies_per_status) {
  struct expectation {
    unsigned status;
    http::verb method;
    const char* arrives_as;
    bool body_kept;
  };
  const expectation cases[] = {
      {301, http::verb::post, "GET", false},  {302, http::verb::post, "GET", false},
      {303, http::verb::post, "GET", false},  {303, http::verb::put, "GET", false},
      {302, http::verb::put, "PUT", true},    {307, http::verb::post, "POST", true},
      {308, http::verb::post, "POST", true},  {308, http::verb::patch, "PATCH", true},
  };
  for (const expectation& e : cases) {
    request req = follow(url("/redirect-to?status=" + std::to_string(e.status) + "&url=%2Fecho"));
    req.method = e.method;
    req.body = "payload";
    req.headers.set(http::field::content_type, "text/x-payload");
    fetch_result r = fetch(ctx, std::move(req));
    BOOST_TEST_CONTEXT(e.status << " " << http::to_string(e.method)) {
      BOOST_TEST_REQUIRE(!r.ec);
      BOOST_TEST(r.resp.body.substr(0, std::strlen(e.arrives_as) + 7) == std::string(e.arrives_as) + " /echo\n");
      BOOST_TEST((r.resp.body.find("\n\npayload") != std::string::npos) == e.body_kept);
      BOOST_TEST((r.resp.body.find("Content-Type: text/x-payload") != std::string::npos) == e.body_kept);
      BOOST_TEST(r.resp.history.size() == 1u);
      BOOST_TEST(r.resp.history[0].status_code() == e.status);
    }
  }
  request head = follow(url("/redirect-to?status=303&url=%2Fecho"));
  head.method = http::verb::head;
  fetch_result h = fetch(ctx, std::move(head));
  BOOST_TEST(h.resp.status_code() == 200u);
  BOOST_TEST(h.resp.body.empty());  // still a HEAD
}

BOOST_AUTO_TEST_CASE(limit_is_kept_with_the_chain_so_far) {
  request req = follow(url("/redirect-loop"));
  req.max_redirects = 4;
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST((r.ec == condition::too_many_redirects));
  BOOST_TEST(!r.resp.error_message.empty());
  BOOST_TEST(r.resp.status_code() == 302u);  // the response that would have been followed
  BOOST_TEST(r.resp.history.size() == 4u);
  BOOST_TEST(r.resp.redirect_count == 4);
  request none = follow(url("/redirect/1"));
  none.max_redirects = 0;
  BOOST_TEST((fetch(ctx, std::move(none)).ec == condition::too_many_redirects));
}

BOOST_AUTO_TEST_CASE(allowed_schemes_hold_for_every_hop) {
  fetch_result r = fetch(ctx, follow(url("/redirect-to?url=ftp%3A%2F%2F127.0.0.1%2Fx")));
  BOOST_TEST((r.ec == condition::invalid_url));
  BOOST_TEST(r.resp.history.size() == 1u);
}

// request::timeout covers the whole chain, not each hop.
BOOST_AUTO_TEST_CASE(timeout_covers_all_hops) {
  request req = follow(url("/redirect-to?url=%2Fdelay%2F800"));
  req.timeout = 400ms;
  const auto t0 = std::chrono::steady_clock::now();
  fetch_result r = fetch(ctx, std::move(req));
  BOOST_TEST((r.ec == condition::timeout));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
}

// A cancellation reaches the operation whatever hop it is on.
BOOST_AUTO_TEST_CASE(cancelled_on_a_later_hop) {
  asio::cancellation_signal signal;
  fetch_result r;
  async_fetch(ctx, follow(url("/redirect-to?url=%2Fhang")), asio::bind_cancellation_slot(signal.slot(), record(r)));
  asio::steady_timer t(ctx, 200ms);
  t.async_wait([&](error_code) { signal.emit(asio::cancellation_type::total); });  // not honoured: a hop was sent
  asio::steady_timer t2(ctx, 300ms);
  t2.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
  run_bounded(ctx);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST((r.ec == asio::error::operation_aborted));
  BOOST_TEST(r.resp.history.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
