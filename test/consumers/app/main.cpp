// The consumer program shared by every consumption proof (find_package, add_subdirectory,
// FetchContent, pkg-config, Conan test_package). It only uses the public API, talks to its
// own loopback server (no network), and is bounded in time so it can never hang a CI run.
#include <boost_curl.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// JSON, so the program also links what response::json() needs (Boost.JSON).
constexpr char body[] = R"({"hello":"from the loopback server"})";
const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(sizeof body - 1) + "\r\n\r\n" + body;

// Answers every request on a connection with `reply`, keeping the connection open (GETs only:
// a request ends at the blank line).
asio::awaitable<void> serve(tcp::socket s) {
  std::string buf;
  try {
    for (;;) {
      std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", asio::use_awaitable);
      buf.erase(0, n);
      co_await asio::async_write(s, asio::buffer(reply), asio::use_awaitable);
    }
  } catch (const std::exception&) {
    // peer closed the connection
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;)
    asio::co_spawn(acceptor.get_executor(), serve(co_await acceptor.async_accept(asio::use_awaitable)),
                   asio::detached);
}

bool check(const char* how, boost::system::error_code ec, const boost_curl::response& r) {
  boost::system::error_code json_ec;
  const boost::json::value v = r.json(json_ec);
  bool ok = !ec && r.status_code() == 200 && r.body == body && !json_ec && v.is_object() &&
            v.as_object().contains("hello") && v.at("hello") == "from the loopback server";
  if (!ok)
    std::cerr << how << ": error '" << ec.message() << "' (" << r.error_message << "), status " << r.status_code()
              << ", body '" << r.body << "'\n";
  return ok;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;

  // The server: its own io_context and thread, on 127.0.0.1 with a port chosen by the system.
  asio::io_context server_ctx;
  tcp::acceptor acceptor(server_ctx, {asio::ip::make_address("127.0.0.1"), 0});
  asio::co_spawn(server_ctx, listen(acceptor), asio::detached);
  std::thread server([&] { server_ctx.run_for(30s); });
  const std::string url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/hello";

  asio::io_context ctx;
  int passed = 0;

  // 1. A C++20 coroutine; when it is done, 2. a plain callback (which reuses the connection).
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto [ec, r] = co_await boost_curl::async_fetch(co_await asio::this_coro::executor, boost_curl::request(url),
                                                        asio::as_tuple(asio::use_awaitable));
        passed += check("coroutine", ec, r);
      },
      [&](std::exception_ptr e) {
        if (e) return;
        boost_curl::request req(url);
        req.add_query("q", "a b+c");  // percent-encoded by Boost.URL inside the library
        req.timeout = 10s;
        boost_curl::async_fetch(ctx, std::move(req), [&](boost::system::error_code ec, boost_curl::response r) {
          passed += check("callback", ec, r);
          ctx.stop();
        });
      });
  ctx.run_for(20s);

  server_ctx.stop();
  server.join();
  if (passed != 2) {
    std::cerr << "consumer FAILED: " << passed << " of 2 fetches passed\n";
    return 1;
  }
  std::cout << "consumer ok\n";
  return 0;
}
