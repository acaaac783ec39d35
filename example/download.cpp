// A download to a file with a progress bar: the body goes to disk as it arrives (never whole
// in memory), under a temporary name until it is complete.
// usage: example_download [URL FILE]   (default: 64 MiB from the embedded loopback origin)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace asio = boost::asio;

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  const std::string url = argc > 2 ? argv[1] : origin.url("/bytes/67108864");
  const std::filesystem::path file =
      argc > 2 ? std::filesystem::path(argv[2])
               : std::filesystem::temp_directory_path() / ("example_download_" + std::to_string(::getpid()) + ".bin");

  boost_curl::request req(url);
  req.max_body_size = 0;  // the file's limit: none
  req.on_progress = [](const boost_curl::transfer_progress& p) {
    if (p.download_total == 0) {  // no Content-Length: bytes so far
      std::fprintf(stderr, "\r%llu bytes", static_cast<unsigned long long>(p.downloaded));
      return;
    }
    const int width = 40, done = static_cast<int>(width * p.downloaded / p.download_total);
    std::fprintf(stderr, "\r[%.*s%*s] %3d%%", done, "########################################", width - done, "",
                 static_cast<int>(100 * p.downloaded / p.download_total));
  };

  asio::io_context ctx;
  int status = 1;
  boost_curl::async_download(ctx, std::move(req), file, [&](boost_curl::error_code ec, boost_curl::response r) {
    std::fprintf(stderr, "\n");
    if (ec) {
      std::cerr << "download failed: " << ec.message() << " (" << r.error_message << ")\n";
      return;
    }
    std::cout << std::filesystem::file_size(file) << " bytes saved to " << file.string() << " in "
              << r.time.total.count() / 1000 << " ms\n";
    status = 0;
  });
  ctx.run();
  if (argc <= 2) std::filesystem::remove(file);
  return status;
}
