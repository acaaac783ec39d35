// Fetch from a stackful coroutine (asio::spawn / yield_context), errors by error_code.
// usage: example_spawn [URL]

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/spawn.hpp>

#include <iostream>

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  const std::string url = argc > 1 ? argv[1] : origin.url("/bytes/64");
  boost::asio::io_context ctx;
  int exit_code = 1;
  boost::asio::spawn(
      ctx,
      [&](boost::asio::yield_context yield) {
        boost_curl::error_code ec;
        boost_curl::request req(boost_curl::http::verb::post, url);
        req.body = "hello";
        boost_curl::response r = boost_curl::async_fetch(ctx, std::move(req), yield[ec]);
        if (ec) {
          std::cerr << "error: " << ec.message() << '\n';
          return;
        }
        std::cout << r.status_code() << ' ' << r.body.size() << " bytes\n";
        exit_code = 0;
      },
      boost::asio::detached);
  ctx.run();
  return exit_code;
}
