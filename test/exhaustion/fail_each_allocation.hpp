#ifndef BOOST_CURL_TEST_FAIL_EACH_ALLOCATION_HPP
#define BOOST_CURL_TEST_FAIL_EACH_ALLOCATION_HPP

// The loop both allocation-failure programs run (allocation_failure_test.cpp fails the
// engine's C++ allocations, libcurl_allocation_failure_test.cpp libcurl's): for N = 1, 2, 3...
// arm the failure of the Nth allocation, make the attempt, run, and check that the operation
// threw from its initiating call (its handler never runs) or completed exactly once (an error
// with a message), that the same context then serves a fetch and holds no transfer; stop at
// the first N whose failure was never reached.
//
// `Failure` says how to fail: static arm(long n), disarm(), reached() (whether the armed
// failure happened).

#include "test_support.hpp"

#include <functional>
#include <new>
#include <optional>
#include <string>

namespace boost_curl::test {

using attempt_handler = std::function<void(error_code, response)>;

struct failure_outcome {
  std::size_t succeeded = 0, failed = 0, threw = 0, escaped = 0;
  long reached = 0;  // the first N whose failure was never reached
};

// After the Nth attempt: the same context serves a fetch, and holds no transfer.
inline void require_serves_again(asio::io_context& ctx, tools::loopback_origin& origin, long n) {
  fetch_result after = fetch(ctx, request(origin.url("/bytes/1000")));
  BOOST_TEST_REQUIRE(!after.ec, "N=" << n << ": the next fetch failed: " << after.resp.error_message);
  BOOST_TEST_REQUIRE(after.resp.body.size() == 1000u);
  BOOST_TEST_REQUIRE(asio::use_service<curl_service>(ctx).active_transfers() == 0u);
}

// How long the failure stays armed: around the initiating call only, or also while the
// context runs the engine's handlers on this thread (until completion). An exception escaping
// run() is Asio's way to report one from a handler: counted, and the context is run again
// unarmed.
enum class armed { around_the_call, until_completion };

template <class Failure>
failure_outcome fail_each_allocation(tools::loopback_origin& origin, bool fresh,
                                     const std::function<void(asio::io_context&, attempt_handler)>& attempt,
                                     armed how) {
  failure_outcome out;
  std::optional<asio::io_context> shared;
  if (!fresh) {
    shared.emplace();
    fetch_result warm = fetch(*shared, request(origin.url("/bytes/1000")));  // pools and a connection
    BOOST_TEST_REQUIRE(!warm.ec);
  }
  for (long n = 1; n <= 100000; ++n) {
    std::optional<asio::io_context> own;
    asio::io_context& ctx = fresh ? own.emplace() : *shared;
    fetch_result r;
    bool threw = false;
    Failure::arm(n);
    try {
      attempt(ctx, record(r));
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    bool escaped = false;
    if (how == armed::until_completion && !Failure::reached()) {
      try {
        ctx.restart();
        ctx.run_for(run_limit);
      } catch (const std::bad_alloc&) {
        escaped = true;
      }
    }
    const bool reached = Failure::reached();
    Failure::disarm();
    run_bounded(ctx);
    if (escaped) ++out.escaped;
    BOOST_TEST_REQUIRE(r.calls == (threw ? 0 : 1), "N=" << n << ": completed " << r.calls << " times");
    if (!threw) BOOST_TEST_REQUIRE((!r.ec || !r.resp.error_message.empty()), "N=" << n << ": an error without a message");
    threw ? ++out.threw : r.ec ? ++out.failed : ++out.succeeded;
    require_serves_again(ctx, origin, n);
    if (!reached) {
      out.reached = n;
      break;
    }
  }
  BOOST_TEST(out.reached > 1);
  return out;
}

inline void report(const char* what, const failure_outcome& o) {
  BOOST_TEST_MESSAGE(what << ": every N up to " << o.reached << " (the first never reached): " << o.succeeded
                          << " completed normally, " << o.failed << " completed with an error, " << o.threw
                          << " threw std::bad_alloc from the initiating call"
                          << (o.escaped ? ", " + std::to_string(o.escaped) + " let it escape from run()" : std::string()));
}

}  // namespace boost_curl::test

#endif
