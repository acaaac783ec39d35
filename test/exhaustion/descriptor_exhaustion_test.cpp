// Running out of descriptors: with RLIMIT_NOFILE lowered to 64, 1 000 concurrent fetches either
// succeed or fail with an error that says so (equal to errc::too_many_files_open, a message
// naming it), never "could not connect"; and once descriptors are free again the service serves
// normally. The origin runs in a child process (forked before any thread exists), so its own
// descriptors are not counted against the limit.

#define BOOST_TEST_MODULE boost_curl_descriptor_exhaustion
#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

using namespace boost_curl;
namespace asio = boost::asio;
namespace errc = boost::system::errc;
using namespace std::chrono_literals;

namespace {

// The loopback origin in a child process, until destroyed.
struct forked_origin {
  pid_t child = -1;
  unsigned short port = 0;
  forked_origin() {
    int ready[2], stop[2];
    BOOST_TEST_REQUIRE(::pipe(ready) == 0);
    BOOST_TEST_REQUIRE(::pipe(stop) == 0);
    child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
      ::close(ready[0]);
      ::close(stop[1]);
      {
        tools::loopback_origin origin;
        const unsigned short p = origin.port();
        (void)!::write(ready[1], &p, sizeof p);
        char c;
        (void)!::read(stop[0], &c, 1);  // returns when the parent closes its end
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(stop[0]);
    stop_fd = stop[1];
    BOOST_TEST_REQUIRE(::read(ready[0], &port, sizeof port) == ssize_t(sizeof port));
    ::close(ready[0]);
  }
  ~forked_origin() {
    ::close(stop_fd);
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  int stop_fd = -1;
};

}  // namespace

BOOST_AUTO_TEST_CASE(out_of_descriptors_is_reported_as_such_and_recovered_from) {
  forked_origin origin;
  asio::io_context ctx;
  // Warm up before lowering the limit: the first fetch must not be the one that runs out,
  // and UBSan's vptr check calls pipe() the first time it meets a type (and reports a bad vptr
  // when that fails with EMFILE): meet the error types here, and assert nothing (Boost.Test's
  // message types are new to it at each assertion) until the limit is back up.
  {
    bool ok = false;
    async_fetch(ctx, request(origin.url("/bytes/1")), [&](error_code ec, response) { ok = !ec; });
    ctx.run_for(10s);
    BOOST_TEST_REQUIRE(ok);
    const error_code emfile(EMFILE, boost::system::system_category());
    BOOST_TEST_REQUIRE((emfile == errc::too_many_files_open));
    BOOST_TEST_REQUIRE(!emfile.message().empty());
    BOOST_TEST_REQUIRE(!make_error_code(error::body_too_large).message().empty());
  }
  rlimit old{};
  BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  rlimit low = old;
  low.rlim_cur = 64;
  const bool lowered = ::setrlimit(RLIMIT_NOFILE, &low) == 0;

  constexpr int n = 1000;
  int ok = 0, exhausted = 0, other = 0;
  std::string other_message;
  for (int i = 0; i < n; ++i)
    async_fetch(ctx, request(origin.url("/delay/100")), [&](error_code ec, response r) {
      if (!ec) {
        ++ok;
      } else if (ec == errc::too_many_files_open && r.error_message.find("open files") != std::string::npos) {
        ++exhausted;
      } else {
        ++other;
        other_message = ec.message() + ": " + r.error_message;
      }
    });
  ctx.restart();
  ctx.run_for(60s);

  // Still at the low limit: descriptors are free again, and the service serves normally.
  int later = 0;
  for (int i = 0; i < 20; ++i)
    async_fetch(ctx, request(origin.url("/bytes/10")), [&](error_code ec, response r) { later += !ec && r.body.size() == 10; });
  ctx.restart();
  ctx.run_for(30s);
  ::setrlimit(RLIMIT_NOFILE, &old);

  BOOST_TEST_REQUIRE(lowered);
  BOOST_TEST_MESSAGE(ok << " succeeded, " << exhausted << " ran out of descriptors, " << other << " other");
  BOOST_TEST(ok + exhausted + other == n);
  BOOST_TEST(exhausted > 0);
  BOOST_TEST(ok > 0);
  BOOST_TEST(other == 0, other_message);
  BOOST_TEST(later == 20);
}
