// Fetch from synchronous code with use_future, the context running on another thread.
// usage: example_future [URL]

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <thread>

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  const std::string url = argc > 1 ? argv[1] : origin.url("/bytes/64");

  boost::asio::io_context ctx;
  auto work = boost::asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run(); });

  int exit_code = 0;
  try {
    // An error completes the future with a boost::system::system_error.
    std::future<boost_curl::response> f = boost_curl::async_fetch(ctx, boost_curl::request(url), boost::asio::use_future);
    boost_curl::response resp = f.get();
    std::cout << resp.status_code() << ' ' << resp.body.size() << " bytes\n";
  } catch (const boost::system::system_error& e) {
    std::cerr << "error: " << e.what() << '\n';
    exit_code = 1;
  }
  work.reset();
  runner.join();
  return exit_code;
}
