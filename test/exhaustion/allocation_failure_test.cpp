// The engine's own C++ allocations failed one at a time, Beast's fail_count way: the global
// operator new throws std::bad_alloc at the Nth allocation made on this thread once armed, for
// N = 1, 2, 3... until an operation completes without the failure being reached. At every N the
// operation either throws std::bad_alloc from the initiating call (and its handler never runs)
// or completes exactly once; nothing escapes from run(); the same context then serves a fetch
// normally; ASan (asan build) finds no leak at exit. Armed around the initiating call (where
// most of boost_curl's own allocations happen: the request, the erased handler, the
// completion record, the transfer, the download's file) for a fetch on a fresh and on a warm
// context, a session's fetch and a download;
// armed from the initiating call until completion (the engine's own handlers running on this
// thread) for plain fetches and for a stream's exchange; armed around a cancellation's emit();
// around a stream's async_open and around each of its reads.
// Only this thread fails: the loopback origin runs on its own. libcurl's own allocations are
// failed by libcurl_allocation_failure_test.cpp.
// Its own program: it replaces the global operator new.

#define BOOST_TEST_MODULE boost_curl_allocation_failure
#include "fail_each_allocation.hpp"
#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <optional>

namespace {
// -1: not armed; otherwise the allocations left before the one that fails (this thread only).
thread_local long countdown = -1;
thread_local bool fired = false;

void* allocate(std::size_t n) {
  if (countdown > 0 && --countdown == 0) {
    countdown = -1;
    fired = true;
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* allocate_aligned(std::size_t n, std::align_val_t a) {
  if (countdown > 0 && --countdown == 0) {
    countdown = -1;
    fired = true;
    throw std::bad_alloc();
  }
  const std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace boost_curl;
using namespace boost_curl::test;

namespace {

// The global operator new's failure (this thread only), for fail_each_allocation.
struct new_failure {
  static void arm(long n) {
    fired = false;
    countdown = n;
  }
  static void disarm() { countdown = -1; }
  static bool reached() { return fired; }
};
void arm(long n) { new_failure::arm(n); }
void disarm() { new_failure::disarm(); }

failure_outcome plain_fetch(bool fresh, armed how = armed::around_the_call) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/bytes/1000");
  return fail_each_allocation<new_failure>(
      origin, fresh, [&](asio::io_context& ctx, attempt_handler h) { async_fetch(ctx, request(url), std::move(h)); },
      how);
}

}  // namespace

BOOST_AUTO_TEST_CASE(fetch_on_a_fresh_context) {
  const failure_outcome o = plain_fetch(true);
  report("fresh context", o);
  BOOST_TEST(o.threw > 0u);
}

BOOST_AUTO_TEST_CASE(fetch_on_a_warm_context) { report("warm context", plain_fetch(false)); }

// Armed from the initiating call to the completion: the engine's own handlers allocate too.
BOOST_AUTO_TEST_CASE(fetch_armed_until_it_completes) {
  report("fresh context, armed while running", plain_fetch(true, armed::until_completion));
  report("warm context, armed while running", plain_fetch(false, armed::until_completion));
}

BOOST_AUTO_TEST_CASE(session_fetch) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/cookie/set?a=1");
  const failure_outcome o = fail_each_allocation<new_failure>(origin, true, [&](asio::io_context& ctx, attempt_handler h) {
    session s(ctx);  // made under the failure too
    s.async_fetch(request(url), std::move(h));
  }, armed::around_the_call);
  report("session", o);
}

BOOST_AUTO_TEST_CASE(download) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/bytes/3000");
  const auto file = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_alloc_download.bin");
  const failure_outcome o = fail_each_allocation<new_failure>(origin, false, [&](asio::io_context& ctx, attempt_handler h) {
    async_download(ctx, request(url), file, std::move(h));
  }, armed::around_the_call);
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
  BOOST_TEST(!std::filesystem::exists(std::filesystem::path(file.native() + ".part")));
  report("download", o);
}

// Armed around the cancellation's emit(): the engine finishes the transfer there and posts its
// handler, allocations that may fail.
BOOST_AUTO_TEST_CASE(cancellation) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/slow-body/5/20");
  failure_outcome out;
  asio::io_context ctx;
  for (long n = 1; n <= 100000; ++n) {
    asio::cancellation_signal signal;
    fetch_result r;
    async_fetch(ctx, request(url), asio::bind_cancellation_slot(signal.slot(), record(r)));
    ctx.restart();
    ctx.run_for(5ms);
    bool threw = false;
    arm(n);
    try {
      signal.emit(asio::cancellation_type::terminal);
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    const bool reached = fired;
    disarm();
    run_bounded(ctx);
    BOOST_TEST_REQUIRE(r.calls == 1, "N=" << n << ": completed " << r.calls << " times");
    threw ? ++out.threw : r.ec ? ++out.failed : ++out.succeeded;
    BOOST_TEST_REQUIRE(asio::use_service<curl_service>(ctx).active_transfers() == 0u);
    if (!reached) {
      out.reached = n;
      break;
    }
  }
  report("cancellation", out);
}

namespace {

// A stream's exchange under allocation failure: armed around async_open (`phase` open), around
// each async_read_some (read), or from async_open until the body's end (running: the engine's
// handlers, the hand-off's notices and the completions run armed on this thread). At every N
// the open throws std::bad_alloc (its handler never runs) or completes once; an opened stream's
// reads then end once with eof after the whole body or once with an error; the same context
// then serves a fetch; no transfer is left; ASan finds no leak. The stream is destroyed, and
// the context after it, at every N.
enum class phase { open, read, running };

failure_outcome stream_exchange(phase armed, std::size_t body_size) {
  tools::loopback_origin origin;
  const std::string url = origin.url("/bytes/" + std::to_string(body_size));
  failure_outcome out;
  for (long n = 1; n <= 100000; ++n) {
    asio::io_context ctx;  // fresh each time: the first exchange allocates the most
    fired = false;
    int opened = 0, read_ended = 0;
    error_code open_ec, read_ec;
    std::size_t got = 0;
    bool threw = false, escaped = false;
    {
      stream s(ctx);
      std::vector<char> chunk(4096);
      std::function<void()> read_next;
      auto on_read = [&](error_code ec, std::size_t k) {
        got += k;
        if (ec) {
          ++read_ended;
          read_ec = ec;
          return;
        }
        read_next();
      };
      read_next = [&] {
        if (armed == phase::read && !fired) arm(n);
        try {
          s.async_read_some(asio::buffer(chunk), on_read);
        } catch (const std::bad_alloc&) {
          ++read_ended;
          read_ec = make_error_code(std::errc::not_enough_memory);
        }
        if (armed == phase::read) disarm();
      };
      if (armed != phase::read) arm(n);
      try {
        s.async_open(request(url), [&](error_code ec, response) {
          ++opened;
          open_ec = ec;
          if (!ec) read_next();
        });
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      if (armed == phase::open) disarm();
      for (int round = 0; round < 100 && armed == phase::running && !fired; ++round) {
        try {
          ctx.restart();
          ctx.run_for(run_limit);
          break;
        } catch (const std::bad_alloc&) {
          escaped = true;  // Asio's way to report it; the context is run again
        }
      }
      disarm();
      ctx.restart();
      ctx.run_for(run_limit);
      BOOST_TEST_REQUIRE(opened == (threw ? 0 : 1), "N=" << n << ": opened " << opened << " times");
      if (opened && !open_ec) {
        BOOST_TEST_REQUIRE(read_ended == 1, "N=" << n << ": the reads ended " << read_ended << " times");
        if (read_ec == asio::error::eof) BOOST_TEST_REQUIRE(got == body_size, "N=" << n << ": eof after " << got);
      }
    }  // the stream is destroyed here
    ctx.restart();
    ctx.run_for(run_limit);
    if (escaped) ++out.escaped;
    const bool failed = threw || open_ec || (opened && read_ec != asio::error::eof);
    threw ? ++out.threw : failed ? ++out.failed : ++out.succeeded;
    require_serves_again(ctx, origin, n);
    if (!fired) {
      out.reached = n;
      break;
    }
  }
  BOOST_TEST(out.reached > 1);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(stream_open) { report("stream, armed around async_open", stream_exchange(phase::open, 100000)); }

BOOST_AUTO_TEST_CASE(stream_reads) { report("stream, armed around each read", stream_exchange(phase::read, 100000)); }

BOOST_AUTO_TEST_CASE(stream_armed_until_the_end) {
  report("stream, armed from async_open to the end", stream_exchange(phase::running, 100000));
}
