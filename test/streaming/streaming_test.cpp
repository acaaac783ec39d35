// Streaming bodies: stream (an AsyncReadStream over one exchange) and async_download. Its own
// program: it measures the process's resident memory and CPU time.

#define BOOST_TEST_MODULE boost_curl_streaming
#include "test_support.hpp"

#include <origin/body_inspectors.hpp>
#include <origin/process_stats.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

using namespace boost_curl;
using namespace boost_curl::test;
namespace fs = std::filesystem;
using asio::awaitable;
using asio::use_awaitable;

namespace {

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs `body` as a coroutine on ctx to its end (bounded), rethrowing what it threw.
template <class F>
void run_coroutine(asio::io_context& ctx, F body, std::chrono::seconds limit = 120s) {
  std::exception_ptr failed;
  bool done = false;
  asio::co_spawn(ctx, body(), [&](std::exception_ptr e) {
    failed = e;
    done = true;
  });
  ctx.restart();
  ctx.run_for(limit);
  BOOST_TEST_REQUIRE(done, "the coroutine did not finish");
  if (failed) std::rethrow_exception(failed);
}

// Reads the rest of `s`, checking the pattern from `offset`; returns the bytes read.
awaitable<std::uint64_t> read_to_end(stream& s, std::uint64_t offset, std::size_t piece = 65536) {
  std::vector<char> buffer(piece);
  std::uint64_t total = 0;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
    if (ec == asio::error::eof) break;
    if (ec) throw boost::system::system_error(ec);
    if (!has_origin_pattern(std::string_view(buffer.data(), n), offset + total))
      throw std::runtime_error("pattern broken at byte " + std::to_string(offset + total));
    total += n;
  }
  co_return total;
}

struct temp_path {
  fs::path path;
  explicit temp_path(std::string name) : path(fs::temp_directory_path() / (std::to_string(::getpid()) + "_" + name)) {
    clean();
  }
  ~temp_path() { clean(); }
  void clean() {
    std::error_code ignored;
    fs::remove(path, ignored);
    fs::remove(part(), ignored);
  }
  fs::path part() const { return fs::path(path.native() + ".part"); }
};

bool file_follows_pattern(const fs::path& p, std::uint64_t expected_size) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  std::uint64_t at = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (!has_origin_pattern(std::string_view(buffer.data(), n), at)) return false;
    at += n;
  }
  return at == expected_size;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(reading, origin_fixture)

BOOST_AUTO_TEST_CASE(a_body_read_with_async_read_and_the_head_first) {
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    request req(url("/bytes/300000"));
    req.max_body_size = 1000;  // does not apply to a stream
    response head = co_await s.async_open(req, use_awaitable);
    BOOST_TEST(head.status_code() == 200u);
    BOOST_TEST(head.body.empty());
    BOOST_TEST(head.headers["Content-Length"] == "300000");
    BOOST_TEST(s.head().status_code() == 200u);
    std::string body(300000, '\0');
    const std::size_t n = co_await asio::async_read(s, asio::buffer(body), use_awaitable);
    BOOST_TEST(n == 300000u);
    BOOST_TEST(has_origin_pattern(body));
    // The end: eof, again and again; head() then has the whole exchange's timings.
    std::array<char, 16> more{};
    for (int i = 0; i < 2; ++i) {
      auto [ec, k] = co_await s.async_read_some(asio::buffer(more), asio::as_tuple(use_awaitable));
      BOOST_TEST((ec == asio::error::eof));
      BOOST_TEST(k == 0u);
    }
    BOOST_TEST(s.head().time.total >= s.head().time.first_byte);
    BOOST_TEST(s.head().time.total.count() > 0);
  });
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_CASE(server_sent_events_line_by_line) {
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    response head = co_await s.async_open(request(url("/events/5/20")), use_awaitable);
    BOOST_TEST(head.headers["Content-Type"] == "text/event-stream");
    std::string data;
    for (int k = 0; k < 5; ++k) {
      const std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(data), "\n\n", use_awaitable);
      BOOST_TEST(data.substr(0, n) == "data: event " + std::to_string(k) + "\n\n");
      data.erase(0, n);
    }
    auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(data), "\n\n", asio::as_tuple(use_awaitable));
    BOOST_TEST((ec == asio::error::eof));
    BOOST_TEST(data.empty());
  });
}

BOOST_AUTO_TEST_CASE(redirects_are_followed_and_only_the_final_body_is_read) {
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    request req(url("/redirect/2"));
    req.follow_redirects = true;
    response head = co_await s.async_open(req, use_awaitable);
    BOOST_TEST(head.status_code() == 200u);
    BOOST_TEST(head.redirect_count == 2);
    BOOST_TEST(head.effective_url == url("/redirect/0"));
    std::string body;
    auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(body), asio::as_tuple(use_awaitable));
    BOOST_TEST((ec == asio::error::eof));
    BOOST_TEST(body == "done");
    BOOST_TEST(s.head().history.size() == 2u);
  });
}

BOOST_AUTO_TEST_CASE(errors_before_and_during_the_body) {
  run_coroutine(ctx, [&]() -> awaitable<void> {
    {  // nobody listens
      stream s(ctx);
      auto [ec, head] = co_await s.async_open(request("http://127.0.0.1:" + std::to_string(refused_port()) + "/"),
                                              asio::as_tuple(use_awaitable));
      BOOST_TEST((ec == condition::connect_failed));
      std::array<char, 8> b{};
      auto [ec2, n] = co_await s.async_read_some(asio::buffer(b), asio::as_tuple(use_awaitable));
      BOOST_TEST(ec2 == ec);  // the exchange's error, again
    }
    {  // a status error, asked for
      stream s(ctx);
      request req(url("/status/404"));
      req.fail_on_error_status = true;
      auto [ec, head] = co_await s.async_open(req, asio::as_tuple(use_awaitable));
      BOOST_TEST((ec == condition::http_error_status));
      BOOST_TEST(head.status_code() == 404u);
    }
    {  // closed mid-body: the bytes that came, then the error
      stream s(ctx);
      co_await s.async_open(request(url("/close-mid-body")), use_awaitable);
      std::string body;
      auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(body), asio::as_tuple(use_awaitable));
      BOOST_TEST(body.size() == 1000u);
      BOOST_TEST(ec);
      BOOST_TEST(ec != asio::error::eof);
    }
    {  // a body-less response: the open completes, then eof
      stream s(ctx);
      response head = co_await s.async_open(request(url("/status/204")), use_awaitable);
      BOOST_TEST(head.status_code() == 204u);
      std::array<char, 8> b{};
      auto [ec, n] = co_await s.async_read_some(asio::buffer(b), asio::as_tuple(use_awaitable));
      BOOST_TEST((ec == asio::error::eof));
    }
  });
}

// The first read started with the open (before its handler ran): the body that arrives with
// the head goes straight into the read's buffers, and the read completes after the open.
BOOST_AUTO_TEST_CASE(a_read_started_with_the_open) {
  using asio::experimental::make_parallel_group;
  using asio::experimental::wait_for_all;
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    std::vector<char> buffer(65536);
    auto open_and_read = [&](request req) {
      return make_parallel_group(s.async_open(std::move(req), asio::deferred),
                                 s.async_read_some(asio::buffer(buffer), asio::deferred))
          .async_wait(wait_for_all(), use_awaitable);
    };
    {  // a body that fits the buffer, then one larger than the stream's own buffer
      for (const std::uint64_t size : {60000ull, 1000000ull}) {
        auto [order, open_ec, head, read_ec, n] = co_await open_and_read(request(url("/bytes/" + std::to_string(size))));
        BOOST_TEST(order[0] == 0u);  // the open's handler first
        BOOST_TEST(!open_ec);
        BOOST_TEST(head.status_code() == 200u);
        BOOST_TEST(!read_ec);
        BOOST_TEST(n > 0u);
        BOOST_TEST(has_origin_pattern(std::string_view(buffer.data(), n)));
        const std::uint64_t rest = co_await read_to_end(s, n);
        BOOST_TEST(n + rest == size);
      }
    }
    {  // the stream reopened at once, with a read again: the new exchange's bytes
      request req(url("/redirect/2"));
      req.follow_redirects = true;
      auto [order, open_ec, head, read_ec, n] = co_await open_and_read(std::move(req));
      BOOST_TEST(!open_ec);
      BOOST_TEST(head.status_code() == 200u);
      BOOST_TEST(head.redirect_count == 2);
      BOOST_TEST(std::string_view(buffer.data(), n) == "done");  // the redirects' own bodies are not read
    }
    {  // a body-less response: the read ends at once
      auto [order, open_ec, head, read_ec, n] = co_await open_and_read(request(url("/status/204")));
      BOOST_TEST(!open_ec);
      BOOST_TEST(head.status_code() == 204u);
      BOOST_TEST((read_ec == asio::error::eof));
      BOOST_TEST(n == 0u);
    }
    {  // a status error, asked for: the open says so; the body is still there to read
      request req(url("/status/404"));
      req.fail_on_error_status = true;
      auto [order, open_ec, head, read_ec, n] = co_await open_and_read(std::move(req));
      BOOST_TEST(order[0] == 0u);
      BOOST_TEST((open_ec == condition::http_error_status));
      BOOST_TEST(!read_ec);
      BOOST_TEST(std::string_view(buffer.data(), n) == "status 404");
    }
    {  // nobody listens: both complete with the exchange's error, the open first
      auto [order, open_ec, head, read_ec, n] =
          co_await open_and_read(request("http://127.0.0.1:" + std::to_string(refused_port()) + "/"));
      BOOST_TEST(order[0] == 0u);
      BOOST_TEST((open_ec == condition::connect_failed));
      BOOST_TEST(read_ec == open_ec);
      BOOST_TEST(n == 0u);
    }
  });
  BOOST_TEST(service().active_transfers() == 0u);
}

// With callbacks: the open's handler has run, and head() shows its head, when the read's runs.
BOOST_AUTO_TEST_CASE(a_read_started_with_the_open_completes_after_it) {
  stream s(ctx);
  std::array<char, 100> buffer{};
  std::vector<std::string> events;
  s.async_open(request(url("/bytes/50")), [&](error_code ec, response head) {
    events.push_back("open " + ec.message() + " " + std::to_string(head.status_code()));
  });
  s.async_read_some(asio::buffer(buffer), [&](error_code ec, std::size_t n) {
    events.push_back("read " + ec.message() + " " + std::to_string(n) + " " + std::to_string(s.head().status_code()));
  });
  BOOST_TEST(events.empty());  // never inline
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0] == "open Success 200");
  BOOST_TEST(events[1] == "read Success 50 200");
  BOOST_TEST(has_origin_pattern(std::string_view(buffer.data(), 50)));
}

BOOST_AUTO_TEST_CASE(a_stream_of_a_session_applies_its_defaults_and_cookies) {
  session sess(ctx);
  sess.defaults().headers.set("X-Default", "yes");
  run_coroutine(ctx, [&]() -> awaitable<void> {
    co_await sess.async_get(url("/cookie/set?flavour=plain"), use_awaitable);
    stream s(sess);
    co_await s.async_open(request(url("/cookie/get")), use_awaitable);
    std::string body;
    co_await asio::async_read(s, asio::dynamic_buffer(body), asio::as_tuple(use_awaitable));
    BOOST_TEST(body == "flavour=plain");
    stream e(sess);
    co_await e.async_open(request(url("/echo")), use_awaitable);
    std::string echoed;
    co_await asio::async_read(e, asio::dynamic_buffer(echoed), asio::as_tuple(use_awaitable));
    BOOST_TEST(echoed.find("X-Default: yes") != std::string::npos);
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(backpressure, origin_fixture)

// The body is far larger than memory allowed: read through one 64 KiB buffer, the process's
// resident memory grows by less than 16 MiB (the stream holds at most 256 KiB, libcurl 63 KiB
// more; the in-process origin writes pieces of 64 KiB).
BOOST_AUTO_TEST_CASE(a_gibibyte_through_a_stream_in_bounded_memory) {
  const std::uint64_t size = sanitized ? (std::uint64_t(64) << 20) : (std::uint64_t(1) << 30);
  const std::size_t before = tools::resident_kb();
  std::size_t peak = before;
  std::uint64_t total = 0;
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    co_await s.async_open(request(url("/bytes/" + std::to_string(size))), use_awaitable);
    std::vector<char> buffer(65536);
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
      if (ec == asio::error::eof) break;
      if (ec) throw boost::system::system_error(ec);
      if (!has_origin_pattern(std::string_view(buffer.data(), n), total)) throw std::runtime_error("pattern broken");
      total += n;
      if (total % (std::uint64_t(64) << 20) < n) peak = std::max(peak, tools::resident_kb());
    }
  }, 300s);
  BOOST_TEST(total == size);
  BOOST_TEST_MESSAGE("1 GiB through a stream: RSS " << before << " KiB before, at most " << peak << " KiB while reading");
  if (!sanitized) BOOST_TEST(peak - before < 16u * 1024u);
}

// A reader that stops for 3 s mid-body: the transfer pauses (the origin soon cannot send
// more), the process stays idle, and the body is intact once reading goes on.
BOOST_AUTO_TEST_CASE(a_paused_reader_holds_the_transfer_at_no_cost) {
  const std::uint64_t size = std::uint64_t(64) << 20;
  std::uint64_t sent_during_pause = 0, sent_before_pause = 0;
  double cpu_during_pause = 0;
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    co_await s.async_open(request(url("/bytes/" + std::to_string(size))), use_awaitable);
    std::array<char, 1000> first{};
    const std::size_t n = co_await asio::async_read(s, asio::buffer(first), use_awaitable);
    asio::steady_timer wait(ctx, 500ms);  // let the buffers fill
    co_await wait.async_wait(use_awaitable);
    sent_before_pause = origin.body_bytes_sent();
    const double cpu0 = cpu_seconds();
    wait.expires_after(3s);
    co_await wait.async_wait(use_awaitable);
    cpu_during_pause = cpu_seconds() - cpu0;
    sent_during_pause = origin.body_bytes_sent() - sent_before_pause;
    BOOST_TEST(service().active_transfers() == 1u);
    const std::uint64_t rest = co_await read_to_end(s, n);
    BOOST_TEST(n + rest == size);
  });
  BOOST_TEST_MESSAGE("paused reader: origin had sent " << sent_before_pause << " bytes, " << sent_during_pause
                                                       << " more in 3 s; CPU " << cpu_during_pause << " s");
  // What was sent before the pause sits in the stream (256 KiB), libcurl and the sockets'
  // buffers (a few MiB on loopback); nothing more goes while nobody reads.
  BOOST_TEST(sent_before_pause < std::uint64_t(16) << 20);
  BOOST_TEST(sent_during_pause < std::uint64_t(1) << 20);
  BOOST_TEST(cpu_during_pause < 0.3);
}

// A thousand streams whose readers stop after the head: every transfer pauses, and the process
// then sleeps (no busy loop, no timer spinning) while holding them all.
BOOST_AUTO_TEST_CASE(a_thousand_paused_streams_cost_no_cpu) {
  const int count = sanitized ? 100 : 1000;
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  BOOST_TEST_REQUIRE(lim.rlim_cur >= rlim_t(3 * count), "not enough descriptors here for this test");
  std::vector<std::unique_ptr<stream>> streams;
  std::atomic<int> opened{0};
  const std::size_t rss_before = tools::resident_kb();
  for (int i = 0; i < count; ++i) {
    streams.push_back(std::make_unique<stream>(ctx));
    streams.back()->async_open(request(url("/bytes/1000000")), [&](error_code ec, response) {
      if (!ec) ++opened;
    });
  }
  double cpu = 0;
  std::size_t rss_paused = 0;
  {
    auto guard = asio::make_work_guard(ctx);
    std::thread runner([&] { ctx.run_for(60s); });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (opened.load() < count && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    // Until the buffers are full (the stream's, libcurl's, both sockets'): the origin then
    // cannot send more.
    for (std::uint64_t sent = ~std::uint64_t(0); std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(300ms);
      if (std::exchange(sent, origin.body_bytes_sent()) == sent) break;
    }
    const double cpu0 = cpu_seconds();
    std::this_thread::sleep_for(2s);
    cpu = cpu_seconds() - cpu0;
    rss_paused = tools::resident_kb();
    BOOST_TEST(service().active_transfers() == std::size_t(count));
    streams.clear();  // aborts them all
    guard.reset();
    ctx.stop();
    runner.join();
  }
  BOOST_TEST(opened.load() == count);
  BOOST_TEST_MESSAGE(count << " paused streams: CPU " << cpu << " s over 2 s; RSS " << rss_before << " -> " << rss_paused
                           << " KiB (" << (rss_paused - std::min(rss_paused, rss_before)) / count << " KiB per stream)");
  BOOST_TEST(cpu < 0.2);
  // What each holds: its buffer (256 KiB when full) and libcurl's; the origin, in this
  // process, holds its side too.
  if (!sanitized) BOOST_TEST((rss_paused - std::min(rss_paused, rss_before)) / count < 1024u);
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(cancelling, origin_fixture)

BOOST_AUTO_TEST_CASE(cancel_and_destroy_in_each_state) {
  int aborted = 0, completions = 0;
  auto count = [&](error_code ec) {
    ++completions;
    if (ec == asio::error::operation_aborted) ++aborted;
  };
  {  // waiting for the head: cancel()
    stream s(ctx);
    s.async_open(request(url("/delay/5000")), [&](error_code ec, response) { count(ec); });
    asio::steady_timer t(ctx, 50ms);
    t.async_wait([&](error_code) { s.cancel(); });
    run_bounded(ctx);
  }
  BOOST_TEST(completions == 1);
  BOOST_TEST(aborted == 1);
  {  // mid-body with a read pending: per-operation cancellation of async_read_some
    stream s(ctx);
    asio::cancellation_signal signal;
    std::array<char, 1000> first{};
    std::array<char, 100000> buffer{};
    s.async_open(request(url("/slow-body/10/300")), [&](error_code ec, response) {
      BOOST_TEST(!ec);
      asio::async_read(s, asio::buffer(first), [&](error_code ec, std::size_t) {
        BOOST_TEST(!ec);
        // The next piece is 300 ms away: this read waits, and is cancelled.
        s.async_read_some(asio::buffer(buffer), asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, std::size_t n) {
                            BOOST_TEST(n == 0u);
                            count(ec);
                          }));
        asio::post(ctx, [&] { signal.emit(asio::cancellation_type::terminal); });
      });
    });
    run_bounded(ctx);
    // The exchange is aborted: every read after it is too.
    s.async_read_some(asio::buffer(buffer), [&](error_code ec, std::size_t n) {
      BOOST_TEST(n == 0u);
      count(ec);
    });
    run_bounded(ctx);
  }
  BOOST_TEST(completions == 3);
  BOOST_TEST(aborted == 3);
  {  // paused, no read pending: cancel(), then a read
    stream s(ctx);
    std::array<char, 10> buffer{};
    s.async_open(request(url("/bytes/50000000")), [&](error_code ec, response) { BOOST_TEST(!ec); });
    asio::steady_timer t(ctx, 300ms);
    t.async_wait([&](error_code) {
      BOOST_TEST(service().active_transfers() == 1u);
      s.cancel();
      s.async_read_some(asio::buffer(buffer), [&](error_code ec, std::size_t) { count(ec); });
    });
    run_bounded(ctx);
  }
  BOOST_TEST(completions == 4);
  BOOST_TEST(aborted == 4);
  BOOST_TEST(service().active_transfers() == 0u);
  {  // destroyed with a read pending
    auto s = std::make_unique<stream>(ctx);
    std::array<char, 1000> first{};
    std::array<char, 100> more{};
    s->async_open(request(url("/slow-body/10/1000")), [&](error_code ec, response) {
      BOOST_TEST(!ec);
      asio::async_read(*s, asio::buffer(first), [&](error_code ec, std::size_t) {
        BOOST_TEST(!ec);
        s->async_read_some(asio::buffer(more), [&](error_code ec, std::size_t) { count(ec); });  // the next piece is 1 s away
      });
    });
    asio::steady_timer t(ctx, 300ms);
    t.async_wait([&](error_code) { s.reset(); });
    run_bounded(ctx);
  }
  BOOST_TEST(completions == 5);
  BOOST_TEST(aborted == 5);
  BOOST_TEST(service().active_transfers() == 0u);
}

// An open and a read pending together (the read started with the open), while the head is
// awaited: cancel(), per-operation cancellation of either, and destruction all abort the
// exchange, and both complete once with operation_aborted.
BOOST_AUTO_TEST_CASE(cancelling_an_open_with_a_read_pending) {
  for (int way = 0; way < 4; ++way) {
    BOOST_TEST_CONTEXT("way " << way) {
      auto s = std::make_unique<stream>(ctx);
      asio::cancellation_signal open_signal, read_signal;
      std::array<char, 100> buffer{};
      std::vector<error_code> ends;
      s->async_open(request(url("/delay/5000")),
                    asio::bind_cancellation_slot(open_signal.slot(), [&](error_code ec, response) { ends.push_back(ec); }));
      s->async_read_some(asio::buffer(buffer), asio::bind_cancellation_slot(read_signal.slot(), [&](error_code ec, std::size_t n) {
                           BOOST_TEST(n == 0u);
                           ends.push_back(ec);
                         }));
      asio::steady_timer t(ctx, 50ms);
      t.async_wait([&](error_code) {
        switch (way) {
          case 0: s->cancel(); break;
          case 1: open_signal.emit(asio::cancellation_type::terminal); break;
          case 2: read_signal.emit(asio::cancellation_type::terminal); break;
          default: s.reset();
        }
      });
      run_bounded(ctx);
      BOOST_TEST_REQUIRE(ends.size() == 2u);
      BOOST_TEST((ends[0] == asio::error::operation_aborted));
      BOOST_TEST((ends[1] == asio::error::operation_aborted));
      BOOST_TEST(service().active_transfers() == 0u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(downloading, origin_fixture)

BOOST_AUTO_TEST_CASE(a_download_to_a_file) {
  const std::uint64_t size = sanitized ? (std::uint64_t(8) << 20) : (std::uint64_t(100) << 20);
  temp_path file("download.bin");
  fetch_result r;
  async_download(ctx, request(url("/bytes/" + std::to_string(size))), file.path, record(r));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(r.done);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST(!r.ec, r.ec.message() << " " << r.resp.error_message);
  BOOST_TEST(r.resp.status_code() == 200u);
  BOOST_TEST(r.resp.body.empty());
  BOOST_TEST(fs::file_size(file.path) == size);
  BOOST_TEST(file_follows_pattern(file.path, size));
  BOOST_TEST(!fs::exists(file.part()));
}

BOOST_AUTO_TEST_CASE(a_failed_download_leaves_no_file) {
  temp_path file("failed.bin");
  for (const char* path : {"/close-mid-body", "/status/404", "/bytes/5000"}) {
    fetch_result r;
    request req(url(path));
    req.max_body_size = 4000;  // limits the file: /bytes/5000 exceeds it
    async_download(ctx, req, file.path, record(r));
    run_bounded(ctx);
    BOOST_TEST_REQUIRE(r.done);
    BOOST_TEST(r.ec, path);
    BOOST_TEST(!fs::exists(file.path), path);
    BOOST_TEST(!fs::exists(file.part()), path);
    if (std::string_view(path) == "/status/404") BOOST_TEST((r.ec == condition::http_error_status));
    if (std::string_view(path) == "/bytes/5000") BOOST_TEST((r.ec == error::body_too_large));
  }
}

BOOST_AUTO_TEST_CASE(a_partial_download_resumes) {
  const std::uint64_t size = 3000000, had = 1234567;
  temp_path file("resumed.bin");
  {
    std::string start(had, '\0');
    for (std::uint64_t i = 0; i < had; ++i) start[i] = tools::body_pattern[i % 16];
    std::ofstream(file.part(), std::ios::binary).write(start.data(), static_cast<std::streamsize>(start.size()));
  }
  fetch_result r;
  download_options resume;
  resume.resume = true;
  async_download(ctx, request(url("/bytes/" + std::to_string(size))), file.path, resume, record(r));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(r.done);
  BOOST_TEST(!r.ec, r.ec.message());
  BOOST_TEST(r.resp.status_code() == 206u);
  BOOST_TEST(origin.body_bytes_sent() == size - had);  // only the rest crossed the wire
  BOOST_TEST(file_follows_pattern(file.path, size));
  BOOST_TEST(!fs::exists(file.part()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(uploading_and_progress, origin_fixture)

// The file is sent as it is read: the origin hashes what arrives.
BOOST_AUTO_TEST_CASE(a_large_upload_from_a_file) {
  const std::uint64_t size = sanitized ? (std::uint64_t(16) << 20) : (std::uint64_t(512) << 20);
  temp_path file("upload.bin");
  tools::detail::sha256_digest digest;
  {
    std::ofstream out(file.path, std::ios::binary);
    std::string piece(1 << 20, '\0');
    for (std::uint64_t at = 0; at < size; at += piece.size()) {
      for (std::size_t i = 0; i < piece.size(); ++i) piece[i] = static_cast<char>((at + i) * 2654435761u >> 13);
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      digest.update(piece);
    }
  }
  const std::size_t before = tools::resident_kb();
  request req(url("/hash"));
  req.set_body_file(file.path);
  BOOST_TEST((req.method == http::verb::post));
  fetch_result r = fetch(ctx, req);
  BOOST_TEST(!r.ec, r.ec.message() << " " << r.resp.error_message);
  BOOST_TEST(r.resp.body == "size=" + std::to_string(size) + " sha256=" + digest.hex());
  if (!sanitized) BOOST_TEST(tools::resident_kb() - std::min(before, tools::resident_kb()) < 16u * 1024u);
  // A PUT keeps its method.
  request put(http::verb::put, url("/echo"));
  temp_path small("small.txt");
  std::ofstream(small.path) << "from a file";
  put.set_body_file(small.path);
  fetch_result e = fetch(ctx, put);
  BOOST_TEST(e.resp.body.substr(0, 9) == "PUT /echo");
  BOOST_TEST(e.resp.body.find("\n\nfrom a file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_body_file_fails_before_sending) {
  request req(url("/hash"));
  req.set_body_file("/nonexistent/boost_curl_no_such_file");
  fetch_result r = fetch(ctx, req);
  BOOST_TEST((r.ec == boost::system::errc::no_such_file_or_directory));
  BOOST_TEST(origin.requests_served() == 0u);
}

BOOST_AUTO_TEST_CASE(progress_is_reported_throttled_and_last_before_the_handler) {
  std::vector<transfer_progress> seen;
  bool handler_ran = false, called_after_handler = false;
  request req(url("/slow-body/10/100"));  // 10 000 bytes over about 1 s
  req.on_progress = [&](const transfer_progress& p) {
    if (handler_ran) called_after_handler = true;
    seen.push_back(p);
  };
  async_fetch(ctx, req, [&](error_code ec, response r) {
    BOOST_TEST(!ec);
    BOOST_TEST(r.body.size() == 10000u);
    handler_ran = true;
  });
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(handler_ran);
  BOOST_TEST(!called_after_handler);
  BOOST_TEST_MESSAGE("progress: " << seen.size() << " calls over about 1 s");
  BOOST_TEST(seen.size() >= 2u);
  BOOST_TEST(seen.size() <= 15u);  // about ten a second, plus the last
  for (std::size_t i = 1; i < seen.size(); ++i) BOOST_TEST(seen[i].downloaded >= seen[i - 1].downloaded);
  BOOST_TEST_REQUIRE(!seen.empty());
  BOOST_TEST(seen.back().downloaded == 10000u);
  BOOST_TEST(seen.back().download_total == 10000u);
}

BOOST_AUTO_TEST_CASE(cancelling_from_inside_progress) {
  asio::cancellation_signal signal;
  int calls = 0;
  fetch_result r;
  request req(url("/slow-body/20/100"));
  req.on_progress = [&](const transfer_progress& p) {
    if (++calls == 1 || p.downloaded > 0) signal.emit(asio::cancellation_type::terminal);
  };
  async_fetch(ctx, req, asio::bind_cancellation_slot(signal.slot(), record(r)));
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(r.done);
  BOOST_TEST(r.calls == 1);
  BOOST_TEST((r.ec == asio::error::operation_aborted));
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(streamed_request_bodies, origin_fixture)

// A body of unknown length, produced as the program goes (slowly at times): sent chunked,
// the transfer's sending paused while the producer has nothing and resumed by its writes.
BOOST_AUTO_TEST_CASE(a_chunked_upload_of_unknown_length) {
  std::optional<error_code> open_ec;
  std::string answer;
  std::string expected;
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    request req(url("/hash"));
    req.streamed_body = true;
    s.async_open(req, [&](error_code ec, response head) {
      open_ec = ec;
      BOOST_TEST(head.status_code() == 200u);
    });
    tools::detail::sha256_digest digest;
    std::uint64_t total = 0;
    asio::steady_timer pause(ctx);
    for (int i = 0; i < 12; ++i) {
      std::string piece(static_cast<std::size_t>(1000 + i * 97531), static_cast<char>('a' + i));
      co_await asio::async_write(s, asio::buffer(piece), use_awaitable);
      digest.update(piece);
      total += piece.size();
      if (i % 4 == 3) {  // a slow producer: nothing to send for a while
        pause.expires_after(150ms);
        co_await pause.async_wait(use_awaitable);
      }
    }
    s.finish_body();
    auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(answer), asio::as_tuple(use_awaitable));
    BOOST_TEST((ec == asio::error::eof));
    expected = "size=" + std::to_string(total) + " sha256=" + digest.hex();
    // Writing after the end of the body is refused.
    auto [wec, wn] = co_await s.async_write_some(asio::buffer("late", 4), asio::as_tuple(use_awaitable));
    BOOST_TEST((wec == asio::error::shut_down));
  });
  BOOST_TEST_REQUIRE(open_ec.has_value());
  BOOST_TEST(!*open_ec);
  BOOST_TEST(answer == expected);
}

BOOST_AUTO_TEST_CASE(a_streamed_body_needs_a_stream) {
  request req(url("/hash"));
  req.streamed_body = true;
  fetch_result r = fetch(ctx, req);
  BOOST_TEST((r.ec == error::invalid_request));
  BOOST_TEST(origin.requests_served() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(stream_object, origin_fixture)

// Like an Asio I/O object: movable (the exchange goes with it), and with `deferred` nothing
// starts before the operation is launched.
BOOST_AUTO_TEST_CASE(moved_streams_and_deferred_opens) {
  stream first(ctx);
  auto open = first.async_open(request(url("/bytes/5000")), asio::deferred);
  ctx.run_for(100ms);
  BOOST_TEST(origin.requests_served() == 0u);  // not launched yet
  std::optional<error_code> opened;
  std::move(open)([&](error_code ec, response) { opened = ec; });
  ctx.restart();
  ctx.run_for(50ms);
  stream second(std::move(first));
  stream third(ctx);
  third = std::move(second);
  // The moved-from streams are like new ones: reads and writes say not_connected.
  std::array<char, 10> scratch{};
  std::vector<error_code> moved_from;
  first.async_read_some(asio::buffer(scratch), [&](error_code ec, std::size_t) { moved_from.push_back(ec); });
  second.async_write_some(asio::buffer(scratch), [&](error_code ec, std::size_t) { moved_from.push_back(ec); });
  std::string body;
  error_code end;
  asio::async_read(third, asio::dynamic_buffer(body), [&](error_code ec, std::size_t) { end = ec; });
  run_bounded(ctx);
  BOOST_TEST_REQUIRE(moved_from.size() == 2u);
  BOOST_TEST((moved_from[0] == asio::error::not_connected));
  BOOST_TEST((moved_from[1] == asio::error::not_connected));
  BOOST_TEST_REQUIRE(opened.has_value());
  BOOST_TEST(!*opened);
  BOOST_TEST((end == asio::error::eof));
  BOOST_TEST(body.size() == 5000u);
  BOOST_TEST(has_origin_pattern(body));
  // ...and can be opened again.
  error_code reopened = asio::error::would_block, again_end;
  std::string again;
  first.async_open(request(url("/bytes/10")), [&](error_code ec, response) { reopened = ec; });
  asio::async_read(first, asio::dynamic_buffer(again), [&](error_code ec, std::size_t) { again_end = ec; });
  run_bounded(ctx);
  BOOST_TEST(!reopened);
  BOOST_TEST((again_end == asio::error::eof));
  BOOST_TEST(again.size() == 10u);
}

// A streamed body with "Expect: 100-continue": libcurl waits for the server's go-ahead.
BOOST_AUTO_TEST_CASE(a_streamed_body_with_expect_100_continue) {
  std::string answer;
  run_coroutine(ctx, [&]() -> awaitable<void> {
    stream s(ctx);
    request req(url("/hash"));
    req.streamed_body = true;
    req.headers.set(http::field::expect, "100-continue");
    s.async_open(req, asio::detached);
    const std::string piece(300000, 'z');
    co_await asio::async_write(s, asio::buffer(piece), use_awaitable);
    s.finish_body();
    co_await asio::async_read(s, asio::dynamic_buffer(answer), asio::as_tuple(use_awaitable));
  });
  tools::detail::sha256_digest digest;
  digest.update(std::string(300000, 'z'));
  BOOST_TEST(answer == "size=300000 sha256=" + digest.hex());
}

BOOST_AUTO_TEST_SUITE_END()
