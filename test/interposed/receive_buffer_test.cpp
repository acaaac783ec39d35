// request::receive_buffer_size observed where it acts: the length libcurl asks of recv() on a
// transfer's socket (libcurl reads a plain socket with recv(); the in-process origin's Asio
// sockets use recvmsg(), so they are not counted). Part of the interposing program.

#include "test_support.hpp"

#include <boost_curl/session.hpp>

#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <vector>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {

std::atomic<std::size_t> largest_recv{0};  // the most any recv() asked for since the last reset
constexpr int watched_fds = 4096;
std::atomic<std::size_t> largest_recv_by_fd[watched_fds];  // the same, per descriptor

// The most one recv() asked for during `fetch` (which returns a fetch_result), whose body must
// have `expected_body` bytes.
template <class Fetch>
std::size_t largest_recv_during(Fetch&& fetch, std::size_t expected_body) {
  largest_recv = 0;
  const fetch_result r = fetch();
  BOOST_TEST(!r.ec, r.ec.message());
  BOOST_TEST(r.resp.body.size() == expected_body);
  return largest_recv.load();
}

std::size_t largest_recv_of(asio::io_context& ctx, const request& req, std::size_t expected_body) {
  return largest_recv_during([&] { return fetch(ctx, req); }, expected_body);
}

}  // namespace

extern "C" ssize_t recv(int fd, void* buf, size_t len, int flags) {
  using recv_fn = ssize_t (*)(int, void*, size_t, int);
  static const auto real_recv = reinterpret_cast<recv_fn>(::dlsym(RTLD_NEXT, "recv"));
  std::size_t seen = largest_recv.load();
  while (len > seen && !largest_recv.compare_exchange_weak(seen, len)) {
  }
  if (fd >= 0 && fd < watched_fds) {
    std::size_t seen_here = largest_recv_by_fd[fd].load();
    while (len > seen_here && !largest_recv_by_fd[fd].compare_exchange_weak(seen_here, len)) {
    }
  }
  return real_recv(fd, buf, len, flags);
}

BOOST_FIXTURE_TEST_SUITE(receive_buffer, origin_fixture)

// The default (automatic, one transfer in flight) takes 63 KiB per recv(); libcurl keeps
// values within 1 KiB .. 10 MiB. One context, so the sizes follow one another on the same
// pooled transfer (an option applied lazily must still change when asked).
BOOST_AUTO_TEST_CASE(each_request_reads_with_the_size_it_asks_for) {
  constexpr std::size_t body = 3 << 20;
  const std::string url = this->url("/bytes/" + std::to_string(body));
  request req(url);
  BOOST_TEST(largest_recv_of(ctx, req, body) == std::size_t(63) << 10);
  req.receive_buffer_size = 16384;  // libcurl's own
  BOOST_TEST(largest_recv_of(ctx, req, body) == std::size_t(16) << 10);
  req.receive_buffer_size = std::size_t(1) << 20;
  BOOST_TEST(largest_recv_of(ctx, req, body) == std::size_t(1) << 20);
  req.receive_buffer_size = 100;  // below libcurl's least
  BOOST_TEST(largest_recv_of(ctx, req, body) == 1024u);
  req.receive_buffer_size = 0;  // automatic again
  BOOST_TEST(largest_recv_of(ctx, req, body) == std::size_t(63) << 10);
}

// Automatic: the first 64 transfers in flight on a context read 63 KiB at a time, the ones
// started while 64 or more run read libcurl's 16 KiB (each on a connection of its own here).
BOOST_AUTO_TEST_CASE(automatic_reads_are_large_only_while_few_transfers_run) {
  constexpr int transfers = 70;
  for (auto& largest : largest_recv_by_fd) largest = 0;
  std::vector<fetch_result> results(transfers);
  for (fetch_result& r : results) async_fetch(ctx, request(url("/bytes/200000")), record(r));
  run_bounded(ctx);
  for (const fetch_result& r : results) {
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(r.resp.body.size() == 200000u);
  }
  int large = 0, libcurls = 0;
  for (const auto& largest : largest_recv_by_fd) {
    if (largest == std::size_t(63) << 10) ++large;
    if (largest == std::size_t(16) << 10) ++libcurls;
  }
  BOOST_TEST(large == 64);
  BOOST_TEST(libcurls == transfers - 64);
}

// A rate-limited transfer reads 16 KiB at most, whatever it asks: libcurl 7.88's limiter lets
// too much through with larger reads (options_test's receive_rate_limit fails with 64 KiB).
BOOST_AUTO_TEST_CASE(a_rate_limit_keeps_reads_small) {
  request req(url("/bytes/300000"));
  req.max_recv_speed = 100000000;  // high: the test stays fast
  BOOST_TEST(largest_recv_of(ctx, req, 300000) == std::size_t(16) << 10);
  req.receive_buffer_size = 4096;
  BOOST_TEST(largest_recv_of(ctx, req, 300000) == 4096u);
}

// A session's template (make_request) carries it, like any other member.
BOOST_AUTO_TEST_CASE(a_session_default_applies) {
  session s(ctx);
  s.defaults().receive_buffer_size = 4096;
  const std::size_t largest =
      largest_recv_during([&] { return fetch_in(ctx, s, s.make_request(http::verb::get, url("/bytes/100000"))); }, 100000);
  BOOST_TEST(largest == 4096u);
}

BOOST_AUTO_TEST_SUITE_END()
