// libcurl's own allocations failed one at a time, as curl's torture tests do: libcurl's
// allocator is replaced (curl_global_init_mem, before anything else calls libcurl) by one that
// returns null for the Nth allocation after it is armed, for N = 1, 2, 3... until a fetch
// completes without the failure being reached. At every N the fetch either throws
// std::bad_alloc from the initiating call (then its handler never runs) or completes exactly
// once, with an error or a response; afterwards the same context serves a fetch normally; and
// ASan (the asan build) finds nothing leaked at exit. Done for a fetch on a fresh context (the
// service, its multi handle and the easy handle made under the failure), a fetch on a warm
// context (pooled handles, kept connection), a session's fetch (the session made under the
// failure too) and a cancelled fetch.
// The engine's own C++ allocations are not failed here (see doc/reliability.md).
// Its own program: the allocator must be in place before libcurl's first use.

#define BOOST_TEST_MODULE boost_curl_libcurl_allocation_failure
#include "fail_each_allocation.hpp"
#include "test_support.hpp"

#include <curl/curl.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {

// -1: not armed; otherwise the allocations left before the one that fails.
std::atomic<long> countdown{-1};
std::atomic<bool> fired{false};

bool fail_now() {
  long left = countdown.load();
  while (left > 0 && !countdown.compare_exchange_weak(left, left - 1)) {}
  if (left != 1) return false;
  fired = true;
  return true;
}

void* test_malloc(size_t n) { return fail_now() ? nullptr : std::malloc(n); }
void test_free(void* p) { std::free(p); }
void* test_realloc(void* p, size_t n) { return fail_now() ? nullptr : std::realloc(p, n); }
char* test_strdup(const char* s) {
  if (fail_now()) return nullptr;
  const std::size_t n = std::strlen(s) + 1;
  char* copy = static_cast<char*>(std::malloc(n));
  if (copy) std::memcpy(copy, s, n);
  return copy;
}
void* test_calloc(size_t n, size_t size) { return fail_now() ? nullptr : std::calloc(n, size); }

struct install_allocator {
  install_allocator() {
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, test_malloc, test_free, test_realloc, test_strdup, test_calloc) !=
        CURLE_OK)
      std::abort();
  }
};
const install_allocator installed;  // before main, so before boost_curl's curl_global_init

// libcurl's allocator's failure, for fail_each_allocation.
struct curl_failure {
  static void arm(long n) {
    fired = false;
    countdown = n;
  }
  static void disarm() { countdown = -1; }
  static bool reached() { return fired; }
};

}  // namespace

// A plain fetch of 1000 bytes, on a fresh context per N or on one warm context.
static failure_outcome plain_fetch(bool fresh) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/bytes/1000");
  return fail_each_allocation<curl_failure>(origin, fresh, [&](asio::io_context& ctx, attempt_handler h) {
    async_fetch(ctx, request(url), std::move(h));
  }, armed::until_completion);
}

BOOST_AUTO_TEST_CASE(fetch_on_a_fresh_context) {
  const failure_outcome o = plain_fetch(true);
  report("fresh context", o);
  BOOST_TEST(o.failed + o.threw > 0u);
}

BOOST_AUTO_TEST_CASE(fetch_on_a_warm_context) { report("warm context", plain_fetch(false)); }

BOOST_AUTO_TEST_CASE(session_fetch) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/cookie/set?a=1");
  const failure_outcome o = fail_each_allocation<curl_failure>(origin, true, [&](asio::io_context& ctx, attempt_handler h) {
    session s(ctx);  // its share handle is made under the failure too
    s.async_fetch(request(url), std::move(h));
  }, armed::until_completion);
  report("session", o);
}

BOOST_AUTO_TEST_CASE(cancelled_fetch) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/slow-body/5/2");
  asio::cancellation_signal signal;  // may outlive the context: its handler keeps what it needs
  const failure_outcome o = fail_each_allocation<curl_failure>(origin, false, [&](asio::io_context& ctx, attempt_handler h) {
    async_fetch(ctx, request(url), asio::bind_cancellation_slot(signal.slot(), std::move(h)));
    auto timer = std::make_shared<asio::steady_timer>(ctx, 3ms);  // goes with its handler
    timer->async_wait([timer, &signal](error_code) { signal.emit(asio::cancellation_type::terminal); });
  }, armed::until_completion);
  report("cancelled", o);
}
