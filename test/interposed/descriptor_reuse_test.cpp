// Descriptor numbers reused on purpose. libcurl 7.88 closes some sockets without calling
// CLOSESOCKETFUNCTION: a connect that times out, a transfer removed while connecting, the
// loser of a happy-eyeballs race. The kernel hands the freed number to the next file opened
// anywhere in the process. This program interposes close() to make that reuse certain: right
// after a TCP socket is closed, it opens a pipe (which gets the same number) and waits on it
// with Asio on the same io_context, as an application's own I/O would. The engine must never
// touch that number again: the pipe's wait must complete, and the engine's count of open
// sockets must stay exact.
//
// It also interposes getaddrinfo(), so that one test name resolves to both ::1 and 127.0.0.1
// (a happy-eyeballs race) without touching the system's configuration.

#define BOOST_TEST_MODULE boost_curl_interposed
#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

using namespace boost_curl;
using namespace boost_curl::test;

namespace {

// Set by a test: called (once) right after the next TCP socket is closed, with its number.
std::atomic<bool> reuse_armed{false};
std::function<void(int)> on_tcp_socket_closed;

bool is_tcp_socket(int fd) noexcept {
  int domain = 0, type = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return false;
  len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return false;
  return (domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM;
}

// The name the getaddrinfo() interposer answers with ::1 first, then 127.0.0.1.
constexpr const char* dual_stack_name = "dual-stack.test";

}  // namespace

extern "C" int close(int fd) {
  using close_fn = int (*)(int);
  static const auto real_close = reinterpret_cast<close_fn>(::dlsym(RTLD_NEXT, "close"));
  const bool watched = reuse_armed.load() && is_tcp_socket(fd);
  const int rc = real_close(fd);
  if (watched && rc == 0 && reuse_armed.exchange(false)) on_tcp_socket_closed(fd);
  return rc;
}

extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                           struct addrinfo** res) {
  using getaddrinfo_fn = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  static const auto real = reinterpret_cast<getaddrinfo_fn>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  if (!node || std::strcmp(node, dual_stack_name) != 0) return real(node, service, hints, res);
  // Two numeric lookups, chained: freeaddrinfo() frees node by node, so the joined list is
  // freed correctly.
  struct addrinfo numeric = hints ? *hints : addrinfo{};
  numeric.ai_flags |= AI_NUMERICHOST;
  numeric.ai_family = AF_UNSPEC;
  struct addrinfo *v6 = nullptr, *v4 = nullptr;
  if (int rc = real("::1", service, &numeric, &v6); rc != 0) return rc;
  if (int rc = real("127.0.0.1", service, &numeric, &v4); rc != 0) {
    ::freeaddrinfo(v6);
    return rc;
  }
  struct addrinfo* last = v6;
  while (last->ai_next) last = last->ai_next;
  last->ai_next = v4;
  *res = v6;
  return 0;
}

namespace {

// A pipe that takes over a number the moment it is freed, and waits for readability on the
// test's io_context.
struct number_thief {
  asio::io_context& ctx;
  int stolen = -1;     // the reused number, or -1 if the pipe got another one
  // Another thread (the origin's, accepting) opened a file in the instant between the close and
  // the pipe, and got the number: the pipe is given up and the next close is watched instead.
  int races_lost = 0;
  int write_end = -1;
  std::optional<asio::posix::stream_descriptor> read_end;
  bool readable = false;

  explicit number_thief(asio::io_context& c) : ctx(c) {
    on_tcp_socket_closed = [this](int fd) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return;
      if (p[0] != fd && ::fcntl(fd, F_GETFD) != -1) {
        ++races_lost;
        ::close(p[0]);
        ::close(p[1]);
        reuse_armed = true;
        return;
      }
      write_end = p[1];
      read_end.emplace(ctx, p[0]);  // registers with the reactor: epoll_ctl(ADD)
      read_end->async_wait(asio::posix::stream_descriptor::wait_read, [this](error_code ec) { readable = !ec; });
      if (p[0] == fd) stolen = fd;
    };
    reuse_armed = true;
  }
  ~number_thief() {
    reuse_armed = false;
    on_tcp_socket_closed = nullptr;
    if (write_end >= 0) ::close(write_end);
  }

  // Writes to the pipe and runs ctx until the wait completed (bounded).
  bool still_watched() {
    if (write_end < 0 || !read_end) return false;
    const char byte = 'x';
    if (::write(write_end, &byte, 1) != 1) return false;
    ctx.restart();
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (!readable && std::chrono::steady_clock::now() < deadline) ctx.run_one_for(100ms);
    return readable;
  }
};

// A listener whose accept queue is full: connects to it neither complete nor fail (SYNs are
// dropped), until a timeout.
struct black_hole {
  int listener = -1;
  std::vector<int> fillers;
  unsigned short port = 0;

  explicit black_hole(int family = AF_INET, unsigned short wanted_port = 0) {
    listener = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(listener >= 0);
    sockaddr_storage address{};
    socklen_t length = 0;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&address);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a->sin_port = htons(wanted_port);
      length = sizeof *a;
    } else {
      const int on = 1;
      ::setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
      auto* a = reinterpret_cast<sockaddr_in6*>(&address);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      a->sin6_port = htons(wanted_port);
      length = sizeof *a;
    }
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(listener, 0) != 0) {
      ::close(listener);
      listener = -1;
      return;
    }
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&address)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    for (int i = 0; i < 4; ++i) {  // fill the accept queue
      int c = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&address), length);
      fillers.push_back(c);
    }
    ::usleep(50000);
  }
  ~black_hole() {
    for (int c : fillers) ::close(c);
    if (listener >= 0) ::close(listener);
  }
  bool ok() const { return listener >= 0; }
};

// Runs ctx until `done()` (bounded): the pipe's pending wait keeps the context from running
// out of work by itself.
template <class Done>
void run_until(asio::io_context& ctx, Done done) {
  ctx.restart();
  const auto deadline = std::chrono::steady_clock::now() + run_limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) ctx.run_one_for(100ms);
}

fetch_result fetch_until_done(asio::io_context& ctx, request req) {
  fetch_result r;
  async_fetch(ctx, std::move(req), record(r));
  run_until(ctx, [&] { return r.done; });
  BOOST_TEST_REQUIRE(r.done);
  return r;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(descriptor_reuse, origin_fixture)

// libcurl closes a socket whose connect timed out inside curl_multi_socket_action, without
// the close callback; the pipe gets its number and is registered with the same reactor.
BOOST_AUTO_TEST_CASE(connect_timeout_closes_silently) {
  black_hole hole;
  BOOST_TEST_REQUIRE(hole.ok());
  number_thief thief(ctx);
  request req("http://127.0.0.1:" + std::to_string(hole.port) + "/");
  req.connect_timeout = 300ms;
  fetch_result r = fetch_until_done(ctx, std::move(req));
  BOOST_TEST((r.ec == condition::timeout));
  BOOST_TEST_REQUIRE(thief.stolen >= 0, "the pipe did not get the closed socket's number");
  BOOST_TEST(thief.still_watched());
  BOOST_TEST(service().open_sockets() == 0u);
  BOOST_TEST(fetch_until_done(ctx, request(url("/bytes/3"))).resp.body == "012");  // and the engine carries on
  BOOST_TEST(service().open_sockets() == 1u);
}

// A transfer removed (cancelled) while connecting: libcurl closes the socket inside
// curl_multi_remove_handle, again without the close callback.
BOOST_AUTO_TEST_CASE(cancelled_while_connecting) {
  black_hole hole;
  BOOST_TEST_REQUIRE(hole.ok());
  number_thief thief(ctx);
  asio::cancellation_signal signal;
  fetch_result r;
  async_fetch(ctx, request("http://127.0.0.1:" + std::to_string(hole.port) + "/"),
              asio::bind_cancellation_slot(signal.slot(), record(r)));
  asio::steady_timer timer(ctx, 100ms);
  timer.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
  run_until(ctx, [&] { return r.done; });
  BOOST_TEST((r.ec == asio::error::operation_aborted));
  BOOST_TEST_REQUIRE(thief.stolen >= 0);
  BOOST_TEST(thief.still_watched());
  BOOST_TEST(service().open_sockets() == 0u);
}

// A refused connect: libcurl 7.88 closes this one through the callback; the number is reused
// as soon as it is free all the same.
BOOST_AUTO_TEST_CASE(refused_connect) {
  number_thief thief(ctx);
  fetch_result r = fetch_until_done(ctx, request("http://127.0.0.1:" + std::to_string(refused_port()) + "/"));
  BOOST_TEST((r.ec == condition::connect_failed));
  BOOST_TEST_REQUIRE(thief.stolen >= 0);
  BOOST_TEST(thief.still_watched());
  BOOST_TEST(service().open_sockets() == 0u);
}

// Happy eyeballs: the name resolves to ::1 (a black hole) and 127.0.0.1 (the origin). libcurl
// tries ::1, starts 127.0.0.1 200 ms later, which connects; the ::1 socket, still connecting,
// is closed without the callback. The transfer itself goes on and succeeds.
BOOST_AUTO_TEST_CASE(happy_eyeballs_loser_closes_silently) {
  black_hole hole(AF_INET6);
  if (!hole.ok()) {
    BOOST_TEST_MESSAGE("no IPv6 loopback here: skipped");
    return;
  }
  std::optional<tools::loopback_origin> v4;
  try {
    tools::loopback_origin::options options;
    options.port = hole.port;  // same port on both families
    v4.emplace(options);
  } catch (const std::exception& e) {
    BOOST_TEST_MESSAGE("port " << hole.port << " taken on 127.0.0.1: skipped (" << e.what() << ")");
    return;
  }
  number_thief thief(ctx);
  request req("http://" + std::string(dual_stack_name) + ":" + std::to_string(hole.port) + "/bytes/4");
  req.timeout = 5s;
  fetch_result r = fetch_until_done(ctx, std::move(req));
  BOOST_TEST(!r.ec, r.ec.message() << ": " << r.resp.error_message);
  BOOST_TEST(r.resp.body == "0123");
  BOOST_TEST(r.resp.primary_ip == "127.0.0.1");
  BOOST_TEST(service().statistics().sockets_opened == 2u);  // one per family
  if (thief.races_lost != 0 && thief.stolen < 0) {
    // Seen under load (about 1 run in 8 with other tests beside it): not this test's subject.
    BOOST_TEST_MESSAGE("the origin's thread took the loser's number first: its reuse is not exercised this time");
    return;
  }
  BOOST_TEST_REQUIRE(thief.stolen >= 0);
  BOOST_TEST(thief.still_watched());
  BOOST_TEST(service().open_sockets() == 1u);  // the winner, kept for reuse
  // The winner is reused; the loser's number, now the pipe's, is left alone.
  BOOST_TEST(fetch_until_done(ctx, request("http://" + std::string(dual_stack_name) + ":" + std::to_string(hole.port) + "/bytes/2"))
                 .resp.body == "01");
  BOOST_TEST(service().statistics().sockets_opened == 2u);
  BOOST_TEST(thief.still_watched());
}

// Several transfers time out at once on a context run by three threads, while the engine
// keeps serving others: every freed number is taken by a pipe in turn.
BOOST_AUTO_TEST_CASE(timeouts_among_working_transfers_on_three_threads) {
  black_hole hole;
  BOOST_TEST_REQUIRE(hole.ok());
  for (int round = 0; round < 3; ++round) {
    number_thief thief(ctx);
    std::vector<fetch_result> timing_out(4), working(20);
    std::atomic<int> completed{0};
    auto counted = [&completed](fetch_result& r) {
      return [&completed, &r](error_code ec, response resp) {
        record(r)(ec, std::move(resp));
        ++completed;
      };
    };
    for (auto& r : timing_out) {
      request req("http://127.0.0.1:" + std::to_string(hole.port) + "/");
      req.connect_timeout = 200ms;
      async_fetch(ctx, std::move(req), counted(r));
    }
    for (auto& r : working) async_fetch(ctx, request(url("/slow-body/3/100")), counted(r));
    ctx.restart();
    std::atomic<bool> finished{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&] {
        const auto deadline = std::chrono::steady_clock::now() + run_limit;
        while (!finished && std::chrono::steady_clock::now() < deadline) ctx.run_one_for(50ms);
      });
    const int total = int(timing_out.size() + working.size());
    const auto deadline = std::chrono::steady_clock::now() + run_limit;
    while (completed < total && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    finished = true;
    for (auto& t : threads) t.join();
    for (auto& r : timing_out) BOOST_TEST((r.ec == condition::timeout));
    for (auto& r : working) BOOST_TEST(r.resp.body.size() == 3000u);
    BOOST_TEST_REQUIRE(thief.stolen >= 0);
    BOOST_TEST(thief.still_watched());
    BOOST_TEST(service().open_sockets() <= working.size());  // cached connections only
  }
  BOOST_TEST(service().active_transfers() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
