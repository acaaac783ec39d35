#ifndef BOOST_CURL_TEST_SUPPORT_HPP
#define BOOST_CURL_TEST_SUPPORT_HPP

// Shared helpers for the integration tests: a loopback origin per test, and bounded runs.

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace boost_curl::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Whether this is an ASan or TSan build: tests that run many operations run fewer there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

// Every async test runs its context for at most this long, then asserts it finished.
inline constexpr auto run_limit = 20s;

struct fetch_result {
  bool done = false;
  int calls = 0;
  error_code ec;
  response resp;
};

// A completion handler recording into a fetch_result (and counting invocations).
inline auto record(fetch_result& r) {
  return [&r](error_code ec, response resp) {
    ++r.calls;
    r.done = true;
    r.ec = ec;
    r.resp = std::move(resp);
  };
}

// Runs ctx until it is out of work (bounded by run_limit).
inline void run_bounded(asio::io_context& ctx) {
  ctx.restart();
  ctx.run_for(run_limit);
}

// One fetch, run to completion on ctx.
inline fetch_result fetch(asio::io_context& ctx, request req) {
  fetch_result r;
  async_fetch(ctx, std::move(req), record(r));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(r.done);
  BOOST_TEST(r.calls == 1);
  return r;
}

// One fetch of session `s`, run to completion on ctx.
inline fetch_result fetch_in(asio::io_context& ctx, session& s, request req) {
  fetch_result r;
  s.async_fetch(std::move(req), record(r));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(r.done);
  BOOST_TEST(r.calls == 1);
  return r;
}

// Whether `bytes`, found at `offset` of a body the origin generated, follow its pattern.
inline bool has_origin_pattern(std::string_view bytes, std::uint64_t offset = 0) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != tools::body_pattern[(offset + i) % 16]) return false;
  return true;
}

// Runs ctx on `threads` threads until `done()` (or run_limit), then stops it and joins them.
// `done` is polled from the calling thread: make what it reads atomic.
template <class Done>
void run_on_threads(asio::io_context& ctx, int threads, Done done) {
  auto guard = asio::make_work_guard(ctx);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&ctx] { ctx.run_for(run_limit); });
  const auto deadline = std::chrono::steady_clock::now() + run_limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  guard.reset();
  ctx.stop();
  for (auto& t : pool) t.join();
  ctx.restart();
}

// A loopback origin plus a client context: the fixture of most tests.
struct origin_fixture {
  tools::loopback_origin origin;
  asio::io_context ctx;
  std::string url(std::string_view path) const { return origin.url(path); }
  curl_service& service() { return asio::use_service<curl_service>(ctx); }
};

// A TCP port on 127.0.0.1 where nothing listens (bound, then released).
unsigned short refused_port();

// This process's peak resident set (VmHWM), in KiB.
std::size_t peak_rss_kb();

// `url` with ':' and '/' percent-encoded, for the origin's /redirect-to?url=...
std::string escape_for_query(std::string_view url);

}  // namespace boost_curl::test

#endif
