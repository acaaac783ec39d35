// async_fetch with every completion token Asio users reach for, and the executor contract.

#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <thread>

using namespace boost_curl;
using namespace boost_curl::test;

BOOST_FIXTURE_TEST_SUITE(completion_tokens, origin_fixture)

BOOST_AUTO_TEST_CASE(plain_callback) {
  fetch_result r = fetch(ctx, request(url("/bytes/100")));
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.resp.status_code() == 200u);
  BOOST_TEST(r.resp.body.size() == 100u);
  BOOST_TEST(has_origin_pattern(r.resp.body));
}

BOOST_AUTO_TEST_CASE(use_future_value) {
  std::future<response> f = async_fetch(ctx, request(url("/bytes/10")), asio::use_future);
  run_bounded(ctx);
  BOOST_TEST_REQUIRE((f.wait_for(0s) == std::future_status::ready));
  BOOST_TEST(f.get().body == "0123456789");
}

BOOST_AUTO_TEST_CASE(use_future_error_becomes_system_error) {
  std::future<response> f = async_fetch(ctx, request("http://127.0.0.1:" + std::to_string(refused_port()) + "/"),
                                        asio::use_future);
  run_bounded(ctx);
  BOOST_TEST_REQUIRE((f.wait_for(0s) == std::future_status::ready));
  try {
    f.get();
    BOOST_FAIL("expected an exception");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST((e.code() == boost::system::errc::connection_refused));
  }
}

BOOST_AUTO_TEST_CASE(use_future_from_foreign_thread) {
  // The canonical "synchronous caller, context running elsewhere" pattern.
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run_for(run_limit); });
  std::future<response> f = async_fetch(ctx, request(url("/bytes/5")), asio::use_future);
  BOOST_TEST_REQUIRE((f.wait_for(run_limit) == std::future_status::ready));
  BOOST_TEST(f.get().body == "01234");
  guard.reset();
  runner.join();
}

BOOST_AUTO_TEST_CASE(use_awaitable_coroutine) {
  std::string body;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        response r = co_await async_fetch(co_await asio::this_coro::executor, request(url("/bytes/3")),
                                          asio::use_awaitable);
        body = r.body;
      },
      asio::detached);
  run_bounded(ctx);
  BOOST_TEST(body == "012");
}

BOOST_AUTO_TEST_CASE(use_awaitable_error_throws) {
  bool thrown = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        try {
          co_await async_fetch(ctx, request("http://host.invalid/"), asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
          thrown = e.code() == condition::name_resolution_failed;
        }
      },
      asio::detached);
  run_bounded(ctx);
  BOOST_TEST(thrown);
}

BOOST_AUTO_TEST_CASE(as_tuple_in_coroutine) {
  error_code ec;
  unsigned status = 0;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto [e, r] = co_await async_fetch(ctx, request(url("/status/503")), asio::as_tuple(asio::use_awaitable));
        ec = e;
        status = r.status_code();
      },
      asio::detached);
  run_bounded(ctx);
  BOOST_TEST(!ec);  // 5xx is a response, not an error
  BOOST_TEST(status == 503u);
}

BOOST_AUTO_TEST_CASE(yield_context_with_redirect_error) {
  error_code ec;
  std::string body;
  asio::spawn(
      ctx,
      [&](asio::yield_context yield) {
        response r = async_fetch(ctx, request(url("/bytes/4")), yield[ec]);
        body = r.body;
        error_code ec2;
        async_fetch(ctx, request("http://127.0.0.1:" + std::to_string(refused_port()) + "/"),
                    asio::redirect_error(yield, ec2));
        BOOST_TEST((ec2 == condition::connect_failed));
      },
      asio::detached);
  run_bounded(ctx);
  BOOST_TEST(!ec);
  BOOST_TEST(body == "0123");
}

BOOST_AUTO_TEST_CASE(deferred_runs_only_when_invoked) {
  auto op = async_fetch(ctx, request(url("/bytes/2")), asio::deferred);
  run_bounded(ctx);
  BOOST_TEST(origin.requests_served() == 0u);  // nothing started yet
  fetch_result r;
  std::move(op)(record(r));
  run_bounded(ctx);
  BOOST_TEST(r.done);
  BOOST_TEST(r.resp.body == "01");
}

BOOST_AUTO_TEST_CASE(default_token_is_deferred) {
  auto op = async_fetch(ctx.get_executor(), request(url("/bytes/1")));  // no token
  fetch_result r;
  std::move(op)(record(r));
  run_bounded(ctx);
  BOOST_TEST(r.resp.body == "0");
}

BOOST_AUTO_TEST_CASE(co_await_default_token) {
  std::string body;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        response r = co_await async_fetch(ctx, request(url("/bytes/2")));
        body = r.body;
      },
      asio::detached);
  run_bounded(ctx);
  BOOST_TEST(body == "01");
}

BOOST_AUTO_TEST_CASE(handler_runs_on_bound_strand) {
  auto strand = asio::make_strand(ctx);
  bool on_strand = false;
  async_fetch(ctx, request(url("/bytes/1")),
              asio::bind_executor(strand, [&](error_code, response) { on_strand = strand.running_in_this_thread(); }));
  run_bounded(ctx);
  BOOST_TEST(on_strand);
}

BOOST_AUTO_TEST_CASE(strand_as_io_executor) {
  auto strand = asio::make_strand(ctx);
  bool on_strand = false;
  async_fetch(strand, request(url("/bytes/1")), [&](error_code, response) { on_strand = strand.running_in_this_thread(); });
  run_bounded(ctx);
  BOOST_TEST(on_strand);
}

BOOST_AUTO_TEST_CASE(never_invoked_from_initiating_function) {
  // Both for a transfer and for a request rejected before it starts.
  for (const char* target : {"/bytes/1", "bad header"}) {
    bool returned = false, inline_call = false, called = false;
    request req(url("/bytes/1"));
    if (std::string_view(target) == "bad header") req.headers.set("X-Bad", "a\r\nInjected: yes");
    async_fetch(ctx, std::move(req), [&](error_code, response) {
      called = true;
      inline_call = !returned;
    });
    returned = true;
    run_bounded(ctx);
    BOOST_TEST(called);
    BOOST_TEST(!inline_call);
  }
}

namespace {
// Counts what is allocated through it: shows the operation honours the associated allocator.
template <class T>
struct counting_allocator {
  using value_type = T;
  int* count;
  explicit counting_allocator(int* c) noexcept : count(c) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& o) noexcept : count(o.count) {}
  T* allocate(std::size_t n) {
    ++*count;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  template <class U>
  bool operator==(const counting_allocator<U>& o) const noexcept { return count == o.count; }
  template <class U>
  bool operator!=(const counting_allocator<U>& o) const noexcept { return count != o.count; }
};
}  // namespace

BOOST_AUTO_TEST_CASE(associated_allocator_is_used) {
  int allocations = 0;
  fetch_result r;
  async_fetch(ctx, request(url("/bytes/3")), asio::bind_allocator(counting_allocator<void>(&allocations), record(r)));
  run_bounded(ctx);
  BOOST_TEST(r.resp.body == "012");
  BOOST_TEST(allocations > 0);  // the type-erased handler lives in memory from that allocator
}

BOOST_AUTO_TEST_CASE(thread_pool_context) {
  asio::thread_pool pool(2);
  std::future<response> f = async_fetch(pool, request(url("/bytes/7")), asio::use_future);
  BOOST_TEST_REQUIRE((f.wait_for(run_limit) == std::future_status::ready));
  BOOST_TEST(f.get().body == "0123456");
  pool.join();
}

BOOST_AUTO_TEST_SUITE_END()
