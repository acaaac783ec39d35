// A session: cookies kept between requests, default fields, make_request from a template.
// A C++20 coroutine logs in (the server sets a cookie) and then reads a page that needs it.
// usage: example_session [BASE_URL]   (the embedded origin's /cookie routes by default)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace asio = boost::asio;
namespace http = boost_curl::http;

asio::awaitable<int> visit(boost_curl::session& s, std::string base) {
  // The login answer sets a cookie: the session's jar keeps it...
  boost_curl::response login = co_await s.async_fetch(s.make_request(http::verb::get, base + "/cookie/set?sid=s3cr3t"),
                                                       asio::use_awaitable);
  std::cout << "login: " << login.status_code() << ", Set-Cookie: " << login.headers[http::field::set_cookie] << '\n';

  // ... and sends it with every later request of the session (and only of this session).
  boost_curl::response page = co_await s.async_fetch(s.make_request(http::verb::get, base + "/cookie/get"),
                                                      asio::use_awaitable);
  std::cout << "the server saw the cookie: " << page.body << '\n';

  for (const boost_curl::cookie& c : s.cookies()) std::cout << "jar: " << c.name << "=" << c.value << " for " << c.domain << '\n';
  co_return page.body == "sid=s3cr3t" ? 0 : 1;
}

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  std::string base = argc > 1 ? argv[1] : origin.url("");
  if (!base.empty() && base.back() == '/') base.pop_back();

  asio::io_context ctx;
  boost_curl::session s(ctx);
  s.defaults().headers.set(http::field::user_agent, "boost_curl-example/1");  // added to every request
  s.defaults().timeout = std::chrono::seconds(10);                            // copied by make_request

  int exit_code = 1;
  asio::co_spawn(ctx, visit(s, base), [&](std::exception_ptr e, int rc) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "error: " << ex.what() << '\n';
      }
      return;
    }
    exit_code = rc;
  });
  ctx.run();
  return exit_code;
}
