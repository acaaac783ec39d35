// Two uploads of a file, each read from disk while it is sent (never loaded whole): a
// multipart form (the file, a field and an in-memory part), then the file alone as a PUT body
// (request::set_body_file, its size as Content-Length).
// usage: example_upload [FILE]   (default: a file made for the occasion; the embedded origin's
// /multipart route answers with the size and SHA-256 of every part it received, /hash with
// those of the whole body)

#include <boost_curl.hpp>
#include <origin/loopback_origin.hpp>

#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace asio = boost::asio;

int main(int argc, char** argv) {
  boost_curl::tools::loopback_origin origin;
  std::filesystem::path file;
  bool made = false;
  if (argc > 1) {
    file = argv[1];
  } else {
    file = std::filesystem::temp_directory_path() / ("example_upload_" + std::to_string(::getpid()) + ".txt");
    std::ofstream(file) << std::string(1 << 20, 'x');
    made = true;
  }

  boost_curl::multipart_form form;
  form.add_field("title", "quarterly report")
      .add_file("document", file, "text/plain")
      .add_data("summary", "summary.txt", "short and sweet", "text/plain");
  boost_curl::request req(origin.url("/multipart"));
  req.set_multipart(std::move(form));

  asio::io_context ctx;
  int status = 1;
  boost_curl::async_fetch(ctx, std::move(req), [&](boost_curl::error_code ec, boost_curl::response r) {
    if (ec) {
      std::cerr << "upload failed: " << ec.message() << " (" << r.error_message << ")\n";
      return;
    }
    std::cout << "the server received:\n" << r.body;
    if (r.body.find("complete") == std::string::npos) return;

    // The same file as the whole body of a PUT.
    boost_curl::request put(origin.url("/hash"));
    put.method = boost_curl::http::verb::put;
    put.set_body_file(file);
    boost_curl::async_fetch(ctx, std::move(put), [&](boost_curl::error_code ec2, boost_curl::response r2) {
      if (ec2) {
        std::cerr << "PUT failed: " << ec2.message() << " (" << r2.error_message << ")\n";
        return;
      }
      std::cout << "PUT " << std::filesystem::file_size(file) << " bytes; the server received: " << r2.body << "\n";
      status = r2.body.rfind("size=" + std::to_string(std::filesystem::file_size(file)) + " ", 0) == 0 ? 0 : 1;
    });
  });
  ctx.run();
  if (made) std::filesystem::remove(file);
  return status;
}
