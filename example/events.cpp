// Server-sent events read line by line from a stream (an Asio AsyncReadStream), with a
// coroutine: each event is handled as it arrives; the body is never held whole.
// usage: example_events [URL]   (default: five events from the embedded loopback origin)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace asio = boost::asio;

asio::awaitable<int> follow(std::string url) {
  boost_curl::stream events(co_await asio::this_coro::executor);
  boost_curl::response head = co_await events.async_open(boost_curl::request(url), asio::use_awaitable);
  std::cout << "status " << head.status_code() << ", " << head.headers["Content-Type"] << "\n";
  std::string pending;
  int count = 0;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(events, asio::dynamic_buffer(pending), "\n\n",
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof) break;
    if (ec) {
      std::cerr << "stream failed: " << ec.message() << "\n";
      co_return 1;
    }
    std::cout << "event: " << pending.substr(0, n - 2) << "\n";
    pending.erase(0, n);
    ++count;
  }
  std::cout << count << " events\n";
  co_return count > 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, follow(argc > 1 ? argv[1] : origin.url("/events/5/50")), [&](std::exception_ptr e, int s) {
    status = e ? 1 : s;
  });
  ctx.run();
  return status;
}
