// Fetch from a C++20 coroutine: several requests in sequence on one connection, then two
// at once with awaitable operators.
// usage: example_coroutine [URL]

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> run(std::string url) {
  auto ex = co_await asio::this_coro::executor;
  for (int i = 0; i < 3; ++i) {
    boost_curl::response r = co_await boost_curl::async_fetch(ex, boost_curl::request(url), asio::use_awaitable);
    std::cout << "fetch " << i << ": " << r.status_code() << ", " << r.body.size() << " bytes, connect "
              << r.time.connect.count() << " us\n";  // 0 after the first: the connection is reused
  }
  auto [a, b] = co_await (boost_curl::async_fetch(ex, boost_curl::request(url), asio::use_awaitable) &&
                          boost_curl::async_fetch(ex, boost_curl::request(url), asio::use_awaitable));
  std::cout << "together: " << a.body.size() + b.body.size() << " bytes\n";
}

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  const std::string url = argc > 1 ? argv[1] : origin.url("/bytes/64");
  asio::io_context ctx;
  int exit_code = 0;
  asio::co_spawn(ctx, run(url), [&](std::exception_ptr e) {
    if (!e) return;
    exit_code = 1;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::cerr << "error: " << ex.what() << '\n';
    }
  });
  ctx.run();
  return exit_code;
}
