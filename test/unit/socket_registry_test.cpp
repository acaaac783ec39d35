// socket_registry: the epoll set of libcurl's descriptors, and what it knows of each number,
// driven by hand with real descriptors (no libcurl): silent closes, reused numbers, files kept
// alive elsewhere, idle connections turning readable.

#include <socket_registry.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <curl/curl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

using boost_curl::detail::engine_executor;
using boost_curl::detail::opened_sockets;
using boost_curl::detail::socket_registry;

namespace {

struct registry_fixture {
  boost::asio::io_context ctx;
  socket_registry registry{engine_executor(ctx)};
  socket_registry::ready ready[16];
  bool woken = false;

  std::size_t poll() { return registry.poll(ready, std::size(ready), woken); }
  ~registry_fixture() { registry.close_set(); }
};

struct socket_pair {
  int fd[2] = {-1, -1};
  socket_pair() { BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == 0); }
  ~socket_pair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void send() { BOOST_TEST_REQUIRE(::write(fd[1], "x", 1) == 1); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(socket_registry_tests, registry_fixture)

BOOST_AUTO_TEST_CASE(sockets_it_opens_are_counted_until_closed) {
  const int fd = registry.open(AF_INET, SOCK_STREAM, 0, 7);
  BOOST_TEST_REQUIRE(fd >= 0);
  BOOST_TEST(registry.owned() == 1u);
  BOOST_TEST(registry.opened_total() == 1u);
  BOOST_TEST(registry.close(fd) == 0);
  BOOST_TEST(registry.owned() == 0u);
  BOOST_TEST(::fcntl(fd, F_GETFD) == -1);  // really closed
}

BOOST_AUTO_TEST_CASE(wanted_descriptor_reported_ready_with_its_mask) {
  socket_pair p;
  BOOST_TEST(registry.want(p.fd[0], CURL_POLL_IN));
  BOOST_TEST(registry.foreign_total() == 1u);
  BOOST_TEST(poll() == 0u);
  p.send();
  BOOST_TEST_REQUIRE(poll() == 1u);
  BOOST_TEST(ready[0].fd == p.fd[0]);
  BOOST_TEST(ready[0].mask == CURL_CSELECT_IN);
  BOOST_TEST(registry.still_current(ready[0]));
  BOOST_TEST(poll() == 1u);  // level-triggered: still unread, still ready
  BOOST_TEST(registry.want(p.fd[0], CURL_POLL_INOUT));
  BOOST_TEST_REQUIRE(poll() == 1u);
  BOOST_TEST(ready[0].mask == (CURL_CSELECT_IN | CURL_CSELECT_OUT));
  registry.unwant(p.fd[0]);  // not ours: leaves the set at once
  BOOST_TEST(poll() == 0u);
  BOOST_TEST(!registry.still_current(ready[0]));
}

// An idle connection (ours, unwanted: back in libcurl's cache) that the server closes turns
// readable; it leaves the set instead of waking the engine again and again, and comes back
// when wanted.
BOOST_AUTO_TEST_CASE(idle_connection_turning_ready_leaves_the_set) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  BOOST_TEST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), length) == 0);
  BOOST_TEST_REQUIRE(::listen(listener, 1) == 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);

  const int own = registry.open(AF_INET, SOCK_STREAM, 0, 2);
  BOOST_TEST_REQUIRE(own >= 0);
  BOOST_TEST_REQUIRE(::connect(own, reinterpret_cast<sockaddr*>(&address), length) == 0);
  const int server = ::accept(listener, nullptr, nullptr);
  BOOST_TEST_REQUIRE(server >= 0);
  registry.settle(opened_sockets{own}, 2);  // its transfer is done: a cached connection
  BOOST_TEST(registry.owned() == 1u);

  BOOST_TEST(registry.want(own, CURL_POLL_IN));
  registry.unwant(own);  // back in the connection cache, left in the set
  BOOST_TEST(poll() == 0u);
  ::close(server);  // the server closes it: readable (end of file)
  BOOST_TEST(poll() == 0u);  // reported to nobody, and dropped from the set
  BOOST_TEST(poll() == 0u);
  BOOST_TEST(registry.want(own, CURL_POLL_IN));  // wanted again: back in, and ready
  BOOST_TEST_REQUIRE(poll() == 1u);
  BOOST_TEST(ready[0].fd == own);
  BOOST_TEST(registry.close(own) == 0);
  BOOST_TEST(registry.owned() == 0u);
  ::close(listener);
}

// libcurl closed one of our sockets without the close callback; settle() finds out from the
// file's identity and forgets the number; a socket libcurl kept is confirmed.
BOOST_AUTO_TEST_CASE(settle_forgets_silently_closed_sockets_only) {
  const int gone = registry.open(AF_INET, SOCK_STREAM, 0, 5);
  const int kept = registry.open(AF_INET, SOCK_STREAM, 0, 5);
  const int other = registry.open(AF_INET, SOCK_STREAM, 0, 6);
  BOOST_TEST_REQUIRE((gone >= 0 && kept >= 0 && other >= 0));
  ::close(gone);  // behind the registry's back
  registry.settle(opened_sockets{gone, kept, other}, 5);
  BOOST_TEST(registry.owned() == 2u);  // kept (confirmed) and other (not operation 5's)
  int p[2];
  BOOST_TEST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);  // likely takes `gone`'s number
  registry.clear();  // closes the sockets still ours, never the pipe
  BOOST_TEST(::fcntl(kept, F_GETFD) == -1);
  BOOST_TEST(::fcntl(other, F_GETFD) == -1);
  BOOST_TEST(::fcntl(p[0], F_GETFD) != -1);
  BOOST_TEST(::fcntl(p[1], F_GETFD) != -1);
  ::close(p[0]);
  ::close(p[1]);
}

// Our socket closed behind our back while wanted, its number reused by a descriptor libcurl
// made itself (its resolver's socketpair): the next report of that number adds the new file
// to the set (the old one left it when closed) and counts it as not ours.
BOOST_AUTO_TEST_CASE(reused_number_is_watched_as_the_new_file) {
  const int fd = registry.open(AF_INET, SOCK_STREAM, 0, 3);
  BOOST_TEST_REQUIRE(fd >= 0);
  BOOST_TEST(registry.want(fd, CURL_POLL_OUT));
  ::close(fd);
  socket_pair p;
  BOOST_TEST_REQUIRE(::dup2(p.fd[0], fd) == fd);
  BOOST_TEST(registry.want(fd, CURL_POLL_IN));
  BOOST_TEST(registry.owned() == 0u);
  p.send();
  BOOST_TEST_REQUIRE(poll() == 1u);
  BOOST_TEST(ready[0].fd == fd);
  BOOST_TEST(ready[0].mask == CURL_CSELECT_IN);
  registry.unwant(fd);
  ::close(fd);
}

// The same before libcurl ever reported our socket (a connect that failed at once, closed
// without the callback), the number reused by another transfer's descriptor that libcurl then
// wants: the operation that opened ours leaving must not drop it from the set.
BOOST_AUTO_TEST_CASE(number_reused_before_its_first_report_stays_watched) {
  const int fd = registry.open(AF_INET, SOCK_STREAM, 0, 9);
  BOOST_TEST_REQUIRE(fd >= 0);
  ::close(fd);
  socket_pair p;
  BOOST_TEST_REQUIRE(::dup2(p.fd[0], fd) == fd);
  BOOST_TEST(registry.want(fd, CURL_POLL_IN));
  BOOST_TEST(registry.owned() == 0u);
  registry.settle(opened_sockets{fd}, 9);
  p.send();
  BOOST_TEST_REQUIRE(poll() == 1u);
  BOOST_TEST(ready[0].fd == fd);
  registry.unwant(fd);
  ::close(fd);
}

// Even when the check at the report was missed: settle() keeps a number libcurl still wants
// in the set, as a descriptor that is not ours.
BOOST_AUTO_TEST_CASE(settle_keeps_a_reused_number_that_is_wanted) {
  const int fd = registry.open(AF_INET, SOCK_STREAM, 0, 4);
  BOOST_TEST_REQUIRE(fd >= 0);
  socket_pair p;
  BOOST_TEST(registry.want(fd, CURL_POLL_IN));  // reported while still ours
  BOOST_TEST_REQUIRE(::dup2(p.fd[0], fd) == fd);  // replaced under the same number, no report since
  registry.settle(opened_sockets{fd}, 4);
  BOOST_TEST(registry.owned() == 0u);
  BOOST_TEST(registry.want(fd, CURL_POLL_IN));  // MOD fails (another file): added again
  p.send();
  BOOST_TEST_REQUIRE(poll() == 1u);
  BOOST_TEST(ready[0].fd == fd);
  registry.unwant(fd);
  ::close(fd);
}

// A file still in the set under a number that now names another file (a fork or a dup kept
// it open when its number was closed): no epoll_ctl can reach it. The set is rebuilt rather
// than waking the engine for it forever.
BOOST_AUTO_TEST_CASE(stale_member_is_dropped_by_rebuilding_the_set) {
  socket_pair p;
  const int fd = p.fd[0];
  BOOST_TEST(registry.want(fd, CURL_POLL_IN));
  const int copy = ::dup(fd);  // keeps the file open
  ::close(fd);
  p.fd[0] = -1;
  int q[2];
  BOOST_TEST_REQUIRE(::pipe2(q, O_CLOEXEC) == 0);
  BOOST_TEST_REQUIRE(q[0] == fd);  // the number now names the pipe
  registry.unwant(fd);             // libcurl's REMOVE: the DEL misses (another file)
  p.send();                        // the stale member turns ready
  BOOST_TEST(poll() == 0u);        // not reported; the set is rebuilt without it
  BOOST_TEST(poll() == 0u);
  BOOST_TEST(!woken);
  ::close(copy);
  ::close(q[0]);
  ::close(q[1]);
}

BOOST_AUTO_TEST_CASE(wake_is_reported_once) {
  registry.wake();
  registry.wake();
  BOOST_TEST(poll() == 0u);
  BOOST_TEST(woken);
  BOOST_TEST(poll() == 0u);
  BOOST_TEST(!woken);
}

// A descriptor epoll refuses (a regular file) is reported ready at every wake-up, as poll(2)
// would; one that is not open is reported in error.
BOOST_AUTO_TEST_CASE(unwatchable_descriptors_are_reported_at_wake_up) {
  std::FILE* file = std::tmpfile();
  BOOST_TEST_REQUIRE(file != nullptr);
  const int fd = ::fileno(file);
  BOOST_TEST(!registry.want(fd, CURL_POLL_IN));
  BOOST_TEST(registry.has_unwatchable());
  std::size_t n = registry.take_unwatchable(ready, std::size(ready));
  BOOST_TEST_REQUIRE(n == 1u);
  BOOST_TEST(ready[0].fd == fd);
  BOOST_TEST(ready[0].mask == CURL_CSELECT_IN);
  BOOST_TEST(!registry.has_unwatchable());
  BOOST_TEST(!registry.want(fd, CURL_POLL_IN));
  std::fclose(file);
  n = registry.take_unwatchable(ready, std::size(ready));
  BOOST_TEST_REQUIRE(n == 1u);
  BOOST_TEST(ready[0].mask == CURL_CSELECT_ERR);
  registry.unwant(fd);
}

BOOST_AUTO_TEST_SUITE_END()
