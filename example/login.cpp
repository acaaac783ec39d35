// A login with a cookie, then authenticated calls: the session keeps the cookie the server
// sets and sends it with every later request of the session (and of no other). The API calls
// also carry a bearer token, which never follows a redirect to another host.
// usage: example_login   (uses the embedded loopback origin)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace asio = boost::asio;
namespace http = boost_curl::http;

asio::awaitable<int> run(std::string base) {
  boost_curl::session user(co_await asio::this_coro::executor);

  // 1. Log in: the server answers with Set-Cookie (here: the origin's /cookie/set).
  boost_curl::request login = user.make_request(http::verb::post, base + "/cookie/set?sid=s3cr3t;Path=/");
  login.set_form({{"user", "ann"}, {"password", "correct horse"}});
  boost_curl::response r = co_await user.async_fetch(std::move(login), asio::use_awaitable);
  std::cout << "login: " << r.status_code() << '\n';

  // 2. Authenticated calls: the cookie goes with each; the token too.
  user.defaults().auth = boost_curl::authentication::bearer("t0ken");
  boost_curl::response me = co_await user.async_get(base + "/cookie/get", asio::use_awaitable);
  std::cout << "the server saw the cookie: " << me.body << '\n';
  boost_curl::response api = co_await user.async_get(base + "/auth/bearer/t0ken", asio::use_awaitable);
  std::cout << "api: " << api.status_code() << ' ' << api.body << '\n';

  for (const boost_curl::cookie& c : user.cookies()) std::cout << "jar: " << c.name << " for " << c.domain << '\n';
  co_return me.body == "sid=s3cr3t" && api.status_code() == 200 ? 0 : 1;
}

int main() {
  boost_curl::tools::loopback_origin origin;
  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, run(origin.url("")), [&](std::exception_ptr e, int s) { status = e ? 1 : s; });
  ctx.run();
  return status;
}
