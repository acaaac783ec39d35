// Fetch with a plain callback.
// usage: example_callback [URL]   (no URL: fetches from an embedded loopback origin)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  const std::string url = argc > 1 ? argv[1] : origin.url("/bytes/64");

  boost::asio::io_context ctx;
  int exit_code = 1;
  boost_curl::request req(url);
  req.timeout = std::chrono::seconds(10);
  boost_curl::async_fetch(ctx, std::move(req), [&](boost_curl::error_code ec, boost_curl::response resp) {
    if (ec) {
      std::cerr << "error: " << ec.message() << " (" << resp.error_message << ")\n";
      return;
    }
    std::cout << resp.status_code() << ' ' << resp.body.size() << " bytes from " << resp.effective_url << '\n';
    exit_code = 0;
  });
  ctx.run();
  return exit_code;
}
